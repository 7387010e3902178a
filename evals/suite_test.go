package evals

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
)

func loadTestConfig(t *testing.T, s *Suite) *config.Config {
	t.Helper()
	cfg, err := config.Load(s.Config, config.MapEnv(nil))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

func TestLoadSuiteValid(t *testing.T) {
	s, err := LoadSuite("testdata/suite")
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(s, loadTestConfig(t, s)); err != nil {
		t.Fatal(err)
	}
	if s.Name != "shop" || s.Bot != "shop" || len(s.Cases) < 10 {
		t.Fatalf("suite %q bot %q with %d cases", s.Name, s.Bot, len(s.Cases))
	}
	c := s.Cases[0]
	if c.File == "" || c.Line == 0 || c.Channel == "" {
		t.Fatalf("case %+v has no place or channel", c)
	}
	if got := s.Tolerances.For("tr/routing.queue"); got != 0 {
		t.Errorf("tr/routing.queue tolerance %v", got)
	}
	if got := s.Tolerances.For("en/escalation.f1"); got != 0 {
		t.Errorf("en/escalation.f1 falls back to escalation.f1: got %v", got)
	}
	if got := s.Tolerances.For("intent.accuracy"); got != 0.02 {
		t.Errorf("default tolerance %v", got)
	}
}

// TestInvalidSuites: every kind of mistake is reported before anything
// runs, naming the file, the line and the case.
func TestInvalidSuites(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want []string // each in the error, as "cases.yaml:<line>: ..." pieces
	}{
		{"bad-yaml", []string{"cases.yaml:5: not valid YAML"}},
		{"unknown-key", []string{"cases.yaml:6: case one: unknown key in steps[0] \"expct\""}},
		{"unknown-intent", []string{"cases.yaml:12: case two: expect.intent: no intent \"trousers\""}},
		{"unknown-trigger", []string{"cases.yaml:8: case one: expect.trigger: \"asked_nicely\" is not one of wants_human"}},
		{"unknown-queue", []string{"cases.yaml:7: case one: expect.queue: no queue \"vip-lounge\""}},
		{"unknown-agent", []string{"cases.yaml:6: case one: agent \"zoe\" is not in the configuration"}},
		{"unknown-article", []string{"cases.yaml:8: case one: expect.cites: no article \"refund-timing\""}},
		{"duplicate-id", []string{"cases.yaml:6: case one: duplicate case id; first defined at", "cases.yaml:2"}},
		{"unknown-language", []string{"cases.yaml:2: case one: language \"ru\" is not one of bot shop's languages"}},
		{"bad-step", []string{"cases.yaml:5: case one: step 1: one move per step, not customer and wait",
			"cases.yaml:7: case one: step 2: wait: \"soon\"", "cases.yaml:8: case one: step 3: csat: 9"}},
		{"judge-on-conversation", []string{"cases.yaml:7: case one: expect.judge grades a step's replies"}},
		{"many", []string{"no intent \"nope\"", "expect.trigger: \"nope\"", "expect.queue: no queue \"nope\"",
			"no article \"nope\"", "expect.sentiment: \"grumpy\""}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			dir := filepath.Join("testdata/invalid", tc.dir)
			s, err := LoadSuite(dir)
			if err == nil {
				err = Validate(s, loadTestConfig(t, s))
			}
			if err == nil {
				t.Fatal("the suite was accepted")
			}
			if baton.ErrorCode(err) != baton.EINVALID {
				t.Errorf("code %s, want EINVALID", baton.ErrorCode(err))
			}
			var se *SuiteError
			if !errors.As(err, &se) || len(se.Problems) == 0 {
				t.Fatalf("not a SuiteError: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}
