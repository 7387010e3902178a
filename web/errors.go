package web

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/batonhq/baton"
)

// Status maps an error to its HTTP status. It is the one place where domain
// error codes become statuses; fiber's own errors (unknown route, body too
// large, wrong method) keep theirs.
func Status(err error) int {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return baton.HTTPStatus(err)
}

// codeAndMessage is what the client is told: a machine-readable code and a
// message that never carries internal details.
func codeAndMessage(err error, status int) (code, message string) {
	var fe *fiber.Error
	if !errors.As(err, &fe) {
		return baton.ErrorCode(err), baton.ErrorMessage(err)
	}
	switch status {
	case http.StatusNotFound:
		code = baton.ENOTFOUND
	case http.StatusRequestEntityTooLarge:
		return baton.ETOOLARGE, "request body is larger than the 1 MiB limit"
	case http.StatusBadRequest:
		code = baton.EINVALID
	case http.StatusRequestTimeout:
		code = "timeout"
	case http.StatusMethodNotAllowed:
		code = "method_not_allowed"
	default:
		if status >= 500 {
			return baton.EINTERNAL, "internal error"
		}
		code = baton.EINVALID
	}
	return code, fe.Message
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// handleError answers every failed request with a JSON error and logs it
// once: what failed and why, never the request body.
func (s *server) handleError(c *fiber.Ctx, err error) error {
	status := Status(err)
	var body errorBody
	body.Error.Code, body.Error.Message = codeAndMessage(err, status)
	level := s.log.Warn
	if status >= 500 {
		level = s.log.Error
	}
	level("request failed",
		"method", c.Method(),
		"path", c.Path(),
		"status", status,
		"code", body.Error.Code,
		"err", err.Error())
	return c.Status(status).JSON(body)
}
