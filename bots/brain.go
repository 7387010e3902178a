// Package bots is the triage bot: for every customer turn it reads the
// message (language, intent, sentiment, a request for a person), evaluates
// the bot's escalation policy and acts: answers from the KB with citations,
// runs an intent's action, asks one clarifying question, hands the
// conversation to a person with a typed packet, or archives spam; and it
// records why, as a decision per turn. It reaches language understanding,
// the KB and the store through domain interfaces, so that eval runs drive
// it with the real ones and tests with fakes.
package bots

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/kb"
	"github.com/batonhq/baton/nlu"
	"github.com/batonhq/baton/nlu/sentiment"
)

// Analyzer reads one customer message: nlu's offline Analyzer and the
// OpenAI-backed triage both are one.
type Analyzer interface {
	Analyze(ctx context.Context, text string, hist nlu.History) (baton.Analysis, error)
}

// Answerer answers a question from the KB: kb.Answerer is one.
type Answerer interface {
	Answer(ctx context.Context, req kb.AnswerRequest) (kb.Answer, error)
}

// Brain decides one bot's turns. It reads and decides; Turns stores what it
// decided. Every field but Analyzer, Policy and Texts is optional.
type Brain struct {
	Bot      baton.Bot
	Policy   Policy
	Texts    *Texts
	Analyzer Analyzer
	// KB answers questions; nil means the bot has no knowledge base.
	KB Answerer
	// Actions by the intent that triggers them.
	Actions map[string]*Action
	Runner  *ActionRunner
	// Queues by id, for an escalation's skills and name.
	Queues map[string]baton.Queue
	// SmallTalk are intents answered with a fixed text, not from the KB
	// (greetings, thanks).
	SmallTalk map[string]TextKey
	// ClarifyMargin: when the KB's two best articles score within this
	// share of each other and neither is a confident answer, the bot asks
	// which was meant (default 0.1).
	ClarifyMargin float64
	// Mask hides card numbers (last four kept) in what the packet quotes;
	// nil leaves text as it is.
	Mask func(string) string
	// FollowUp is how long "did this help?" waits before silence counts as
	// a yes (0: defaultFollowUp; negative: never).
	FollowUp time.Duration
	// WaitNotice is how often a queued customer who writes again hears
	// that a person will answer (0: defaultWaitNotice).
	WaitNotice time.Duration
}

// Turn is what a turn decides on.
type Turn struct {
	Conversation *baton.Conversation
	// Customer is who wrote; their Attributes are the trusted ones.
	Customer *baton.Customer
	// Text is the customer's messages of this turn (a burst joined);
	// Payload the last one's button payload, if any.
	Text    string
	Payload string
	// Previous are the customer's earlier messages, oldest first.
	Previous []string
	Memory   Memory
	// Now is when the turn runs (zero = the wall clock): whether the
	// queue it escalates to is open.
	Now time.Time
}

// Outcome is what the bot decided on one turn.
type Outcome struct {
	Action    string
	Detail    string
	Analysis  *baton.Analysis
	Trend     float64
	Citations []baton.Citation
	Triggers  []baton.TriggerResult
	// Replies are said in order through the outbox.
	Replies []*baton.Message
	// Transition moves the conversation (escalate, archive, resolve).
	Transition *baton.Transition
	// Packet goes with an escalation.
	Packet *baton.HandoffPacket
	Memory Memory
	// AskedHelp: the bot asked "did this help?"; silence will be taken as
	// a yes after a while.
	AskedHelp bool
}

// Resolutions recorded on a conversation's resolved event (Data
// "resolution"), so that containment is counted honestly.
const (
	ResolvedByBot    = "bot"     // the customer said the answer helped
	ResolvedAssumed  = "assumed" // the customer said nothing after "did this help?"
	ResolutionFailed = "resolution_failed"
)

