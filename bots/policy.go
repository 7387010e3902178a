package bots

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/nlu/words"
)

// Route is where an escalation goes: a queue and the priority it waits at.
type Route struct {
	Queue    string
	Priority int
}

// Rule is a trigger that needs no threshold. Route nil means the policy's
// default route.
type Rule struct {
	Off   bool
	Route *Route
}

// ThresholdRule fires when a value is at or below Threshold.
type ThresholdRule struct {
	Off       bool
	Threshold float64
	Route     *Route
}

// TrendRule fires when the sentiment trend over the last Messages customer
// messages is at or below Threshold; it waits until there are that many.
type TrendRule struct {
	Off       bool
	Threshold float64
	Messages  int
	Route     *Route
}

// CountRule fires when a count reaches Count.
type CountRule struct {
	Off   bool
	Count int
	Route *Route
}

// LoopRule fires when the customer's message is at least Similarity alike
// (word overlap, 0..1) to one of their two messages before it.
type LoopRule struct {
	Off        bool
	Similarity float64
	Route      *Route
}

// TopicRule sends an intent to a person, always: fraud, account closure,
// personal-data requests, complaints.
type TopicRule struct {
	Intent string
	// MinConfidence is how sure the classifier must be (0 = any
	// confidence above the classifier's own out-of-scope cut).
	MinConfidence float64
	Route         *Route
}

// AttributeRule sends customers with a trusted attribute value (VIP, say)
// to a person. Values empty means any non-empty value.
type AttributeRule struct {
	Key    string
	Values []string
	Route  *Route
}

// SpamRule archives a conversation without any human seeing it: senders
// matching one of Senders (path.Match patterns on the channel address, e.g.
// "+1900*") or messages matching one of Patterns.
type SpamRule struct {
	Senders  []string
	Patterns []*regexp.Regexp
}

// Policy is one bot's escalation policy. Trigger names are fixed
// (baton.Trigger*), since evals and agents read them.
type Policy struct {
	// Route is where an escalation goes when its trigger names no route.
	Route             Route
	WantsHuman        Rule // the escape hatch: Off is ignored
	NegativeSentiment ThresholdRule
	SentimentTrend    TrendRule
	RepeatedFailure   CountRule
	NotHelped         Rule
	Loop              LoopRule
	MaxTurns          CountRule
	ActionFailed      Rule
	Topics            []TopicRule
	Attributes        []AttributeRule
	Spam              SpamRule
}

// DefaultPolicy is what a bot gets for every trigger its configuration
// leaves out: every trigger on, with thresholds measured on the dev splits
// of the sentiment sets and the wants-human phrasings.
func DefaultPolicy(queue string) Policy {
	return Policy{
		Route:             Route{Queue: queue, Priority: baton.PriorityNormal},
		NegativeSentiment: ThresholdRule{Threshold: -0.6},
		SentimentTrend:    TrendRule{Threshold: -0.4, Messages: 3},
		RepeatedFailure:   CountRule{Count: 2},
		Loop:              LoopRule{Similarity: 0.75},
		MaxTurns:          CountRule{Count: 8},
	}
}

// Validate checks the policy's values; it names the trigger at fault.
func (p *Policy) Validate() error {
	var errs []string
	add := func(f string, a ...any) { errs = append(errs, fmt.Sprintf(f, a...)) }
	if t := p.NegativeSentiment; !t.Off && (t.Threshold < -1 || t.Threshold > 1) {
		add("%s: threshold %.2f is outside [-1, 1]", baton.TriggerNegativeSentiment, t.Threshold)
	}
	if t := p.SentimentTrend; !t.Off {
		if t.Threshold < -1 || t.Threshold > 1 {
			add("%s: threshold %.2f is outside [-1, 1]", baton.TriggerSentimentTrend, t.Threshold)
		}
		if t.Messages < 2 {
			add("%s: messages %d: a trend needs at least 2", baton.TriggerSentimentTrend, t.Messages)
		}
	}
	if t := p.RepeatedFailure; !t.Off && t.Count < 1 {
		add("%s: count %d: want at least 1", baton.TriggerRepeatedFailure, t.Count)
	}
	if t := p.MaxTurns; !t.Off && t.Count < 1 {
		add("%s: count %d: want at least 1", baton.TriggerMaxTurns, t.Count)
	}
	if t := p.Loop; !t.Off && (t.Similarity <= 0 || t.Similarity > 1) {
		add("%s: similarity %.2f is outside (0, 1]", baton.TriggerLoop, t.Similarity)
	}
	for i, t := range p.Topics {
		if t.Intent == "" {
			add("%s[%d]: intent is required", baton.TriggerTopic, i)
		}
		if t.MinConfidence < 0 || t.MinConfidence > 1 {
			add("%s[%d]: min_confidence %.2f is outside [0, 1]", baton.TriggerTopic, i, t.MinConfidence)
		}
	}
	for i, a := range p.Attributes {
		if a.Key == "" {
			add("%s[%d]: key is required", baton.TriggerAttribute, i)
		}
	}
	for i, s := range p.Spam.Senders {
		if _, err := path.Match(s, ""); err != nil || s == "" {
			add("%s.senders[%d]: not a valid pattern", baton.TriggerSpam, i)
		}
	}
	if len(errs) > 0 {
		return baton.Errorf(baton.EINVALID, "%s", strings.Join(errs, "; "))
	}
	return nil
}

