package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/limit"
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

// reported is an error whose warning was already logged, aggregated, by
// whoever returned it (failed authentication): handleError logs it at
// debug level only, so that a flood of them is not a flood of lines.
type reported struct{ error }

func (r reported) Unwrap() error { return r.error }

// handleError answers every failed request with a JSON error and logs it
// once: what failed and why, never the request body. A refusal over a
// limit says when to retry and is logged at debug level: the requests
// metric counts the 429s, and one line per refused request is what a
// flood would turn into.
func (s *server) handleError(c *fiber.Ctx, err error) error {
	err = unreadable(err)
	status := Status(err)
	var body baton.ErrorBody
	body.Error.Code, body.Error.Message = codeAndMessage(err, status)
	level := slog.LevelWarn
	var rep reported
	switch {
	case status >= 500:
		level = slog.LevelError
	case body.Error.Code == baton.ERATELIMITED, errors.As(err, &rep):
		level = slog.LevelDebug
	}
	if wait, ok := limit.RetryAfter(err); ok {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(limit.RetryAfterSeconds(wait)))
	}
	s.log.LogAttrs(c.UserContext(), level, "request failed",
		slog.String("method", c.Method()),
		slog.String("path", c.Path()),
		slog.Int("status", status),
		slog.String("code", body.Error.Code),
		slog.String("err", err.Error()))
	if extra := errorDetails(err); extra != nil {
		detail := map[string]any{"code": body.Error.Code, "message": body.Error.Message}
		for k, v := range extra {
			detail[k] = v
		}
		return c.Status(status).JSON(map[string]any{"error": detail})
	}
	return c.Status(status).JSON(body)
}

// unreadable replaces the server's own error for a request it could not
// parse. fasthttp's says which header was wrong by quoting it (and, unless
// told not to, the start of the request): a line pasted into a header can
// carry a token, which must reach neither the answer nor the log.
func unreadable(err error) error {
	var fe *fiber.Error
	if !errors.As(err, &fe) || fe.Code != http.StatusBadRequest {
		return err
	}
	for _, what := range []string{"headers", "body"} {
		if strings.HasPrefix(fe.Message, "error when reading request "+what) {
			return fiber.NewError(http.StatusBadRequest, "malformed HTTP request: its "+what+" could not be read (a header line without a name and a colon, or a value with a line break?)")
		}
	}
	return err
}