// Decide runs one bot turn: analyse, evaluate the policy, act.
func (b *Brain) Decide(ctx context.Context, t Turn) (Outcome, error) {
	conv := t.Conversation
	mem := t.Memory
	mem.Ran = nil
	lang := conv.Language
	an, err := b.Analyzer.Analyze(ctx, t.Text, nlu.History{Language: conv.Language, Sentiments: mem.Sentiments})
	if err != nil {
		return Outcome{}, fmt.Errorf("analyse: %w", err)
	}
	if an.Language != "" {
		lang = an.Language
	}
	if lang == "" {
		lang = b.defaultLanguage()
	}
	if c := mem.Clarify; c != nil {
		mem.Clarify = nil
		if slug := c.Choice(t.Text, t.Payload); slug != "" && b.KB != nil {
			// A pick among the bot's own options, not a new message: no
			// policy reads it (the title of "My parcel is lost or
			// damaged" is no complaint) and its sentiment is not the
			// customer's.
			ans, err := b.KB.Answer(ctx, kb.AnswerRequest{BotID: b.Bot.ID, Question: c.Question, Language: lang, Fallback: b.defaultLanguage(), Article: slug})
			if err != nil {
				return Outcome{}, fmt.Errorf("answer from the chosen article %s: %w", slug, err)
			}
			// An article unpublished since it was offered: the message is
			// read as any other.
			if ans.Answered {
				mem.addArticles(ans.ArticlesTried())
				out := b.answered(Outcome{Analysis: &an, Trend: b.trend(mem.Sentiments, 0)}, t, mem, ans, lang)
				out.Detail = "the customer chose " + slug
				return out, nil
			}
		}
	}
	trend := b.trend(mem.Sentiments, an.Sentiment)
	mem.addSentiment(an.Sentiment)
	out := Outcome{Analysis: &an, Trend: trend}

	facts := Facts{
		Analysis: an, Text: t.Text, Sender: conv.Address, Trend: trend,
		CustomerMessages: len(t.Previous) + 1, Previous: t.Previous,
		Failures: mem.Failures, BotTurns: mem.BotTurns,
	}
	if t.Customer != nil {
		facts.Attributes = t.Customer.Attributes
	}
	if mem.Help != nil {
		switch ParseYesNo(t.Text, t.Payload) {
		case Yes:
			mem.Help = nil
			mem.Failures = 0
			out.Memory = mem
			out.Action, out.Detail = baton.ActionNone, "resolved by the bot: the customer said it helped"
			out.Replies = []*baton.Message{b.text(lang, TextGladToHelp)}
			out.Transition = &baton.Transition{To: baton.StateResolved, Actor: "bot",
				Reason: "the customer said the answer helped", Data: map[string]any{"resolution": ResolvedByBot}}
			return out, nil
		case No:
			facts.NotHelped = true
			mem.addFailedAnswer(mem.Help.Answer)
		}
		mem.Help = nil
	}

	v := b.Policy.Evaluate(facts)
	out.Triggers = v.Triggers
	switch {
	case v.Archive:
		out.Memory = mem
		out.Action, out.Detail = baton.ActionArchive, "spam"
		out.Transition = &baton.Transition{To: baton.StateArchived, Actor: "bot", Reason: "spam",
			Data: map[string]any{"triggers": triggerNames(v.Fired())}}
		return out, nil
	case v.Escalate:
		return b.escalate(out, t, mem, v, lang, nil), nil
	}

	if mem.Slots != nil {
		if o, done := b.continueSlots(ctx, out, t, &mem, facts, lang); done {
			return o, nil
		}
	}
	if a := b.Actions[an.Intent]; a != nil && !an.OutOfScope {
		return b.startAction(ctx, out, t, mem, facts, a, lang), nil
	}
	if key, ok := b.SmallTalk[an.Intent]; ok && !an.OutOfScope {
		mem.Failures = 0
		out.Memory = mem
		out.Action, out.Detail = baton.ActionAnswer, "small talk: "+an.Intent
		out.Replies = []*baton.Message{b.text(lang, key)}
		return out, nil
	}
	return b.answer(ctx, out, t, mem, facts, lang)
}

