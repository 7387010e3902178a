package evals

import (
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/kb"
	"github.com/batonhq/baton/nlu/intent"
)

// OutOfScope is the intent an expectation names for a message that matches
// none of the bot's intents.
const OutOfScope = "out_of_scope"

// Triggers are the escalation trigger names an expectation may name.
var Triggers = []string{
	baton.TriggerWantsHuman, baton.TriggerNegativeSentiment, baton.TriggerSentimentTrend, baton.TriggerRepeatedFailure,
	baton.TriggerNotHelped, baton.TriggerLoop, baton.TriggerTopic, baton.TriggerAttribute, baton.TriggerMaxTurns,
	baton.TriggerSpam, baton.TriggerActionFailed,
}

var (
	sentimentLabels = []string{"negative", "neutral", "positive"}
	actionNames     = []string{baton.ActionAnswer, baton.ActionAction, baton.ActionClarify, baton.ActionEscalate,
		baton.ActionArchive, baton.ActionWait, baton.ActionNone}
	stateNames = []string{string(baton.StateBot), string(baton.StateQueued), string(baton.StateAssigned),
		string(baton.StateSnoozed), string(baton.StateResolved), string(baton.StateArchived)}
)

// botFacts is what a bot's cases are checked against.
type botFacts struct {
	languages []string
	intents   map[string]bool
	slugs     map[string]bool
	queues    map[string]bool
	actions   map[string]bool
}

// Validate checks s against the assembled configuration cfg before
// anything runs: the bots, the intents of each bot's intents file, the
// trigger names, the queues and agents, the article slugs of each bot's
// kb.dir and the bots' languages; and the datasets' files. Every problem is
// reported at once, each with file, line and case.
func Validate(s *Suite, cfg *config.Config) error {
	var ps problems
	facts := map[string]*botFacts{}
	for _, b := range cfg.Bots {
		f := &botFacts{languages: b.Languages, intents: map[string]bool{}, slugs: map[string]bool{}, queues: map[string]bool{}, actions: map[string]bool{}}
		if b.NLU.Intents != "" {
			if ins, err := readIntentNames(cfg.Resolve(b.NLU.Intents)); err != nil {
				ps.add(s.File, 0, "", "bot %s: intents file: %v", b.ID, baton.ErrorMessage(err))
			} else {
				for _, n := range ins {
					f.intents[n] = true
				}
			}
		}
		if b.KB.Dir != "" {
			docs, _, err := kb.ParseDir(cfg.Resolve(b.KB.Dir))
			if err != nil {
				ps.add(s.File, 0, "", "bot %s: kb.dir: %v", b.ID, baton.ErrorMessage(err))
			}
			for _, d := range docs {
				f.slugs[d.Slug] = true
			}
		}
		for _, a := range b.Actions {
			f.actions[a.Name] = true
		}
		facts[b.ID] = f
	}
	for _, q := range cfg.Queues {
		if f := facts[q.Bot]; f != nil {
			f.queues[q.ID] = true
		}
	}
	agents := map[string]bool{}
	for _, a := range cfg.Agents {
		agents[a.ID] = true
	}
	if len(s.Agents) > 0 {
		agents = map[string]bool{}
		seen := map[string]bool{}
		for _, a := range s.Agents {
			switch {
			case a.ID == "":
				ps.add(s.File, a.Line, "", "agents: id is required")
			case seen[a.ID]:
				ps.add(s.File, a.Line, "", "agents: %s is listed twice", a.ID)
			}
			seen[a.ID] = true
			agents[a.ID] = true
			if a.Status != "" && !slices.Contains([]string{"online", "away", "offline"}, a.Status) {
				ps.add(s.File, a.Line, "", "agents: %s: status %q is not online, away or offline", a.ID, a.Status)
			}
		}
	}
	if s.Bot != "" && facts[s.Bot] == nil {
		ps.add(s.File, 0, "", "bot %q is not in the configuration %s (bots: %s)", s.Bot, s.Config, strings.Join(botIDs(cfg), ", "))
	}
	if err := ValidateDatasets(s.Datasets); err != nil {
		for _, e := range unjoin(err) {
			ps.add("", 0, "", "%s", baton.ErrorMessage(e))
		}
	}
	for _, c := range s.Cases {
		v := caseValidator{ps: &ps, c: c, agents: agents}
		bot := c.Bot
		if bot == "" {
			bot = s.Bot
		}
		if bot == "" && len(cfg.Bots) == 1 {
			bot = cfg.Bots[0].ID
		}
		f := facts[bot]
		if f == nil {
			v.add(c.Line, "bot %q is not in the configuration (bots: %s)", bot, strings.Join(botIDs(cfg), ", "))
			continue
		}
		v.f = f
		if c.Language != "" && !slices.Contains(f.languages, c.Language) {
			v.add(c.Line, "language %q is not one of bot %s's languages (%s)", c.Language, bot, strings.Join(f.languages, ", "))
		}
		for i, st := range c.Steps {
			if a := st.Agent; a != nil {
				v.agent(st.Line, a.As)
				if a.Do == AgentTransfer {
					if a.Agent != "" {
						v.agent(st.Line, a.Agent)
					}
					if a.Queue != "" && !f.queues[a.Queue] {
						v.add(st.Line, "step %d: transfer to queue %q: no such queue of bot %s (%s)", i+1, a.Queue, bot, keys(f.queues))
					}
				}
			}
			if st.Expect != nil {
				v.expect(st.Expect)
			}
		}
		if c.Expect != nil {
			v.expect(c.Expect)
		}
	}
	return ps.err()
}

