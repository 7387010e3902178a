package kb

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// DefaultThreshold is the grounded confidence below which the bot does not
// answer from the KB. It was set on StackFAQ dev and CLINC150
// out-of-scope validation questions (see EvalAnswers): out-of-KB questions
// must almost never pass it.
const DefaultThreshold = 0.54

// Citation is the article an answer rests on.
type Citation struct {
	Slug  string `json:"slug"`
	Title string `json:"title"`
	URL   string `json:"url,omitempty"`
}

// Answer is what the KB can say to a question.
type Answer struct {
	Text      string     `json:"text,omitempty"`
	Citations []Citation `json:"citations,omitempty"`
	// Grounded is the confidence in [0, 1] that the cited passages answer
	// the question.
	Grounded float64 `json:"grounded"`
	// Answered is Grounded ≥ the threshold with a valid answer: only then
	// may the bot say Text.
	Answered bool     `json:"answered"`
	Reason   string   `json:"reason,omitempty"` // why not, when not answered
	Source   string   `json:"source"`           // "extractive" or "llm:<model>"
	Results  []Result `json:"-"`                // the passages retrieved
}

// Answerer answers questions from a bot's KB.
type Answerer struct {
	Retriever *Retriever
	// Threshold is the bot's minimum grounded confidence (0 =
	// DefaultThreshold).
	Threshold float64
	// LLM, when set, writes the answer from the retrieved passages; Redact
	// must then be set too: the question goes through it before it reaches
	// the model.
	LLM        baton.LLM
	Redact     func(string) string
	LLMTimeout time.Duration // 0 = 20s
	// Passages is how many passages the LLM sees (0 = 4).
	Passages int
}

// AnswerRequest is one question.
type AnswerRequest struct {
	BotID    string
	Question string
	Language string // the customer's
	Fallback string // the bot's default language
	// Article, when set, is the slug the customer chose among the articles
	// a clarification offered: the answer comes from that article's
	// passages, whatever retrieval would rank first.
	Article string
}

func (a *Answerer) threshold() float64 {
	if a.Threshold > 0 {
		return a.Threshold
	}
	return DefaultThreshold
}