// answer replies from the KB, or asks which of two articles was meant, or
// says it does not know; a run of failures escalates.
func (b *Brain) answer(ctx context.Context, out Outcome, t Turn, mem Memory, facts Facts, lang string) (Outcome, error) {
	an := out.Analysis
	var ans kb.Answer
	if b.KB != nil {
		var err error
		ans, err = b.KB.Answer(ctx, kb.AnswerRequest{BotID: b.Bot.ID, Question: t.Text, Language: lang, Fallback: b.defaultLanguage()})
		if err != nil {
			return Outcome{}, fmt.Errorf("answer from the KB: %w", err)
		}
		mem.addArticles(ans.ArticlesTried())
	}
	if ans.Answered {
		return b.answered(out, t, mem, ans, lang), nil
	}

	// Not answered: a failed turn, whatever is said instead.
	facts.Failed = true
	v := b.Policy.EvaluateOutcome(Verdict{Triggers: out.Triggers}, facts)
	out.Triggers = v.Triggers
	if v.Escalate {
		return b.escalate(out, t, mem, v, lang, &ans), nil
	}
	mem.Failures++
	out.Memory = mem
	if opts := b.closeCall(ans); len(opts) == 2 && !an.OutOfScope {
		out.Action, out.Detail = baton.ActionClarify, "two articles too close to call"
		msg := b.text(lang, TextClarify, "options", strings.TrimRight(opts[0].Title, "?？ ")+" / "+strings.TrimRight(opts[1].Title, "?？ "))
		b.choices(msg, t.Conversation.Channel, []baton.Choice{{ID: PayloadClarify + opts[0].Slug, Title: opts[0].Title},
			{ID: PayloadClarify + opts[1].Slug, Title: opts[1].Title}})
		out.Memory.Clarify = &Clarification{Question: t.Text, Options: opts[:2]}
		out.Replies = []*baton.Message{msg}
		return out, nil
	}
	if an.OutOfScope {
		out.Action, out.Detail = baton.ActionClarify, "out of scope"
		out.Replies = []*baton.Message{b.text(lang, TextOutOfScope)}
		return out, nil
	}
	out.Action, out.Detail = baton.ActionNone, "no grounded answer"
	if ans.Reason != "" {
		out.Detail += ": " + ans.Reason
	}
	out.Replies = []*baton.Message{b.text(lang, TextDontKnow)}
	return out, nil
}

// answered says a KB answer with its sources and asks whether it helped.
func (b *Brain) answered(out Outcome, t Turn, mem Memory, ans kb.Answer, lang string) Outcome {
	mem.Failures = 0
	mem.BotTurns++
	out.Action = baton.ActionAnswer
	out.Citations = citations(ans)
	text := ForChannel(t.Conversation.Channel, ans.Text)
	if src := b.sources(lang, ans); src != "" {
		text += "\n\n" + src
	}
	if al := answerLanguage(ans); al != "" && al != lang {
		text = b.Texts.Say(lang, TextOtherLanguage, "language", LanguageName(lang, al)) + "\n" + text
	}
	mem.Help = &HelpQuestion{Answer: ans.Text, Intent: out.Analysis.Intent}
	out.Memory = mem
	out.Replies = []*baton.Message{{Author: baton.AuthorBot, Type: baton.TypeText, Text: text}, b.helpQuestion(t.Conversation.Channel, lang)}
	out.AskedHelp = true
	return out
}

// closeCall returns the two best distinct articles when they score within
// the clarify margin of each other.
func (b *Brain) closeCall(ans kb.Answer) []baton.ArticleRef {
	tried := ans.ArticlesTried()
	if len(tried) < 2 || tried[0].Score <= 0 {
		return nil
	}
	margin := b.ClarifyMargin
	if margin <= 0 {
		margin = 0.1
	}
	if (tried[0].Score-tried[1].Score)/tried[0].Score > margin || ans.Grounded < 0.5*kb.DefaultThreshold {
		return nil
	}
	return tried[:2]
}

// startAction begins an intent's action: the slots the message already has
// are taken, the first missing one is asked for, or the action runs.
func (b *Brain) startAction(ctx context.Context, out Outcome, t Turn, mem Memory, facts Facts, a *Action, lang string) Outcome {
	sf := &SlotFilling{Action: a.Name, Values: map[string]string{}}
	for _, s := range a.Slots {
		if v, ok := s.Extract(t.Text, out.Analysis.Entities); ok && (s.Pattern != nil || s.Entity != "") {
			sf.Values[s.Name] = v
		}
	}
	mem.Slots = sf
	return b.nextSlot(ctx, out, t, mem, facts, a, lang)
}

