package channels

import (
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"

	"github.com/batonhq/baton"
)

// longDigits are digit runs too long to be an error code: people's provider
// ids (Messenger PSIDs, WhatsApp ids) and phone numbers written without
// separators, which the PII redactor keeps because bare digit runs are
// order numbers more often than phone numbers in customer text.
var longDigits = regexp.MustCompile(`[0-9]{8,}`)

// ProviderText makes a provider's free text (an error message, a failure
// reason) fit to be stored and logged: providers echo the recipient's phone
// number or PSID in it. Personal data goes through r, long digit runs
// become [NUMBER]. Without a redactor the text is withheld entirely, so that
// a component wired without one cannot leak.
func ProviderText(r baton.Redactor, text string) string {
	if r == nil || text == "" {
		return ""
	}
	return longDigits.ReplaceAllString(r.Redact(text), "[NUMBER]")
}

// JSONProblem says what is wrong with a JSON body without quoting it:
// encoding/json's errors repeat the offending number literal, and in a
// webhook that may be a card number a customer typed.
func JSONProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "syntax error at byte " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "a value"
		}
		return field + " has the wrong type (want " + typ.Type.String() + ")"
	case errors.Is(err, io.EOF):
		return "empty body"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "body ends before the JSON does"
	}
	return "not decodable"
}