// Facts are what the policy reads for one customer turn.
type Facts struct {
	Analysis baton.Analysis
	// Text is the customer's message (the newest of a burst joined with
	// the others), Sender their channel address.
	Text   string
	Sender string
	// Trend is the sentiment trend over the last SentimentTrend.Messages
	// customer messages, this one included; CustomerMessages is how many
	// customer messages the conversation has, this one included.
	Trend            float64
	CustomerMessages int
	// Previous are the customer's messages before this one, oldest first
	// (the loop trigger reads the last two).
	Previous []string
	// Failures counts the consecutive turns before this one that ended
	// without a grounded answer or an action.
	Failures int
	// BotTurns counts the bot's answers in this conversation so far.
	BotTurns int
	// NotHelped: the customer said the last answer did not help.
	NotHelped bool
	// Failed: this turn has no grounded answer and no action (set for
	// EvaluateOutcome).
	Failed bool
	// ActionFailed: this turn's action failed or timed out, or its slots
	// could not be filled (set for EvaluateOutcome).
	ActionFailed bool
	// Attributes are the customer's trusted attributes only: the signed
	// web chat token, provider data, the admin API. Page context never.
	Attributes map[string]string
}

// Verdict is the policy's answer for one turn.
type Verdict struct {
	// Triggers are every trigger evaluated, fired or not, in a fixed order.
	Triggers []baton.TriggerResult
	// Archive: spam; nobody answers and no human ever sees it.
	Archive bool
	// Escalate: at least one trigger fired; Route is where to.
	Escalate bool
	Route    Route
}

// Fired returns the triggers that fired.
func (v Verdict) Fired() []baton.TriggerResult {
	var out []baton.TriggerResult
	for _, t := range v.Triggers {
		if t.Fired {
			out = append(out, t)
		}
	}
	return out
}

