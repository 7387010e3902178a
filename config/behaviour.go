package config

import (
	"fmt"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"
	"text/template"
)

// queueRef is a queue an escalation names, with where it is named.
type queueRef struct{ path, queue string }

func (e Escalation) queueRefs(p string) []queueRef {
	refs := []queueRef{{p + ".queue", e.Queue}}
	for _, t := range e.triggers() {
		refs = append(refs, queueRef{p + "." + t.name + ".queue", t.Queue})
	}
	for i, t := range e.Topics {
		refs = append(refs, queueRef{fmt.Sprintf("%s.topics[%d].queue", p, i), t.Queue})
	}
	for i, a := range e.Attributes {
		refs = append(refs, queueRef{fmt.Sprintf("%s.attributes[%d].queue", p, i), a.Queue})
	}
	return refs
}

type namedTrigger struct {
	name string
	Trigger
	// settings the trigger takes besides off, queue and priority
	threshold, messages, count, similarity bool
}

func (e Escalation) triggers() []namedTrigger {
	return []namedTrigger{
		{name: "wants_human", Trigger: e.WantsHuman},
		{name: "negative_sentiment", Trigger: e.NegativeSentiment, threshold: true},
		{name: "sentiment_trend", Trigger: e.SentimentTrend, threshold: true, messages: true},
		{name: "repeated_failure", Trigger: e.RepeatedFailure, count: true},
		{name: "not_helped", Trigger: e.NotHelped},
		{name: "loop", Trigger: e.Loop, similarity: true},
		{name: "max_turns", Trigger: e.MaxTurns, count: true},
		{name: "action_failed", Trigger: e.ActionFailed},
	}
}

func (v *validator) priority(path, name string) {
	if name == "" {
		return
	}
	if _, ok := PriorityLevel(name); !ok {
		v.add(path, "must be low, normal, high or urgent; got %q", name)
	}
}

// escalation checks the trigger settings: each trigger takes only its own,
// in range.
func (v *validator) escalation(p string, e Escalation) {
	v.priority(p+".priority", e.Priority)
	for _, t := range e.triggers() {
		q := p + "." + t.name
		v.priority(q+".priority", t.Priority)
		if t.name == "wants_human" && t.Off {
			v.add(q+".off", "the escape hatch cannot be turned off: a customer who asks for a person always gets one")
		}
		switch {
		case t.Threshold != nil && !t.threshold:
			v.add(q+".threshold", "not a setting of %s", t.name)
		case t.Threshold != nil && (*t.Threshold < -1 || *t.Threshold > 1):
			v.add(q+".threshold", "must be between -1 and 1, got %g", *t.Threshold)
		}
		switch {
		case t.Messages != 0 && !t.messages:
			v.add(q+".messages", "not a setting of %s", t.name)
		case t.Messages != 0 && t.Messages < 2:
			v.add(q+".messages", "a trend needs at least 2 messages, got %d", t.Messages)
		}
		switch {
		case t.Count != 0 && !t.count:
			v.add(q+".count", "not a setting of %s", t.name)
		case t.Count < 0:
			v.add(q+".count", "must be at least 1, got %d", t.Count)
		}
		switch {
		case t.Similarity != nil && !t.similarity:
			v.add(q+".similarity", "not a setting of %s", t.name)
		case t.Similarity != nil && (*t.Similarity <= 0 || *t.Similarity > 1):
			v.add(q+".similarity", "must be above 0 and at most 1, got %g", *t.Similarity)
		}
	}
	for i, t := range e.Topics {
		q := fmt.Sprintf("%s.topics[%d]", p, i)
		v.required(q+".intent", t.Intent)
		v.priority(q+".priority", t.Priority)
		if c := t.MinConfidence; c != nil && (*c < 0 || *c > 1) {
			v.add(q+".min_confidence", "must be between 0 and 1, got %g", *c)
		}
	}
	for i, a := range e.Attributes {
		q := fmt.Sprintf("%s.attributes[%d]", p, i)
		v.required(q+".key", a.Key)
		v.priority(q+".priority", a.Priority)
	}
	for i, s := range e.Spam.Senders {
		if _, err := path.Match(s, ""); err != nil || strings.TrimSpace(s) == "" {
			v.add(fmt.Sprintf("%s.spam.senders[%d]", p, i), "not a valid sender pattern (path.Match syntax: * ? [...])")
		}
	}
	for i, s := range e.Spam.Patterns {
		if _, err := regexp.Compile(s); err != nil || s == "" {
			v.add(fmt.Sprintf("%s.spam.patterns[%d]", p, i), "not a valid regular expression")
		}
	}
}