// continueSlots reads the customer's answer to the slot the bot asked for.
// done is false when the customer moved on to something else.
func (b *Brain) continueSlots(ctx context.Context, out Outcome, t Turn, mem *Memory, facts Facts, lang string) (Outcome, bool) {
	sf := mem.Slots
	a := b.actionNamed(sf.Action)
	if a == nil {
		mem.Slots = nil
		return out, false
	}
	slot := a.slot(sf.Asking)
	if slot == nil {
		mem.Slots = nil
		return out, false
	}
	if v, ok := slot.Extract(t.Text, out.Analysis.Entities); ok {
		if sf.Values == nil {
			// No value yet: the stored memory omits the empty map.
			sf.Values = map[string]string{}
		}
		sf.Values[slot.Name] = v
		sf.Retries = 0
		return b.nextSlot(ctx, out, t, *mem, facts, a, lang), true
	}
	an := out.Analysis
	if !an.OutOfScope && an.Intent != "" && an.Intent != a.Intent && an.IntentConfidence >= 0.6 {
		// A confident new question: the action is dropped.
		mem.Slots = nil
		return out, false
	}
	sf.Retries++
	if sf.Retries > MaxSlotRetries {
		mem.Slots = nil
		facts.ActionFailed = true
		v := b.Policy.EvaluateOutcome(Verdict{Triggers: out.Triggers}, facts)
		out.Triggers = v.Triggers
		if v.Escalate {
			o := b.escalate(out, t, *mem, v, lang, nil)
			o.Detail = a.Name + ": no valid " + slot.Name + "; " + o.Detail
			return o, true
		}
		mem.Failures++
		out.Memory = *mem
		out.Action, out.Detail = baton.ActionAction, a.Name+": gave up asking for "+slot.Name
		out.Replies = []*baton.Message{b.text(lang, TextDontKnow)}
		return out, true
	}
	out.Memory = *mem
	out.Action, out.Detail = baton.ActionAction, a.Name+": asked again for "+slot.Name
	out.Replies = []*baton.Message{b.text(lang, TextSlotRetry, "prompt", slot.prompt(lang, b.defaultLanguage()))}
	return out, true
}

// nextSlot asks for the first missing slot, or runs the action.
func (b *Brain) nextSlot(ctx context.Context, out Outcome, t Turn, mem Memory, facts Facts, a *Action, lang string) Outcome {
	sf := mem.Slots
	for _, s := range a.Slots {
		if _, ok := sf.Values[s.Name]; !ok {
			sf.Asking = s.Name
			out.Memory = mem
			out.Action, out.Detail = baton.ActionAction, a.Name+": asked for "+s.Name
			out.Replies = []*baton.Message{{Author: baton.AuthorBot, Type: baton.TypeText, Text: s.prompt(lang, b.defaultLanguage())}}
			return out
		}
	}
	mem.Slots = nil
	mem.Ran = &SlotFilling{Action: a.Name, Values: sf.Values}
	runner := b.Runner
	if runner == nil {
		runner = &ActionRunner{}
	}
	res, err := runner.Run(ctx, a, sf.Values, lang)
	if err != nil {
		facts.ActionFailed = true
		v := b.Policy.EvaluateOutcome(Verdict{Triggers: out.Triggers}, facts)
		out.Triggers = v.Triggers
		if v.Escalate {
			o := b.escalate(out, t, mem, v, lang, nil)
			o.Detail = a.Name + " failed (" + baton.ErrorMessage(err) + "); " + o.Detail
			o.Replies = []*baton.Message{b.text(lang, TextActionFailed)}
			return o
		}
		mem.Failures++
		out.Memory = mem
		out.Action, out.Detail = baton.ActionAction, a.Name+" failed: "+baton.ErrorMessage(err)
		out.Replies = []*baton.Message{b.text(lang, TextDontKnow)}
		return out
	}
	mem.Failures = 0
	mem.BotTurns++
	mem.Help = &HelpQuestion{Answer: res.Reply, Intent: a.Intent}
	out.Memory = mem
	out.Action, out.Detail = baton.ActionAction, a.Name
	out.Replies = []*baton.Message{{Author: baton.AuthorBot, Type: baton.TypeText, Text: res.Reply}, b.helpQuestion(t.Conversation.Channel, lang)}
	out.AskedHelp = true
	return out
}