// Evaluate runs every trigger that can be decided before the bot acts. The
// bot calls EvaluateOutcome afterwards for the triggers that depend on what
// it managed to do (repeated_failure, action_failed).
func (p *Policy) Evaluate(f Facts) Verdict {
	var v Verdict
	if spam, detail := p.spam(f); spam {
		v.Triggers = append(v.Triggers, baton.TriggerResult{Trigger: baton.TriggerSpam, Value: 1, Fired: true, Detail: detail})
		v.Archive = true
		return v
	}
	a := f.Analysis
	// The escape hatch cannot be turned off: a customer who asks for a
	// person gets one, whatever else the bot thinks.
	v.add(p, baton.TriggerResult{Trigger: baton.TriggerWantsHuman, Value: b2f(a.WantsHuman), Threshold: 1,
		Fired: a.WantsHuman, Detail: a.WantsHumanEvidence}, p.WantsHuman.Route)
	for _, t := range p.Topics {
		if a.Intent == "" || a.OutOfScope || a.Intent != t.Intent {
			continue
		}
		v.add(p, baton.TriggerResult{Trigger: baton.TriggerTopic, Value: a.IntentConfidence, Threshold: t.MinConfidence,
			Fired: a.IntentConfidence >= t.MinConfidence, Detail: t.Intent}, t.Route)
	}
	for _, r := range p.Attributes {
		val, ok := f.Attributes[r.Key]
		if !ok || val == "" {
			continue
		}
		fired := len(r.Values) == 0
		for _, want := range r.Values {
			if strings.EqualFold(val, want) {
				fired = true
			}
		}
		v.add(p, baton.TriggerResult{Trigger: baton.TriggerAttribute, Value: b2f(fired), Threshold: 1, Fired: fired,
			Detail: r.Key}, r.Route)
	}
	if r := p.NegativeSentiment; !r.Off {
		v.add(p, baton.TriggerResult{Trigger: baton.TriggerNegativeSentiment, Value: a.Sentiment, Threshold: r.Threshold,
			Fired: a.Sentiment <= r.Threshold}, r.Route)
	}
	if r := p.SentimentTrend; !r.Off {
		v.add(p, baton.TriggerResult{Trigger: baton.TriggerSentimentTrend, Value: f.Trend, Threshold: r.Threshold,
			Fired: f.CustomerMessages >= r.Messages && f.Trend <= r.Threshold}, r.Route)
	}
	if r := p.NotHelped; !r.Off {
		v.add(p, baton.TriggerResult{Trigger: baton.TriggerNotHelped, Value: b2f(f.NotHelped), Threshold: 1,
			Fired: f.NotHelped}, r.Route)
	}
	if r := p.Loop; !r.Off {
		sim := LoopSimilarity(f.Text, f.Previous)
		v.add(p, baton.TriggerResult{Trigger: baton.TriggerLoop, Value: sim, Threshold: r.Similarity,
			Fired: sim >= r.Similarity}, r.Route)
	}
	if r := p.MaxTurns; !r.Off {
		v.add(p, baton.TriggerResult{Trigger: baton.TriggerMaxTurns, Value: float64(f.BotTurns), Threshold: float64(r.Count),
			Fired: f.BotTurns >= r.Count}, r.Route)
	}
	return v
}

// EvaluateOutcome adds the triggers that depend on what the bot managed to
// do this turn to v.
func (p *Policy) EvaluateOutcome(v Verdict, f Facts) Verdict {
	if v.Archive {
		return v
	}
	if r := p.RepeatedFailure; !r.Off {
		n := f.Failures
		if f.Failed {
			n++
		}
		v.add(p, baton.TriggerResult{Trigger: baton.TriggerRepeatedFailure, Value: float64(n), Threshold: float64(r.Count),
			Fired: f.Failed && n >= r.Count}, r.Route)
	}
	if r := p.ActionFailed; !r.Off {
		v.add(p, baton.TriggerResult{Trigger: baton.TriggerActionFailed, Value: b2f(f.ActionFailed), Threshold: 1,
			Fired: f.ActionFailed}, r.Route)
	}
	return v
}

// add records t and, when it fired, lets its route compete: the most urgent
// route wins; among equals, the trigger evaluated first.
func (v *Verdict) add(p *Policy, t baton.TriggerResult, r *Route) {
	v.Triggers = append(v.Triggers, t)
	if !t.Fired {
		return
	}
	route := p.Route
	if r != nil {
		route = *r
		if route.Queue == "" {
			route.Queue = p.Route.Queue
		}
	}
	if !v.Escalate || route.Priority > v.Route.Priority {
		v.Route = route
	}
	v.Escalate = true
}

func (p *Policy) spam(f Facts) (bool, string) {
	for _, s := range p.Spam.Senders {
		if ok, _ := path.Match(s, f.Sender); ok {
			return true, "sender"
		}
	}
	for _, re := range p.Spam.Patterns {
		if re.MatchString(f.Text) {
			return true, "content"
		}
	}
	return false, ""
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// LoopSimilarity is how alike text is to the most similar of the last two
// previous messages: the overlap of their word sets (Jaccard), 0 when text
// or every previous message has fewer than three words, so that "yes", "no"
// and "thanks" never look like a loop.
func LoopSimilarity(text string, previous []string) float64 {
	cur := wordSet(text)
	if len(cur) < 3 {
		return 0
	}
	if len(previous) > 2 {
		previous = previous[len(previous)-2:]
	}
	best := 0.0
	for _, p := range previous {
		prev := wordSet(p)
		if len(prev) < 3 {
			continue
		}
		inter := 0
		for w := range cur {
			if prev[w] {
				inter++
			}
		}
		if s := float64(inter) / float64(len(cur)+len(prev)-inter); s > best {
			best = s
		}
	}
	return best
}

func wordSet(s string) map[string]bool {
	set := map[string]bool{}
	for _, t := range words.Split(s) {
		set[words.ASCIIFold(t.Text)] = true
	}
	return set
}
