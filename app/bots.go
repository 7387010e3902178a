package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bots"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/kb"
	"github.com/batonhq/baton/nlu"
	"github.com/batonhq/baton/nlu/intent"
	"github.com/batonhq/baton/nlu/openai"
	"github.com/batonhq/baton/nlu/pii"
)

// brainDeps are what every bot's brain shares.
type brainDeps struct {
	store    baton.Store
	embedder baton.Embedder
	llm      baton.LLM // nil: offline
	client   *http.Client
	// modelDir keeps trained intent models between starts; "" trains in
	// memory.
	modelDir string
	// newAnalyzer builds a bot's analyser [nlu.New].
	newAnalyzer func(ctx context.Context, bot string, cfg nlu.Config) (*nlu.Analyzer, error)
}

// buildBrains builds each configured bot's brain: its analyser (the
// intents trained or loaded), its KB answerer, its policy, texts and
// actions. What the configuration's own checks cannot see (an intents file
// the analyser refuses, a topic naming no intent, a language without texts)
// is reported as a configuration problem with its path, before anything
// starts.
func buildBrains(ctx context.Context, cfg *config.Config, d brainDeps) (map[string]*bots.Brain, error) {
	var problems config.Problems
	add := func(path, format string, args ...any) {
		problems = append(problems, config.Problem{Path: path, Reason: fmt.Sprintf(format, args...)})
	}
	queues := map[string]baton.Queue{}
	for _, q := range cfg.DomainQueues() {
		queues[q.ID] = q
	}
	domain := map[string]baton.Bot{}
	for _, b := range cfg.DomainBots() {
		domain[b.ID] = b
	}
	brains := map[string]*bots.Brain{}
	for i, cb := range cfg.Bots {
		p := fmt.Sprintf("bots[%d]", i)
		bot := domain[cb.ID]
		var intents []intent.Intent
		if cb.NLU.Intents != "" {
			var err error
			if intents, err = readIntents(cfg.Resolve(cb.NLU.Intents)); err != nil {
				add(p+".nlu.intents", "%s", baton.ErrorMessage(err))
				continue
			}
		}
		modelDir := ""
		if d.modelDir != "" {
			modelDir = filepath.Join(d.modelDir, cb.ID)
		}
		ncfg := nlu.Config{Languages: cb.Languages, Intents: intents, ModelDir: modelDir}
		var offline *nlu.Analyzer
		var err error
		if d.newAnalyzer != nil {
			offline, err = d.newAnalyzer(ctx, cb.ID, ncfg)
		} else {
			offline, err = nlu.New(ctx, ncfg)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			add(p+".nlu", "%s", baton.ErrorMessage(err))
			continue
		}
		var analyzer bots.Analyzer = offline
		if d.llm != nil {
			t, err := openai.NewTriage(d.llm, offline)
			if err != nil {
				return nil, err
			}
			analyzer = t
		}
		texts, err := bots.NewTexts(cb.Languages, cb.Texts)
		if err != nil {
			add(p+".texts", "%s", baton.ErrorMessage(err))
			continue
		}
		known := map[string]intent.Intent{}
		for _, in := range intents {
			known[in.Name] = in
		}
		policy := botPolicy(p, cb, known, cfg.DomainQueues(), add)
		actions := map[string]*bots.Action{}
		for j, ca := range cb.Actions {
			ap := fmt.Sprintf("%s.actions[%d]", p, j)
			if _, ok := known[ca.Intent]; !ok {
				add(ap+".intent", "no intent %q in %s", ca.Intent, cb.NLU.Intents)
				continue
			}
			a, err := buildAction(ca)
			if err != nil {
				add(ap, "%s", baton.ErrorMessage(err))
				continue
			}
			actions[ca.Intent] = a
		}
		smallTalk := map[string]bots.TextKey{}
		for _, def := range []struct {
			intent string
			key    bots.TextKey
		}{{"greeting", bots.TextGreeting}, {"thanks", bots.TextGladToHelp}} {
			if _, ok := known[def.intent]; ok {
				smallTalk[def.intent] = def.key
			}
		}
		for in, key := range cb.SmallTalk {
			if _, ok := known[in]; !ok {
				add(p+".small_talk."+in, "no intent %q in %s", in, cb.NLU.Intents)
			}
			smallTalk[in] = bots.TextKey(key)
		}
		var answerer bots.Answerer
		if d.embedder != nil {
			a := &kb.Answerer{Retriever: &kb.Retriever{Store: d.store, Embedder: d.embedder}, LLM: d.llm, Redact: pii.String}
			if t := cb.KB.AnswerThreshold; t != nil {
				a.Threshold = *t
			}
			answerer = a
		}
		brain := &bots.Brain{
			Bot: bot, Policy: policy, Texts: texts, Analyzer: analyzer, KB: answerer, Actions: actions,
			Runner: &bots.ActionRunner{Client: d.client}, Queues: queues, SmallTalk: smallTalk, Mask: pii.MaskCards,
			WaitNotice: cb.WaitNotice.Value(),
		}
		switch cb.FollowUp {
		case "off":
			brain.FollowUp = -1
		case "":
		default:
			brain.FollowUp = cb.FollowUp.Value()
		}
		brains[cb.ID] = brain
	}
	if len(problems) > 0 {
		return nil, &config.Error{File: cfg.File, Problems: problems}
	}
	return brains, nil
}