// escalate hands the conversation to a person: the packet, the queue and
// priority the fired triggers chose, and one honest line to the customer.
func (b *Brain) escalate(out Outcome, t Turn, mem Memory, v Verdict, lang string, ans *kb.Answer) Outcome {
	conv := t.Conversation
	an := out.Analysis
	if ans != nil {
		mem.addArticles(ans.ArticlesTried())
	}
	mem.Slots, mem.Help = nil, nil
	route := v.Route
	if route.Queue == "" {
		route = b.Policy.Route
	}
	skills := []string{}
	if q, ok := b.Queues[route.Queue]; ok {
		skills = append(skills, q.Skills...)
	}
	if lang != "" && !contains(skills, lang) {
		// The customer's language is always a required skill.
		skills = append(skills, lang)
	}
	texts := append(append([]string(nil), t.Previous...), t.Text)
	mask := b.Mask
	if mask == nil {
		mask = func(s string) string { return s }
	}
	for i := range texts {
		texts[i] = mask(texts[i])
	}
	summary := Summarize(texts)
	if s := strings.TrimSpace(an.Summary); s != "" {
		// The language model's summary, when one is configured: already
		// redacted, and a line an agent reads faster.
		summary = mask(s)
	}
	p := &baton.HandoffPacket{
		ConversationID: conv.ID,
		Summary:        summary,
		Reasons:        v.Fired(),
		Channel:        conv.Channel,
		Attributes:     conv.Attributes,
		Language:       lang,
		Intent:         an.Intent,
		IntentScore:    an.IntentConfidence,
		Sentiment:      an.Sentiment,
		SentimentTrend: out.Trend,
		ArticlesTried:  mem.ArticlesTried,
		FailedAnswers:  mem.FailedAnswers,
		QueueID:        route.Queue,
		Skills:         skills,
		Priority:       route.Priority,
	}
	if c := t.Customer; c != nil {
		p.Customer = baton.CustomerProfile{ID: c.ID, Name: c.Name, Verified: c.Verified, Address: conv.Address, Attributes: c.Attributes}
	} else {
		p.Customer = baton.CustomerProfile{ID: conv.CustomerID, Address: conv.Address}
	}
	names := triggerNames(v.Fired())
	q, prio := route.Queue, route.Priority
	out.Transition = &baton.Transition{To: baton.StateQueued, Actor: "bot", Reason: "escalated: " + strings.Join(names, ", "),
		QueueID: &q, Priority: &prio, Data: map[string]any{"triggers": names}}
	out.Packet = p
	out.Memory = mem
	out.Action, out.Detail = baton.ActionEscalate, "to "+route.Queue
	var replies []*baton.Message
	for _, f := range v.Fired() {
		if f.Trigger == baton.TriggerNotHelped {
			replies = append(replies, b.text(lang, TextNotHelpedAgain))
		}
	}
	now := t.Now
	if now.IsZero() {
		now = time.Now()
	}
	// Honest about when: a closed queue's customer hears when it opens.
	if q, ok := b.Queues[route.Queue]; ok && !q.Hours.Open(now) {
		replies = append(replies, b.text(lang, TextClosed, "when", q.Hours.Describe(now)))
	} else {
		replies = append(replies, b.text(lang, TextEscalating))
	}
	out.Replies = replies
	return out
}