// TextNames are the names of the bot's fixed texts (the bot checks that
// each language's texts are complete when it starts).
func TextNames() []string {
	return []string{"greeting", "clarify", "out_of_scope", "dont_know", "other_language", "did_this_help", "yes", "no",
		"sms_choice", "glad_to_help", "escalating", "escalating_closed", "still_waiting", "slot_retry", "action_failed", "sources",
		"not_helped_sorry"}
}

// behaviour checks what the bot says and does: texts, small talk, actions,
// the follow-up and wait-notice intervals.
func (v *validator) behaviour(p string, b Bot) {
	speaks := func(lang string) bool { return slices.Contains(b.Languages, lang) }
	textNames := TextNames()
	// Sorted, so that the problems come in the same order every time.
	for _, lang := range sortedKeys(b.Texts) {
		m := b.Texts[lang]
		if !speaks(lang) {
			v.add(p+".texts."+lang, "not one of the bot's languages")
		}
		for _, k := range sortedKeys(m) {
			t := m[k]
			if !slices.Contains(textNames, k) {
				v.add(p+".texts."+lang+"."+k, "unknown text; the texts are %s", strings.Join(textNames, ", "))
			} else if strings.TrimSpace(t) == "" {
				v.add(p+".texts."+lang+"."+k, "empty")
			}
		}
	}
	for _, intent := range sortedKeys(b.SmallTalk) {
		k := b.SmallTalk[intent]
		if !slices.Contains(textNames, k) {
			v.add(p+".small_talk."+intent, "%q is not a text; the texts are %s", k, strings.Join(textNames, ", "))
		}
	}
	if b.FollowUp != "off" {
		v.duration(p+".follow_up", b.FollowUp, false)
	}
	v.duration(p+".wait_notice", b.WaitNotice, false)
	names := map[string]bool{}
	intents := map[string]bool{}
	def := ""
	if len(b.Languages) > 0 {
		def = b.Languages[0]
	}
	for i, a := range b.Actions {
		q := fmt.Sprintf("%s.actions[%d]", p, i)
		if v.required(q+".name", a.Name) {
			if names[a.Name] {
				v.add(q+".name", "%q is used by another action", a.Name)
			}
			names[a.Name] = true
		}
		if v.required(q+".intent", a.Intent) {
			if intents[a.Intent] {
				v.add(q+".intent", "%q already has an action", a.Intent)
			}
			intents[a.Intent] = true
		}
		slots := map[string]bool{}
		for j, s := range a.Slots {
			sq := fmt.Sprintf("%s.slots[%d]", q, j)
			if v.required(sq+".name", s.Name) {
				if slots[s.Name] {
					v.add(sq+".name", "%q is listed twice", s.Name)
				}
				slots[s.Name] = true
			}
			if s.Pattern != "" {
				if _, err := regexp.Compile(s.Pattern); err != nil {
					v.add(sq+".pattern", "not a valid regular expression")
				}
			}
			switch s.Entity {
			case "", "order_number", "email", "phone", "amount":
			default:
				v.add(sq+".entity", "must be order_number, email, phone or amount; got %q", s.Entity)
			}
			v.byLanguage(sq+".prompt", s.Prompt, def, speaks, false)
		}
		r := a.Request
		switch strings.ToUpper(r.Method) {
		case "", http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			v.add(q+".request.method", "must be GET, POST, PUT, PATCH or DELETE; got %q", r.Method)
		}
		if v.required(q+".request.url", r.URL) {
			v.template(q+".request.url", r.URL)
		}
		if r.Body != "" {
			v.template(q+".request.body", r.Body)
		}
		v.duration(q+".request.timeout", r.Timeout, false)
		v.byLanguage(q+".reply", a.Reply, def, speaks, true)
		v.byLanguage(q+".not_found", a.NotFound, def, speaks, true)
	}
}

// byLanguage checks texts given per language: the bot's languages only,
// the default one among them, templates that parse.
func (v *validator) byLanguage(p string, m map[string]string, def string, speaks func(string) bool, isTemplate bool) {
	if m == nil {
		if strings.HasSuffix(p, ".not_found") {
			return
		}
		v.add(p, "required: give it at least in %s, the bot's default language", def)
		return
	}
	if _, ok := m[def]; !ok && def != "" {
		v.add(p, "no %s text: the bot's default language is required", def)
	}
	for lang, t := range m {
		switch {
		case !speaks(lang):
			v.add(p+"."+lang, "not one of the bot's languages")
		case strings.TrimSpace(t) == "":
			v.add(p+"."+lang, "empty")
		case isTemplate:
			v.template(p+"."+lang, t)
		}
	}
}

func (v *validator) template(p, text string) {
	if _, err := template.New("t").Option("missingkey=error").Parse(text); err != nil {
		v.add(p, "not a valid template: %s", strings.TrimPrefix(err.Error(), "template: t:"))
	}
}