type caseValidator struct {
	ps     *problems
	c      Case
	f      *botFacts
	agents map[string]bool
}

func (v caseValidator) add(line int, format string, args ...any) {
	v.ps.add(v.c.File, line, v.c.ID, format, args...)
}

func (v caseValidator) agent(line int, id string) {
	if id != "" && !v.agents[id] {
		v.add(line, "agent %q is not in the configuration or the suite's agents (%s)", id, keys(v.agents))
	}
}

func (v caseValidator) expect(e *Expect) {
	one := func(key, val string, allowed []string) {
		if val != "" && !slices.Contains(allowed, val) {
			v.add(e.lineOf(key), "expect.%s: %q is not one of %s", key, val, strings.Join(allowed, ", "))
		}
	}
	if e.Language != "" && !slices.Contains(v.f.languages, e.Language) {
		v.add(e.lineOf("language"), "expect.language: %q is not one of the bot's languages (%s)", e.Language, strings.Join(v.f.languages, ", "))
	}
	if e.Intent != "" && e.Intent != OutOfScope && !v.f.intents[e.Intent] {
		v.add(e.lineOf("intent"), "expect.intent: no intent %q in the bot's intents file (%s, or %s)", e.Intent, keys(v.f.intents), OutOfScope)
	}
	one("sentiment", e.Sentiment, sentimentLabels)
	one("action", e.Action, actionNames)
	one("trigger", e.Trigger, Triggers)
	one("outcome", e.Outcome, outcomeNames)
	one("status", e.Status, stateNames)
	if e.Priority != "" {
		if _, ok := baton.ParsePriority(e.Priority); !ok {
			v.add(e.lineOf("priority"), "expect.priority: %q is not one of low, normal, high, urgent", e.Priority)
		}
	}
	for _, slug := range e.Cites {
		if !v.f.slugs[slug] {
			v.add(e.lineOf("cites"), "expect.cites: no article %q in the bot's KB", slug)
		}
	}
	if e.Queue != "" && !v.f.queues[e.Queue] {
		v.add(e.lineOf("queue"), "expect.queue: no queue %q for the bot (%s)", e.Queue, keys(v.f.queues))
	}
	if e.AssignedTo != "" {
		v.agent(e.lineOf("assigned_to"), e.AssignedTo)
	}
	if e.ActionName != "" && !v.f.actions[e.ActionName] {
		v.add(e.lineOf("action_name"), "expect.action_name: the bot has no action %q (%s)", e.ActionName, keys(v.f.actions))
	}
	if e.Matches != "" {
		if _, err := regexp.Compile(e.Matches); err != nil {
			v.add(e.lineOf("matches"), "expect.matches: not a regular expression: %v", err)
		}
	}
	if e.CSAT != 0 && (e.CSAT < 1 || e.CSAT > 5) {
		v.add(e.lineOf("csat"), "expect.csat: %d is not a rating from 1 to 5", e.CSAT)
	}
}

func readIntentNames(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, baton.Errorf(baton.EINVALID, "cannot read %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	ins, err := intent.ReadYAML(f)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.Name
	}
	return out, nil
}

func botIDs(cfg *config.Config) []string {
	out := make([]string, len(cfg.Bots))
	for i, b := range cfg.Bots {
		out[i] = b.ID
	}
	return out
}

func keys(m map[string]bool) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
