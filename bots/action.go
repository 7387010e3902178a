package bots

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/batonhq/baton"
)

// Action is a declarative HTTP action bound to an intent: the slots it
// needs from the customer, the call it makes and what it answers with the
// result. Adding one takes configuration, no Go code.
type Action struct {
	Name   string
	Intent string
	Slots  []Slot
	// Method, URL, Headers and Body describe the call. URL and Body are
	// templates over {{.slots.NAME}}; slot values are escaped for the URL
	// path and as JSON strings for the body.
	Method  string
	URL     *template.Template
	Headers map[string]string
	Body    *template.Template
	Timeout time.Duration
	// Reply is the answer by language, a template over {{.slots.NAME}} and
	// {{.result...}} (the JSON the call returned).
	Reply map[string]*template.Template
	// NotFound, when set, answers a 404 instead of failing the action.
	NotFound map[string]*template.Template
}

// Slot is one value an action needs.
type Slot struct {
	Name string
	// Entity takes the value from an extracted entity of this type
	// ("order_number", "email", ...), when the message has one.
	Entity string
	// Pattern is what a valid value looks like (anchored); nil accepts any
	// non-empty value.
	Pattern *regexp.Regexp
	// Prompt asks for the value, by language.
	Prompt map[string]string
}

// MaxSlotRetries is how often a slot that did not validate is asked again
// before the action fails.
const MaxSlotRetries = 2

// DefaultActionTimeout bounds an action's call when it sets none.
const DefaultActionTimeout = 5 * time.Second

// maxActionResponse bounds how much of an action's answer is read.
const maxActionResponse = 1 << 20

// Extract finds the slot's value in a customer message: an entity of the
// slot's type, the whole message, or one of its words, whichever first
// matches the pattern. ok is false when there is none.
func (s *Slot) Extract(text string, entities []baton.Entity) (string, bool) {
	var candidates []string
	for _, e := range entities {
		if s.Entity != "" && e.Type == s.Entity {
			candidates = append(candidates, e.Value)
		}
	}
	trimmed := strings.TrimSpace(text)
	if s.Pattern == nil && s.Entity != "" {
		// Without a pattern only the entity says what a value is.
		trimmed = ""
	}
	if trimmed != "" {
		candidates = append(candidates, trimmed)
		for _, w := range strings.Fields(trimmed) {
			candidates = append(candidates, strings.TrimFunc(w, func(r rune) bool { return unicode.IsPunct(r) && r != '-' && r != '_' }))
		}
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if s.Pattern == nil || s.Pattern.MatchString(c) {
			return c, true
		}
	}
	return "", false
}

// ActionResult is what running an action gave.
type ActionResult struct {
	Reply string
	// Status is the HTTP status of the call (0 when it was never answered).
	Status int
}

// ActionRunner makes actions' HTTP calls.
type ActionRunner struct {
	Client *http.Client
}

// Run calls the action with its filled slots and renders the reply in lang
// (the first reply language when lang has none). Every failure (unreachable,
// timeout, a status other than 2xx or a handled 404, a result the reply
// cannot render) is an error with code EUNAVAILABLE or EINVALID; its text
// never carries slot values or the response body.
func (r *ActionRunner) Run(ctx context.Context, a *Action, slots map[string]string, lang string) (ActionResult, error) {
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	pathSlots := map[string]string{}
	jsonSlots := map[string]string{}
	for k, v := range slots {
		pathSlots[k] = url.PathEscape(v)
		b, _ := json.Marshal(v)
		jsonSlots[k] = string(b)
	}
	var u bytes.Buffer
	if err := a.URL.Execute(&u, map[string]any{"slots": pathSlots}); err != nil {
		return ActionResult{}, baton.Errorf(baton.EINVALID, "action %s: url template: %w", a.Name, err)
	}
	var body io.Reader
	if a.Body != nil {
		var b bytes.Buffer
		if err := a.Body.Execute(&b, map[string]any{"slots": jsonSlots}); err != nil {
			return ActionResult{}, baton.Errorf(baton.EINVALID, "action %s: body template: %w", a.Name, err)
		}
		body = &b
	}
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = DefaultActionTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	method := a.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(cctx, method, u.String(), body)
	if err != nil {
		return ActionResult{}, baton.Errorf(baton.EINVALID, "action %s: request: the url is not valid", a.Name)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range a.Headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		if cctx.Err() != nil && ctx.Err() == nil {
			return ActionResult{}, baton.Errorf(baton.EUNAVAILABLE, "action %s: no answer within %s", a.Name, timeout)
		}
		return ActionResult{}, baton.Errorf(baton.EUNAVAILABLE, "action %s: the call failed: %s", a.Name, transportReason(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxActionResponse))
	if err != nil {
		return ActionResult{Status: resp.StatusCode}, baton.Errorf(baton.EUNAVAILABLE, "action %s: reading the answer failed", a.Name)
	}
	replies := a.Reply
	var result any
	switch {
	case resp.StatusCode == http.StatusNotFound && a.NotFound != nil:
		// A "no such order" page is an answer too; its body says nothing
		// the reply needs.
		replies = a.NotFound
		_ = json.Unmarshal(raw, &result)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return ActionResult{Status: resp.StatusCode}, baton.Errorf(baton.EUNAVAILABLE, "action %s: HTTP %d", a.Name, resp.StatusCode)
	case len(bytes.TrimSpace(raw)) > 0:
		if err := json.Unmarshal(raw, &result); err != nil {
			return ActionResult{Status: resp.StatusCode}, baton.Errorf(baton.EINVALID, "action %s: the answer is not JSON", a.Name)
		}
	}
	t := replies[lang]
	if t == nil {
		t = firstTemplate(replies)
	}
	if t == nil {
		return ActionResult{Status: resp.StatusCode}, baton.Errorf(baton.EINVALID, "action %s: no reply template", a.Name)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, map[string]any{"slots": slots, "result": result}); err != nil {
		return ActionResult{Status: resp.StatusCode}, baton.Errorf(baton.EINVALID, "action %s: the answer does not fit the reply template", a.Name)
	}
	reply := strings.TrimSpace(out.String())
	if reply == "" {
		return ActionResult{Status: resp.StatusCode}, baton.Errorf(baton.EINVALID, "action %s: the reply came out empty", a.Name)
	}
	return ActionResult{Reply: reply, Status: resp.StatusCode}, nil
}

// firstTemplate is the template of the alphabetically first language, so
// that the choice does not depend on map order.
func firstTemplate(m map[string]*template.Template) *template.Template {
	best := ""
	for k := range m {
		if best == "" || k < best {
			best = k
		}
	}
	return m[best]
}

// transportReason says why a call got no answer without repeating the URL
// (which may carry a slot value).
func transportReason(err error) string {
	var ue *url.Error
	if e, ok := err.(*url.Error); ok {
		ue = e
		err = ue.Err
	}
	s := err.Error()
	if strings.Contains(s, "connection refused") {
		return "connection refused"
	}
	if strings.Contains(s, "no such host") {
		return "unknown host"
	}
	return fmt.Sprintf("%T", err)
}

// ParseTemplate compiles a reply, URL or body template of an action; a
// missing key is an error when the template runs, so that a reply never
// says "<no value>" to a customer.
func ParseTemplate(name, text string) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, baton.Errorf(baton.EINVALID, "%s: %w", name, err)
	}
	return t, nil
}
