package bots

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// Memory is what the bot remembers of a conversation between turns. It is
// kept in each turn's decision record (Decision.State), so the next turn
// starts from the last decision and nothing else holds bot state.
type Memory struct {
	// Help is the "did this help?" question the bot asked last, while it
	// waits for the answer.
	Help *HelpQuestion `json:"help,omitempty"`
	// Slots is an action gathering its slots.
	Slots *SlotFilling `json:"slots,omitempty"`
	// Clarify is the choice of articles the bot offered last, while it
	// waits for the customer to pick one.
	Clarify *Clarification `json:"clarify,omitempty"`
	// Ran is the action this turn called and the slot values it called it
	// with, kept in this turn's record only (the next turn clears it): the
	// decision shows what was called, not only that something was.
	Ran *SlotFilling `json:"ran,omitempty"`
	// Failures counts consecutive turns without a grounded answer or an
	// action; BotTurns counts the bot's answers.
	Failures int `json:"failures,omitempty"`
	BotTurns int `json:"bot_turns,omitempty"`
	// Sentiments are the customer's message scores, oldest first (the
	// latest maxSentiments).
	Sentiments []float64 `json:"sentiments,omitempty"`
	// ArticlesTried and FailedAnswers are what the packet shows an agent:
	// what the bot looked at, and what it said that did not help.
	ArticlesTried []baton.ArticleRef `json:"articles_tried,omitempty"`
	FailedAnswers []string           `json:"failed_answers,omitempty"`
	// WaitNoticeAt is when a queued customer was last told they are
	// waiting.
	WaitNoticeAt *time.Time `json:"wait_notice_at,omitempty"`
}

// Clarification is a question the bot could not place between two
// articles, and the articles it offered.
type Clarification struct {
	Question string             `json:"question"`
	Options  []baton.ArticleRef `json:"options"`
}

// Choice is the article the customer picked from c: the button's payload
// (PayloadClarify + slug), the option's number (SMS lists them numbered),
// or its title as typed or as a channel cut it ("My parcel is lost o…"
// on a WhatsApp button). "" when the message is none of those: a new
// question.
func (c *Clarification) Choice(text, payload string) string {
	if slug, ok := strings.CutPrefix(payload, PayloadClarify); ok {
		for _, o := range c.Options {
			if o.Slug == slug {
				return slug
			}
		}
		return ""
	}
	t := strings.TrimSpace(text)
	if n, err := strconv.Atoi(strings.TrimRight(t, ".)")); err == nil {
		if n >= 1 && n <= len(c.Options) {
			return c.Options[n-1].Slug
		}
		return ""
	}
	cut, truncated := strings.CutSuffix(t, "…")
	cut = strings.ToLower(strings.TrimSpace(cut))
	if cut == "" {
		return ""
	}
	for _, o := range c.Options {
		title := strings.ToLower(strings.TrimSpace(o.Title))
		if title == cut || strings.TrimRight(title, "?？ ") == strings.TrimRight(cut, "?？ ") || (truncated && strings.HasPrefix(title, cut)) {
			return o.Slug
		}
	}
	return ""
}

// HelpQuestion is an answer the bot asked about.
type HelpQuestion struct {
	Answer string `json:"answer"`
	// Intent is what the customer asked about, for telling a return about
	// the same thing from a new question.
	Intent string `json:"intent,omitempty"`
}

// SlotFilling is an action waiting for the customer's values.
type SlotFilling struct {
	Action  string            `json:"action"`
	Values  map[string]string `json:"values,omitempty"`
	Asking  string            `json:"asking"`
	Retries int               `json:"retries,omitempty"`
}

// Bounds on what memory keeps.
const (
	maxSentiments    = 20
	maxArticlesTried = 8
	maxFailedAnswers = 3
)

// MemoryOf reads the memory a decision kept; no decision or no state is a
// fresh memory.
func MemoryOf(d *baton.Decision) (Memory, error) {
	var m Memory
	if d == nil || len(d.State) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(d.State, &m); err != nil {
		return Memory{}, baton.Errorf(baton.EINTERNAL, "decision %d: bot memory is not valid JSON: %w", d.ID, err)
	}
	return m, nil
}

// encode is m as a decision's state.
func (m Memory) encode() json.RawMessage {
	b, _ := json.Marshal(m)
	return b
}

func (m *Memory) addSentiment(s float64) {
	m.Sentiments = append(m.Sentiments, s)
	if n := len(m.Sentiments); n > maxSentiments {
		m.Sentiments = append([]float64(nil), m.Sentiments[n-maxSentiments:]...)
	}
}

// addArticles merges tried articles, keeping each slug's best score, best
// first, at most maxArticlesTried.
func (m *Memory) addArticles(refs []baton.ArticleRef) {
	for _, r := range refs {
		found := false
		for i := range m.ArticlesTried {
			if m.ArticlesTried[i].Slug == r.Slug {
				found = true
				if r.Score > m.ArticlesTried[i].Score {
					m.ArticlesTried[i].Score = r.Score
				}
			}
		}
		if !found {
			m.ArticlesTried = append(m.ArticlesTried, r)
		}
	}
	sortRefs(m.ArticlesTried)
	if len(m.ArticlesTried) > maxArticlesTried {
		m.ArticlesTried = m.ArticlesTried[:maxArticlesTried]
	}
}

func (m *Memory) addFailedAnswer(a string) {
	if a == "" {
		return
	}
	m.FailedAnswers = append(m.FailedAnswers, a)
	if n := len(m.FailedAnswers); n > maxFailedAnswers {
		m.FailedAnswers = append([]string(nil), m.FailedAnswers[n-maxFailedAnswers:]...)
	}
}

func sortRefs(r []baton.ArticleRef) {
	for i := 1; i < len(r); i++ {
		for j := i; j > 0 && r[j].Score > r[j-1].Score; j-- {
			r[j], r[j-1] = r[j-1], r[j]
		}
	}
}
