// Package pii finds personal data in free text (emails, phone numbers,
// payment card numbers, IBANs) and redacts it, so that customer text can be
// sent to an external model or written to a log without leaking it.
package pii

import (
	"regexp"
	"sort"
	"strings"

	"github.com/batonhq/baton"
)

// Span types.
const (
	Email = "email"
	Phone = "phone"
	Card  = "card"
	IBAN  = "iban"
)

// Candidate patterns are deliberately loose; every candidate is then checked
// (Luhn, mod-97, digit counts) so that order numbers and amounts survive.
var (
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	// 13-19 digits, optionally grouped by single spaces or dashes.
	cardRE = regexp.MustCompile(`\b\d(?:[ \-]?\d){12,18}\b`)
	// Country code, check digits, then 11-30 alphanumerics possibly in
	// groups of four separated by spaces.
	ibanRE = regexp.MustCompile(`(?i)\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b`)
	// A leading +, an optional trunk prefix in parentheses, then digit groups
	// separated by spaces, dots, dashes or parentheses.
	phoneRE = regexp.MustCompile(`(?:\+|\b00)?\(?\d{1,4}\)?(?:[ .\-]?\(?\d{1,5}\)?){2,6}\b`)
)

// Find returns the personal data spans in text, ordered by start offset and
// never overlapping. Offsets are byte offsets into text.
func Find(text string) []baton.PIISpan {
	var spans []baton.PIISpan
	add := func(typ string, start, end int) {
		for _, s := range spans {
			if start < s.End && s.Start < end {
				return
			}
		}
		spans = append(spans, baton.PIISpan{Type: typ, Start: start, End: end})
	}
	// Stronger evidence first: a checksum beats a digit count.
	for _, m := range emailRE.FindAllStringIndex(text, -1) {
		add(Email, m[0], m[1])
	}
	for _, m := range cardRE.FindAllStringIndex(text, -1) {
		if luhn(digitsOf(text[m[0]:m[1]])) {
			add(Card, m[0], m[1])
		}
	}
	for _, m := range ibanRE.FindAllStringIndex(text, -1) {
		if start, end, ok := validIBAN(text, m[0], m[1]); ok {
			add(IBAN, start, end)
		}
	}
	for _, m := range phoneRE.FindAllStringIndex(text, -1) {
		if isPhone(text, m[0], m[1]) {
			add(Phone, m[0], m[1])
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].Start < spans[j].Start })
	return spans
}

// Redact replaces every span of personal data with a placeholder naming its
// type (e.g. "[EMAIL]") and returns the new text with the spans found in the
// original text.
func Redact(text string) (string, []baton.PIISpan) {
	spans := Find(text)
	if len(spans) == 0 {
		return text, nil
	}
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for _, s := range spans {
		b.WriteString(text[last:s.Start])
		b.WriteString("[" + strings.ToUpper(s.Type) + "]")
		last = s.End
	}
	b.WriteString(text[last:])
	return b.String(), spans
}

// String redacts text and drops the spans: for log lines.
func String(text string) string {
	s, _ := Redact(text)
	return s
}

// MaskCards replaces every payment card number in text with a mask that
// keeps its last four digits ("•••• 1111"), leaving all other text as it
// is: what the stored transcript, the handoff packet and the bot keep of a
// card a customer pasted.
func MaskCards(text string) string {
	var b strings.Builder
	last := 0
	for _, s := range Find(text) {
		if s.Type != Card {
			continue
		}
		d := digitsOf(text[s.Start:s.End])
		b.WriteString(text[last:s.Start])
		b.WriteString("•••• " + d[len(d)-4:])
		last = s.End
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func luhn(d string) bool {
	if len(d) < 13 || len(d) > 19 {
		return false
	}
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if double {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return sum%10 == 0
}

// ibanLengths are the registry lengths of the countries customers are
// likely to quote; other countries are accepted at any length 15-34 when
// the checksum holds.
var ibanLengths = map[string]int{
	"AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
	"EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28,
	"IE": 22, "IT": 27, "LT": 20, "LU": 20, "LV": 21, "MT": 31, "NL": 18, "NO": 15,
	"PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "TR": 26, "UA": 29,
	"AE": 23, "SA": 24, "RU": 33, "KZ": 20, "AZ": 28, "GE": 22,
}

// validIBAN checks the candidate text[start:end] and, because the pattern
// may swallow a following word, retries shorter prefixes that end on a
// group boundary.
func validIBAN(text string, start, end int) (int, int, bool) {
	for e := end; e > start; e-- {
		if e < len(text) && e != end && text[e] != ' ' {
			continue
		}
		compact := strings.ToUpper(strings.ReplaceAll(text[start:e], " ", ""))
		if ibanChecksum(compact) {
			return start, e, true
		}
	}
	return 0, 0, false
}

func ibanChecksum(s string) bool {
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	if want, ok := ibanLengths[s[:2]]; ok && len(s) != want {
		return false
	}
	rearranged := s[4:] + s[:4]
	rem := 0
	for i := 0; i < len(rearranged); i++ {
		c := rearranged[i]
		switch {
		case c >= '0' && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			rem = (rem*100 + int(c-'A') + 10) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// isPhone accepts a candidate only when it looks like a number someone would
// dial: E.164 (+ and 8-15 digits), an international 00 prefix, a national
// form with a trunk prefix (0 or 8) and 10-11 digits, or 10 digits written
// with separators the way North American numbers are. Bare digit runs
// without separators or prefix are order numbers far more often than phones.
func isPhone(text string, start, end int) bool {
	s := text[start:end]
	d := digitsOf(s)
	// A phone number glued to letters or to a decimal point is part of
	// something else (a code, an amount).
	if start > 0 {
		p := text[start-1]
		if isAlnum(p) || p == '#' || ((p == '.' || p == ',') && start > 1 && isDigit(text[start-2])) {
			return false
		}
	}
	if end < len(text) && (isAlnum(text[end]) || text[end] == '%') {
		return false
	}
	separated := strings.ContainsAny(s, " .-()")
	switch {
	case strings.HasPrefix(s, "+"):
		return len(d) >= 8 && len(d) <= 15
	case strings.HasPrefix(s, "00"):
		return len(d) >= 10 && len(d) <= 17
	case d[0] == '0' || d[0] == '8':
		return len(d) >= 10 && len(d) <= 11 && (separated || len(d) == 11 || d[0] == '0')
	default:
		return separated && len(d) == 10 && !strings.Contains(s, ".")
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
}