// retrieve searches in the customer's language and, when that gives no
// grounded passage, in the bot's default language: vector search always
// returns something, so "nothing found" is "nothing good enough" here.
func (a *Answerer) retrieve(ctx context.Context, req AnswerRequest, limit int) ([]Result, float64, error) {
	q := Query{BotID: req.BotID, Text: req.Question, Language: req.Language, Fallback: req.Fallback,
		Mode: ModeHybrid, Limit: limit, Distinct: true}
	res, err := a.Retriever.Search(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	g := grounded(res)
	if g >= a.threshold() || req.Fallback == "" || req.Language == "" || req.Fallback == req.Language {
		return res, g, nil
	}
	q.Language, q.Fallback = req.Fallback, ""
	other, err := a.Retriever.Search(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	if og := grounded(other); og > g {
		return other, og, nil
	}
	return res, g, nil
}

// Extractive answers with the best passage, trimmed to the sentences that
// match the question, citing its article.
func (a *Answerer) Extractive(ctx context.Context, req AnswerRequest) (Answer, error) {
	res, g, err := a.retrieve(ctx, req, 5)
	if err != nil {
		return Answer{}, err
	}
	ans := Answer{Source: "extractive", Results: res, Grounded: g}
	if len(res) == 0 {
		ans.Reason = "no passage found"
		return ans, nil
	}
	tm := newTerms()
	q := tm.of(req.Question)
	top := res[0]
	passage := Passage(top.Chunk)
	if coverage(q, tm.of(top.Title)) >= titleQuestion {
		// The customer asked the article's own question. Every chunk
		// carries the title in its breadcrumb, so the keyword match does
		// not say which passage answers it, and the shortest tends to win;
		// an article opens with its answer, so that is the passage.
		if intro, ok := a.opening(ctx, top.Chunk); ok {
			passage = intro
		}
	}
	ans.Text = trimPassage(passage, q, tm)
	ans.Citations = []Citation{{Slug: top.Chunk.Slug, Title: top.Title, URL: top.URL}}
	ans.Answered = ans.Grounded >= a.threshold() && ans.Text != ""
	if !ans.Answered {
		ans.Reason = fmt.Sprintf("grounded %.2f is below the threshold %.2f", ans.Grounded, a.threshold())
	}
	return ans, nil
}

// titleQuestion is the share of a question's words an article's title must
// have for the question to count as the title's own.
const titleQuestion = 0.8

// FromArticle answers from the published article req.Article: the
// customer chose it, so there is nothing to rank and no threshold to
// pass. The passage is the article's one that shares the most words with
// the question (its opening when the question is the title's own, or
// none matches), trimmed as an extractive answer is. Quoting the article
// also in LLM mode keeps an explicit choice to what the article says.
func (a *Answerer) FromArticle(ctx context.Context, req AnswerRequest) (Answer, error) {
	ans := Answer{Source: "extractive"}
	art, err := a.Retriever.Store.GetPublishedArticle(ctx, req.BotID, req.Article)
	if baton.ErrorCode(err) == baton.ENOTFOUND {
		ans.Reason = fmt.Sprintf("article %s is not published", req.Article)
		return ans, nil
	}
	if err != nil {
		return Answer{}, err
	}
	chunks, err := a.Retriever.Store.ListChunks(ctx, art.ID)
	if err != nil {
		return Answer{}, err
	}
	if len(chunks) == 0 {
		ans.Reason = fmt.Sprintf("article %s has no passages", req.Article)
		return ans, nil
	}
	tm := newTerms()
	q := tm.of(req.Question)
	best, bestCover := 0, 0.0
	if coverage(q, tm.of(art.Title)) < titleQuestion {
		for i, c := range chunks {
			if cv := coverage(q, tm.of(Passage(c))); cv > bestCover {
				best, bestCover = i, cv
			}
		}
	}
	ans.Text = trimPassage(Passage(chunks[best]), q, tm)
	ans.Citations = []Citation{{Slug: art.Slug, Title: art.Title, URL: art.URL}}
	ans.Results = []Result{{Chunk: chunks[best], Title: art.Title, URL: art.URL, Fused: 1, Language: art.Language}}
	ans.Grounded = 1
	ans.Answered = ans.Text != ""
	if !ans.Answered {
		ans.Reason = fmt.Sprintf("article %s gave no text", req.Article)
	}
	return ans, nil
}

// opening is the first passage of the article version c belongs to.
func (a *Answerer) opening(ctx context.Context, c baton.Chunk) (string, bool) {
	if c.Ord == 0 {
		return Passage(c), true
	}
	chunks, err := a.Retriever.Store.ListChunks(ctx, c.ArticleID)
	if err != nil || len(chunks) == 0 {
		return "", false
	}
	return Passage(chunks[0]), true
}

// Answer uses the LLM when there is one and falls back to the extractive
// answer when the model is unavailable.
func (a *Answerer) Answer(ctx context.Context, req AnswerRequest) (Answer, error) {
	if req.Article != "" {
		return a.FromArticle(ctx, req)
	}
	if a.LLM == nil {
		return a.Extractive(ctx, req)
	}
	ans, err := a.Generate(ctx, req)
	if err != nil && baton.ErrorCode(err) == baton.EUNAVAILABLE {
		return a.Extractive(ctx, req)
	}
	return ans, err
}

// grounded estimates how well the top passage answers the question: the
// cosine similarity of question and passage, plus a bonus when keyword and
// vector search agree on the article (0.25 when both rank it first, half
// that when one does). Two independent methods pointing at the same article
// is the best evidence a retriever has that it is the right one; similarity
// alone cannot tell a near miss from a hit. Calibrated on StackFAQ dev and
// CLINC150 out-of-scope validation questions (EvalFAQ prints the figures).
func grounded(res []Result) float64 {
	if len(res) == 0 {
		return 0
	}
	top := res[0]
	agree := 0.0
	if top.KeywordRank == 1 {
		agree += 0.5
	}
	if top.VectorRank == 1 {
		agree += 0.5
	}
	return clamp01(top.Vector + agreementBonus*agree)
}

// agreementBonus is what full agreement of the two methods adds.
const agreementBonus = 0.25

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

// trimPassage keeps the sentences of a passage that share words with the
// question best, in their order, at most three; with no match at all it
// keeps the first two. Tables and code blocks are kept whole when they match.
func trimPassage(passage string, q []string, tm terms) string {
	var units []string
	for _, b := range strings.Split(passage, "\n\n") {
		if isAtomic(b) {
			units = append(units, b)
			continue
		}
		units = append(units, splitSentences(b)...)
	}
	type scored struct {
		i     int
		score float64
	}
	var hits []scored
	for i, u := range units {
		if s := coverage(q, tm.of(u)); s > 0 {
			hits = append(hits, scored{i, s})
		}
	}
	if len(hits) == 0 {
		return strings.Join(units[:min(2, len(units))], " ")
	}
	// A sentence sharing one common word with the question is noise next
	// to one that covers it: keep those at least half as good as the best.
	top := 0.0
	for _, h := range hits {
		top = math.Max(top, h.score)
	}
	strong := hits[:0]
	for _, h := range hits {
		if h.score >= top/2 {
			strong = append(strong, h)
		}
	}
	hits = strong
	// The three best, shown in passage order.
	best := map[int]bool{}
	for len(best) < 3 && len(best) < len(hits) {
		bi := -1
		for j, h := range hits {
			if !best[h.i] && (bi < 0 || h.score > hits[bi].score) {
				bi = j
			}
		}
		best[hits[bi].i] = true
	}
	var out []string
	for i, u := range units {
		if best[i] {
			out = append(out, u)
		}
	}
	return strings.Join(out, " ")
}

var citeRE = regexp.MustCompile(`\[([a-z0-9][a-z0-9-]*)\]`)

// notCovered is what the model must answer when the passages do not cover
// the question.
const notCovered = "NOT_COVERED"

// Generate asks the LLM for an answer grounded in the retrieved passages.
// The prompt holds those passages and the redacted question, nothing else.
// An answer citing no article, citing one that was not retrieved, or with a
// paragraph that cites nothing is discarded (Answered false), as is a
// refusal.
func (a *Answerer) Generate(ctx context.Context, req AnswerRequest) (Answer, error) {
	if a.LLM == nil {
		return Answer{}, baton.Errorf(baton.EINVALID, "answer: no LLM configured")
	}
	if a.Redact == nil {
		return Answer{}, baton.Errorf(baton.EINVALID, "answer: an LLM needs a redaction function; the question would reach the model unredacted")
	}
	n := a.Passages
	if n <= 0 {
		n = 4
	}
	res, g, err := a.retrieve(ctx, req, n)
	if err != nil {
		return Answer{}, err
	}
	ans := Answer{Source: "llm:" + a.LLM.Model(), Results: res, Grounded: g}
	if len(res) == 0 {
		ans.Reason = "no passage found"
		return ans, nil
	}
	if ans.Grounded < a.threshold() {
		// Not worth a model call: the passages do not look like an answer.
		ans.Reason = fmt.Sprintf("grounded %.2f is below the threshold %.2f", ans.Grounded, a.threshold())
		return ans, nil
	}
	timeout := a.LLMTimeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := a.LLM.Complete(cctx, BuildPrompt(res, a.Redact(req.Question), req.Language))
	if err != nil {
		return ans, fmt.Errorf("answer: %w", err)
	}
	text := strings.TrimSpace(resp.Content)
	cites, problem := checkCitations(text, res)
	if problem != "" {
		ans.Reason = problem
		return ans, nil
	}
	ans.Text = text
	ans.Citations = cites
	ans.Answered = true
	return ans, nil
}

// BuildPrompt is the completion request for a grounded answer.
func BuildPrompt(res []Result, redactedQuestion, lang string) baton.CompletionRequest {
	var b strings.Builder
	for _, r := range res {
		fmt.Fprintf(&b, "[%s] %s\n%s\n\n", r.Chunk.Slug, r.Title, Passage(r.Chunk))
	}
	fmt.Fprintf(&b, "Question: %s", redactedQuestion)
	langName := lang
	if langName == "" {
		langName = "the language of the question"
	}
	system := "You answer customer questions for a support team using only the passages given. " +
		"Each passage starts with its article id in brackets. Rules: " +
		"1) Use only facts stated in the passages; never add facts. " +
		"2) After every sentence, cite the article it comes from as [article-id]. " +
		"3) Answer in " + langName + ", briefly and politely. " +
		"4) If the passages do not answer the question, reply with exactly " + notCovered + " and nothing else."
	return baton.CompletionRequest{
		System:      system,
		Messages:    []baton.ChatMessage{{Role: "user", Content: b.String()}},
		Temperature: 0,
		MaxTokens:   400,
	}
}

// checkCitations returns the cited articles of an LLM answer, or why the
// answer must be discarded.
func checkCitations(text string, res []Result) ([]Citation, string) {
	if text == "" {
		return nil, "the model returned nothing"
	}
	if strings.Contains(text, notCovered) {
		return nil, "the model says the passages do not cover the question"
	}
	known := map[string]Result{}
	for _, r := range res {
		if _, ok := known[r.Chunk.Slug]; !ok {
			known[r.Chunk.Slug] = r
		}
	}
	var cites []Citation
	seen := map[string]bool{}
	for _, m := range citeRE.FindAllStringSubmatch(text, -1) {
		slug := m[1]
		r, ok := known[slug]
		if !ok {
			return nil, fmt.Sprintf("the answer cites [%s], which was not retrieved", slug)
		}
		if !seen[slug] {
			seen[slug] = true
			cites = append(cites, Citation{Slug: slug, Title: r.Title, URL: r.URL})
		}
	}
	if len(cites) == 0 {
		return nil, "the answer cites no article"
	}
	for _, para := range strings.Split(text, "\n") {
		para = strings.TrimSpace(para)
		// A line that only introduces a list ("You can:") states nothing.
		if para != "" && !strings.HasSuffix(para, ":") && !citeRE.MatchString(para) {
			return nil, fmt.Sprintf("a part of the answer cites no article: %q", clip(para, 80))
		}
	}
	return cites, ""
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// ArticlesTried lists the retrieved articles with their fused retrieval
// score, best first, for the handoff packet: the agent sees what the bot
// looked at.
func (a Answer) ArticlesTried() []baton.ArticleRef {
	var out []baton.ArticleRef
	seen := map[string]bool{}
	for _, r := range a.Results {
		if seen[r.Chunk.Slug] {
			continue
		}
		seen[r.Chunk.Slug] = true
		out = append(out, baton.ArticleRef{Slug: r.Chunk.Slug, Title: r.Title, URL: r.URL, Score: r.Fused})
	}
	return out
}
