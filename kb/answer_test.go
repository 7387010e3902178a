package kb

import (
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

func result(slug, title, text string) Result {
	return Result{Chunk: baton.Chunk{Slug: slug, Text: title + "\n\n" + text}, Title: title, URL: "https://help.example/" + slug}
}

func TestCheckCitations(t *testing.T) {
	res := []Result{
		result("delivery-times", "Delivery", "Standard delivery takes 2 to 4 working days."),
		result("express-delivery", "Express", "Express arrives the next day."),
	}
	tests := []struct {
		name    string
		text    string
		cites   string
		problem string
	}{
		{"one citation", "Standard delivery takes 2 to 4 working days [delivery-times].", "delivery-times", ""},
		{"two citations, each line cited", "It takes 2-4 days [delivery-times].\nExpress is next day [express-delivery].", "delivery-times,express-delivery", ""},
		{"intro line without citation", "Your options:\n- 2-4 days [delivery-times]\n- next day [express-delivery]", "delivery-times,express-delivery", ""},
		{"no citation", "It takes 2 to 4 days.", "", "cites no article"},
		{"cites an article not retrieved", "Refunds take 5 days [refund-timing].", "", "[refund-timing], which was not retrieved"},
		{"one line uncited", "It takes 2-4 days [delivery-times].\nWe also ship to the moon.", "", "cites no article"},
		{"refusal", "NOT_COVERED", "", "do not cover"},
		{"empty", "", "", "returned nothing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cites, problem := checkCitations(tc.text, res)
			var got []string
			for _, c := range cites {
				got = append(got, c.Slug)
				if c.URL != "https://help.example/"+c.Slug || c.Title == "" {
					t.Errorf("citation %+v lacks title or URL", c)
				}
			}
			if strings.Join(got, ",") != tc.cites {
				t.Errorf("cites %v, want %s", got, tc.cites)
			}
			if (problem == "") != (tc.problem == "") || !strings.Contains(problem, tc.problem) {
				t.Errorf("problem %q, want %q", problem, tc.problem)
			}
		})
	}
}

func TestBuildPromptHoldsOnlyPassagesAndQuestion(t *testing.T) {
	res := []Result{result("delivery-times", "How long does delivery take?", "Standard delivery takes 2 to 4 working days.")}
	req := BuildPrompt(res, "when does my order [EMAIL] arrive?", "tr")
	if len(req.Messages) != 1 || req.Messages[0].Role != "user" {
		t.Fatalf("messages %+v", req.Messages)
	}
	want := "[delivery-times] How long does delivery take?\nStandard delivery takes 2 to 4 working days.\n\nQuestion: when does my order [EMAIL] arrive?"
	if req.Messages[0].Content != want {
		t.Errorf("user message:\n%s\nwant:\n%s", req.Messages[0].Content, want)
	}
	for _, s := range []string{"only the passages", "[article-id]", "Answer in tr", notCovered} {
		if !strings.Contains(req.System, s) {
			t.Errorf("system prompt lacks %q", s)
		}
	}
}

func TestTrimPassage(t *testing.T) {
	tm := newTerms()
	passage := "You can return any unworn item within 30 days. We love sport. Refunds reach your card in 5 to 7 working days. Our shop is in Berlin.\n\n| Item | Days |\n|---|---|\n| Shoes | 30 |"
	tests := []struct {
		q, want string
	}{
		{"how many days until the refund reaches my card", "Refunds reach your card in 5 to 7 working days."},
		{"return unworn shoes", "You can return any unworn item within 30 days."},
		{"which shoes can be returned within 30 days", "You can return any unworn item within 30 days. | Item | Days |\n|---|---|\n| Shoes | 30 |"},
		{"xyzzy", "You can return any unworn item within 30 days. We love sport."},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			if got := trimPassage(passage, tm.of(tc.q), tm); got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestCoverage(t *testing.T) {
	tm := newTerms()
	tests := []struct {
		q, doc string
		want   float64
	}{
		{"delete my facebook account", "How do I delete a Facebook account?", 1},
		{"refunds", "refund timing", 1},
		{"iadem nerede", "İade süreci", 0.5},
		{"the of and", "anything", 0},
		{"broadway show", "github markdown", 0},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			got := coverage(tm.of(tc.q), tm.of(tc.doc))
			if got < tc.want-0.2 || got > tc.want+0.2 {
				t.Errorf("coverage %.2f, want about %.2f", got, tc.want)
			}
		})
	}
}
