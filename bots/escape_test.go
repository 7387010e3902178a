package bots

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/kb"
	"github.com/batonhq/baton/nlu"
)

// confidentKB answers every question, confidently.
type confidentKB struct{}

func (confidentKB) Answer(context.Context, kb.AnswerRequest) (kb.Answer, error) {
	return answered("contact-us", "Contact us", "en", "You can reach us any time.", 0.9), nil
}

// TestEscapeHatch: every wants-human phrasing of the language issue (en,
// tr, ru; typos, questions, "no, I want a human") escalates with
// wants_human even though the KB has a confident answer; its refusals and
// look-alikes never fire the trigger. The phrasings are the wants-human
// detector's own table, read by the real offline analyser.
func TestEscapeHatch(t *testing.T) {
	f, err := os.Open("../nlu/wantshuman/testdata/phrasings.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	an, err := nlu.New(context.Background(), nlu.Config{Languages: []string{"en", "tr", "ru"}})
	if err != nil {
		t.Fatal(err)
	}
	b := testBrain(t, nil, nil)
	b.Analyzer, b.KB = an, confidentKB{}
	want, escalated := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		cols := strings.SplitN(line, "\t", 3)
		if len(cols) != 3 {
			t.Fatalf("bad line %q", line)
		}
		lang, asks, text := cols[0], cols[1] == "true", cols[2]
		c := conv(baton.ChannelWhatsApp)
		c.Language = lang
		o, err := b.Decide(context.Background(), Turn{Conversation: c, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		fired := false
		for _, tr := range o.Triggers {
			if tr.Trigger == baton.TriggerWantsHuman && tr.Fired {
				fired = true
			}
		}
		if asks {
			want++
			if fired && o.Action == baton.ActionEscalate {
				escalated++
			} else {
				t.Errorf("%s %q: action %s, wants_human fired %v; want an escalation", lang, text, o.Action, fired)
			}
		} else if fired {
			t.Errorf("%s %q: wants_human fired on a refusal or look-alike", lang, text)
		}
	}
	if want < 30 {
		t.Fatalf("only %d phrasings read", want)
	}
	t.Logf("%d of %d requests for a person escalated", escalated, want)
}
