package baton_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/batonhq/baton"
)

func TestErrorCode(t *testing.T) {
	base := baton.Errorf(baton.ENOTFOUND, "conversation %d not found", 7)
	tests := []struct {
		name    string
		err     error
		code    string
		message string
	}{
		{"nil", nil, "", ""},
		{"plain", io.EOF, baton.EINTERNAL, "internal error"},
		{"domain", base, baton.ENOTFOUND, "conversation 7 not found"},
		{"wrapped", fmt.Errorf("load: %w", base), baton.ENOTFOUND, "conversation 7 not found"},
		{"with cause", baton.Errorf(baton.EINVALID, "bad body: %w", io.ErrUnexpectedEOF), baton.EINVALID, "bad body: unexpected EOF"},
		{"internal hides details", baton.Errorf(baton.EINTERNAL, "driver exploded"), baton.EINTERNAL, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := baton.ErrorCode(tt.err); got != tt.code {
				t.Errorf("ErrorCode = %q, want %q", got, tt.code)
			}
			if got := baton.ErrorMessage(tt.err); got != tt.message {
				t.Errorf("ErrorMessage = %q, want %q", got, tt.message)
			}
		})
	}
	if err := baton.Errorf(baton.EINVALID, "x: %w", io.EOF); !errors.Is(err, io.EOF) {
		t.Errorf("Errorf with %%w does not wrap its cause")
	}
}

func TestErrorTextNeverRepeatsTheCause(t *testing.T) {
	cause := io.ErrUnexpectedEOF
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"Errorf with %w", baton.Errorf(baton.EINVALID, "reading /nope: %w", cause), "reading /nope: unexpected EOF"},
		{"WrapError", baton.WrapError(baton.EUNAVAILABLE, cause, "migrate"), "migrate: unexpected EOF"},
		{"WrapError without message", baton.WrapError(baton.EUNAVAILABLE, cause, ""), "unexpected EOF"},
		{"wrapped twice", fmt.Errorf("open: %w", baton.Errorf(baton.EINVALID, "read: %w", cause)), "open: read: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if !errors.Is(tt.err, cause) {
				t.Errorf("cause lost")
			}
		})
	}
}

func TestHTTPStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{baton.Errorf(baton.ENOTFOUND, "x"), 404},
		{baton.Errorf(baton.EINVALID, "x"), 400},
		{baton.Errorf(baton.EUNAUTHORIZED, "x"), 401},
		{baton.Errorf(baton.EFORBIDDEN, "x"), 403},
		{baton.Errorf(baton.ECONFLICT, "x"), 409},
		{baton.Errorf(baton.ETOOLARGE, "x"), 413},
		{baton.Errorf(baton.EUNAVAILABLE, "x"), 503},
		{baton.Errorf(baton.ERATELIMITED, "x"), 429},
		{baton.Errorf(baton.EINTERNAL, "x"), 500},
		{io.EOF, 500},
		{fmt.Errorf("wrapped: %w", baton.Errorf(baton.ENOTFOUND, "x")), 404},
	}
	for _, tt := range tests {
		t.Run(baton.ErrorCode(tt.err), func(t *testing.T) {
			if got := baton.HTTPStatus(tt.err); got != tt.want {
				t.Errorf("HTTPStatus = %d, want %d", got, tt.want)
			}
		})
	}
}