// botPolicy turns a bot's escalation block into its policy, checking what
// only the intents file can tell (that a topic names an intent).
func botPolicy(p string, cb config.Bot, intents map[string]intent.Intent, ordered []baton.Queue, add func(string, string, ...any)) bots.Policy {
	e := cb.Escalation
	queues := map[string]baton.Queue{}
	def := e.Queue
	for _, q := range ordered {
		queues[q.ID] = q
		if def == "" && q.BotID == cb.ID {
			// The bot's first queue, in configuration order.
			def = q.ID
		}
	}
	pol := bots.DefaultPolicy(def)
	if prio, ok := config.PriorityLevel(e.Priority); ok {
		pol.Route.Priority = prio
	}
	route := func(queue, priority string) *bots.Route {
		if queue == "" && priority == "" {
			return nil
		}
		r := &bots.Route{Queue: queue, Priority: pol.Route.Priority}
		if prio, ok := config.PriorityLevel(priority); ok {
			r.Priority = prio
		}
		return r
	}
	pol.WantsHuman = bots.Rule{Route: route(e.WantsHuman.Queue, e.WantsHuman.Priority)}
	pol.NotHelped = bots.Rule{Off: e.NotHelped.Off, Route: route(e.NotHelped.Queue, e.NotHelped.Priority)}
	pol.ActionFailed = bots.Rule{Off: e.ActionFailed.Off, Route: route(e.ActionFailed.Queue, e.ActionFailed.Priority)}
	t := e.NegativeSentiment
	pol.NegativeSentiment.Off, pol.NegativeSentiment.Route = t.Off, route(t.Queue, t.Priority)
	if t.Threshold != nil {
		pol.NegativeSentiment.Threshold = *t.Threshold
	}
	t = e.SentimentTrend
	pol.SentimentTrend.Off, pol.SentimentTrend.Route = t.Off, route(t.Queue, t.Priority)
	if t.Threshold != nil {
		pol.SentimentTrend.Threshold = *t.Threshold
	}
	if t.Messages > 0 {
		pol.SentimentTrend.Messages = t.Messages
	}
	t = e.RepeatedFailure
	pol.RepeatedFailure.Off, pol.RepeatedFailure.Route = t.Off, route(t.Queue, t.Priority)
	if t.Count > 0 {
		pol.RepeatedFailure.Count = t.Count
	}
	t = e.MaxTurns
	pol.MaxTurns.Off, pol.MaxTurns.Route = t.Off, route(t.Queue, t.Priority)
	if t.Count > 0 {
		pol.MaxTurns.Count = t.Count
	}
	t = e.Loop
	pol.Loop.Off, pol.Loop.Route = t.Off, route(t.Queue, t.Priority)
	if t.Similarity != nil {
		pol.Loop.Similarity = *t.Similarity
	}
	for i, tt := range e.Topics {
		in, ok := intents[tt.Intent]
		if !ok {
			add(fmt.Sprintf("%s.escalation.topics[%d].intent", p, i), "no intent %q in %s", tt.Intent, cb.NLU.Intents)
			continue
		}
		queue := tt.Queue
		if queue == "" {
			// The intents file says where its intent's conversations go.
			if q, ok := queues[in.Queue]; ok && q.BotID == cb.ID {
				queue = in.Queue
			}
		}
		r := route(queue, tt.Priority)
		rule := bots.TopicRule{Intent: tt.Intent, Route: r}
		if tt.MinConfidence != nil {
			rule.MinConfidence = *tt.MinConfidence
		}
		pol.Topics = append(pol.Topics, rule)
	}
	for _, a := range e.Attributes {
		pol.Attributes = append(pol.Attributes, bots.AttributeRule{Key: a.Key, Values: a.Values, Route: route(a.Queue, a.Priority)})
	}
	pol.Spam.Senders = e.Spam.Senders
	for _, s := range e.Spam.Patterns {
		// Validated by the configuration already.
		pol.Spam.Patterns = append(pol.Spam.Patterns, regexp.MustCompile(s))
	}
	if err := pol.Validate(); err != nil {
		add(p+".escalation", "%s", baton.ErrorMessage(err))
	}
	return pol
}