// helpQuestion asks "did this help?" the channel's way: buttons where the
// channel has them, "reply 1 or 2" on SMS.
func (b *Brain) helpQuestion(ch baton.ChannelKind, lang string) *baton.Message {
	yes, no := b.Texts.Say(lang, TextYes), b.Texts.Say(lang, TextNo)
	msg := b.text(lang, TextDidThisHelp)
	if ch == baton.ChannelSMS {
		msg.Text += " " + b.Texts.Say(lang, TextSMSChoice, "yes", yes, "no", no)
		return msg
	}
	b.choices(msg, ch, []baton.Choice{{ID: PayloadHelpYes, Title: yes}, {ID: PayloadHelpNo, Title: no}})
	return msg
}

// choices attaches buttons to msg, or numbered lines on SMS.
func (b *Brain) choices(msg *baton.Message, ch baton.ChannelKind, cs []baton.Choice) {
	if ch == baton.ChannelSMS {
		for i, c := range cs {
			msg.Text += fmt.Sprintf("\n%d. %s", i+1, c.Title)
		}
		return
	}
	for i := range cs {
		// WhatsApp limits a reply button's title to 20 characters.
		if r := []rune(cs[i].Title); len(r) > 20 && ch == baton.ChannelWhatsApp {
			cs[i].Title = string(r[:19]) + "…"
		}
	}
	baton.SetOutbound(msg, baton.Outbound{Buttons: cs})
}

func (b *Brain) text(lang string, key TextKey, vars ...string) *baton.Message {
	return &baton.Message{Author: baton.AuthorBot, Type: baton.TypeText, Text: b.Texts.Say(lang, key, vars...)}
}

// sources is the line that cites an answer's articles.
func (b *Brain) sources(lang string, ans kb.Answer) string {
	var parts []string
	for _, c := range ans.Citations {
		s := c.Title
		if c.URL != "" {
			s += " (" + c.URL + ")"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return ""
	}
	return b.Texts.Say(lang, TextSources) + ": " + strings.Join(parts, "; ")
}

func (b *Brain) defaultLanguage() string {
	if len(b.Bot.Languages) > 0 {
		return b.Bot.Languages[0]
	}
	return "en"
}

// trend is the sentiment trend over the window the policy reads, this
// message included.
func (b *Brain) trend(previous []float64, latest float64) float64 {
	n := b.Policy.SentimentTrend.Messages
	if n < 2 {
		n = 3
	}
	scores := append(append([]float64(nil), previous...), latest)
	if len(scores) > n {
		scores = scores[len(scores)-n:]
	}
	return sentiment.Trend(scores, 0.5)
}

func (b *Brain) actionNamed(name string) *Action {
	for _, a := range b.Actions {
		if a.Name == name {
			return a
		}
	}
	return nil
}

func (a *Action) slot(name string) *Slot {
	for i := range a.Slots {
		if a.Slots[i].Name == name {
			return &a.Slots[i]
		}
	}
	return nil
}

// prompt asks for the slot in lang, else the default language.
func (s *Slot) prompt(lang, def string) string {
	if p := s.Prompt[lang]; p != "" {
		return p
	}
	return s.Prompt[def]
}

// answerLanguage is the language of the article an answer came from.
func answerLanguage(ans kb.Answer) string {
	if len(ans.Results) == 0 {
		return ""
	}
	if l := ans.Results[0].Chunk.Language; l != "" {
		return l
	}
	return ans.Results[0].Language
}

// citations are the articles an answer cites, each with the answer's
// grounded confidence (0..1): how sure the KB is that the passage answers
// the question, the figure the answer threshold is set against.
func citations(ans kb.Answer) []baton.Citation {
	var out []baton.Citation
	for _, c := range ans.Citations {
		out = append(out, baton.Citation{Slug: c.Slug, Title: c.Title, Score: ans.Grounded})
	}
	return out
}

func triggerNames(ts []baton.TriggerResult) []string {
	var out []string
	for _, t := range ts {
		if !contains(out, t.Trigger) {
			out = append(out, t.Trigger)
		}
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Defaults of Brain.FollowUp and Brain.WaitNotice.
const (
	defaultFollowUp   = 30 * time.Minute
	defaultWaitNotice = 10 * time.Minute
)

func (b *Brain) followUp() time.Duration {
	switch {
	case b.FollowUp < 0:
		return 0
	case b.FollowUp == 0:
		return defaultFollowUp
	}
	return b.FollowUp
}