// buildAction compiles a configured action; the configuration checked its
// patterns and templates already.
func buildAction(ca config.Action) (*bots.Action, error) {
	a := &bots.Action{Name: ca.Name, Intent: ca.Intent, Method: strings.ToUpper(ca.Request.Method),
		Headers: ca.Request.Headers, Timeout: ca.Request.Timeout.Value()}
	var err error
	if a.URL, err = bots.ParseTemplate("request.url", ca.Request.URL); err != nil {
		return nil, err
	}
	if ca.Request.Body != "" {
		if a.Body, err = bots.ParseTemplate("request.body", ca.Request.Body); err != nil {
			return nil, err
		}
	}
	for _, cs := range ca.Slots {
		s := bots.Slot{Name: cs.Name, Entity: cs.Entity, Prompt: cs.Prompt}
		if cs.Pattern != "" {
			pat := cs.Pattern
			if !strings.HasPrefix(pat, "^") {
				pat = "^(?:" + pat + ")$"
			}
			if s.Pattern, err = regexp.Compile(pat); err != nil {
				return nil, baton.Errorf(baton.EINVALID, "slot %s: pattern: %w", cs.Name, err)
			}
		}
		a.Slots = append(a.Slots, s)
	}
	compile := func(what string, m map[string]string) (map[string]*template.Template, error) {
		if m == nil {
			return nil, nil
		}
		out := map[string]*template.Template{}
		for lang, text := range m {
			t, err := bots.ParseTemplate(what+"."+lang, text)
			if err != nil {
				return nil, err
			}
			out[lang] = t
		}
		return out, nil
	}
	if a.Reply, err = compile("reply", ca.Reply); err != nil {
		return nil, err
	}
	if a.NotFound, err = compile("not_found", ca.NotFound); err != nil {
		return nil, err
	}
	return a, nil
}

// readIntents reads a bot's intents file.
func readIntents(path string) ([]intent.Intent, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, baton.Errorf(baton.EINVALID, "cannot read the intents file: %w", errors.Unwrap(err))
	}
	defer f.Close()
	return intent.ReadYAML(f)
}

// openAIClient is the OpenAI-compatible client when a key is configured.
func openAIClient(cfg *config.Config) (*openai.Client, error) {
	if cfg.OpenAI.APIKey == "" {
		return nil, nil
	}
	timeout := cfg.OpenAI.Timeout.Value()
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return openai.New(openai.Config{
		APIKey:         cfg.OpenAI.APIKey,
		BaseURL:        cfg.OpenAI.BaseURL,
		ChatModel:      cfg.OpenAI.ChatModel,
		EmbeddingModel: cfg.OpenAI.EmbeddingModel,
		Timeout:        timeout,
	})
}
