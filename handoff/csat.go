package handoff

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

var _ Surveyor = (*Surveys)(nil)

// The survey's texts, by name. Built in for en, tr and ru; a bot's
// configuration overrides any of them per language.
const (
	SurveyAsk        = "ask"         // the rating question
	SurveySMSAsk     = "sms_ask"     // added to the question on SMS, which has no buttons
	SurveyListButton = "list_button" // the button that opens WhatsApp's list of ratings
	SurveyComment    = "comment"     // after a rating: thanks, and an optional comment
	SurveyThanks     = "thanks"      // after the comment
	SurveyRating1    = "rating_1"    // the choices, a button or list row each
	SurveyRating2    = "rating_2"
	SurveyRating3    = "rating_3"
	SurveyRating4    = "rating_4"
	SurveyRating5    = "rating_5"
)

// SurveyTextNames lists every survey text, in the order a configuration
// error lists them.
func SurveyTextNames() []string {
	return []string{SurveyAsk, SurveySMSAsk, SurveyListButton, SurveyComment, SurveyThanks,
		SurveyRating1, SurveyRating2, SurveyRating3, SurveyRating4, SurveyRating5}
}

// maxChoiceTitle is the longest rating title and list button every channel
// takes: Messenger quick replies and WhatsApp list buttons stop at 20.
const maxChoiceTitle = 20

func builtinSurveyTexts() map[string]map[string]string {
	return map[string]map[string]string{
		"en": {
			SurveyAsk:        "How did we do? Please rate this conversation from 1 (very poor) to 5 (excellent).",
			SurveySMSAsk:     "Reply with a number from 1 to 5.",
			SurveyListButton: "Rate",
			SurveyComment:    "Thank you! Is there anything you would like to add? Just write it here (optional).",
			SurveyThanks:     "Thank you for your feedback!",
			SurveyRating1:    "1 – Very poor",
			SurveyRating2:    "2 – Poor",
			SurveyRating3:    "3 – OK",
			SurveyRating4:    "4 – Good",
			SurveyRating5:    "5 – Excellent",
		},
		"tr": {
			SurveyAsk:        "Nasıldık? Lütfen bu görüşmeyi 1 (çok kötü) ile 5 (mükemmel) arasında puanlayın.",
			SurveySMSAsk:     "1 ile 5 arasında bir sayıyla yanıtlayın.",
			SurveyListButton: "Puanla",
			SurveyComment:    "Teşekkürler! Eklemek istediğiniz bir şey var mı? Buraya yazmanız yeterli (isteğe bağlı).",
			SurveyThanks:     "Geri bildiriminiz için teşekkür ederiz!",
			SurveyRating1:    "1 – Çok kötü",
			SurveyRating2:    "2 – Kötü",
			SurveyRating3:    "3 – Orta",
			SurveyRating4:    "4 – İyi",
			SurveyRating5:    "5 – Mükemmel",
		},
		"ru": {
			SurveyAsk:        "Как мы справились? Оцените, пожалуйста, этот разговор от 1 (очень плохо) до 5 (отлично).",
			SurveySMSAsk:     "Ответьте числом от 1 до 5.",
			SurveyListButton: "Оценить",
			SurveyComment:    "Спасибо! Хотите что-нибудь добавить? Просто напишите здесь (необязательно).",
			SurveyThanks:     "Спасибо за отзыв!",
			SurveyRating1:    "1 – Очень плохо",
			SurveyRating2:    "2 – Плохо",
			SurveyRating3:    "3 – Нормально",
			SurveyRating4:    "4 – Хорошо",
			SurveyRating5:    "5 – Отлично",
		},
	}
}

// SurveyPolicy is one bot's satisfaction survey.
type SurveyPolicy struct {
	// Off asks nobody. Otherwise every conversation an agent resolves is
	// surveyed.
	Off bool
	// BotResolved surveys the conversations the bot resolved alone too.
	BotResolved bool
	// Languages are the bot's, its default first: a conversation in
	// another language is asked in the default one.
	Languages []string
	// AnswerWindow is how long after the request a rating is taken
	// [DefaultAnswerWindow]; CommentWindow how long after the rating the
	// customer's next message is its comment [DefaultCommentWindow].
	AnswerWindow  time.Duration
	CommentWindow time.Duration
	// Template is the approved WhatsApp template sent instead of the
	// question once the 24-hour window has closed; without one, such a
	// customer is not asked.
	Template *baton.Template
	// Texts override the built-in texts: language → text name → text.
	Texts map[string]map[string]string
}

// Defaults of SurveyPolicy.
const (
	DefaultAnswerWindow  = 7 * 24 * time.Hour
	DefaultCommentWindow = 30 * time.Minute
)

// whatsAppWindow is WhatsApp's customer service window: free-form
// messages only this long after the customer's last message.
const whatsAppWindow = 24 * time.Hour

// SurveysConfig is what Surveys needs.
type SurveysConfig struct {
	Bots     map[string]SurveyPolicy // by bot id; a bot without one is not surveyed
	Clock    baton.Clock             // [baton.SystemClock]
	Observer Observer                // optional: counts the answers
	Logger   *slog.Logger            // [discard]
}

// Surveys is the CSAT survey: asked when a conversation is resolved,
// answered by the customer's next messages. It implements Surveyor.
type Surveys struct {
	bots  map[string]*surveyBot
	clock baton.Clock
	obs   Observer
	log   *slog.Logger
}

type surveyBot struct {
	SurveyPolicy
	texts map[string]map[string]string // complete for every language of the bot
}

// NewSurveys checks every bot's policy (SurveyPolicy.Check) and builds the
// survey. Problems are EINVALID, each named by bot and path.
func NewSurveys(cfg SurveysConfig) (*Surveys, error) {
	s := &Surveys{bots: map[string]*surveyBot{}, clock: cfg.Clock, obs: cfg.Observer, log: cfg.Logger}
	if s.clock == nil {
		s.clock = baton.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var problems []string
	for _, id := range sortedKeys(cfg.Bots) {
		p := cfg.Bots[id]
		if ps := p.Check(); len(ps) > 0 {
			for _, pr := range ps {
				problems = append(problems, fmt.Sprintf("bot %s: %s", id, pr))
			}
			continue
		}
		if p.AnswerWindow <= 0 {
			p.AnswerWindow = DefaultAnswerWindow
		}
		if p.CommentWindow <= 0 {
			p.CommentWindow = DefaultCommentWindow
		}
		b := &surveyBot{SurveyPolicy: p, texts: map[string]map[string]string{}}
		builtin := builtinSurveyTexts()
		for _, lang := range p.Languages {
			m := map[string]string{}
			for _, name := range SurveyTextNames() {
				if m[name] = p.Texts[lang][name]; strings.TrimSpace(m[name]) == "" {
					m[name] = builtin[lang][name]
				}
			}
			b.texts[lang] = m
		}
		s.bots[id] = b
	}
	if len(problems) > 0 {
		return nil, baton.Errorf(baton.EINVALID, "csat: %s", strings.Join(problems, "; "))
	}
	return s, nil
}

// Check lists what is wrong with p, each problem as "path: reason" with the
// path inside the bot's csat settings ("texts.de.ask: ..."): a language of
// the bot without built-in texts must give all of them, texts only for the
// bot's languages and by known names, choice titles that fit every channel,
// a template with a name and a language.
func (p SurveyPolicy) Check() []string {
	var out []string
	if len(p.Languages) == 0 {
		return []string{"languages: the bot has none"}
	}
	names := SurveyTextNames()
	builtin := builtinSurveyTexts()
	for _, lang := range sortedKeys(p.Texts) {
		if !slices.Contains(p.Languages, lang) {
			out = append(out, fmt.Sprintf("texts.%s: not one of the bot's languages", lang))
		}
		for _, name := range sortedKeys(p.Texts[lang]) {
			if !slices.Contains(names, name) {
				out = append(out, fmt.Sprintf("texts.%s.%s: unknown text; the texts are %s", lang, name, strings.Join(names, ", ")))
			}
		}
	}
	for _, lang := range p.Languages {
		for _, name := range names {
			t := p.Texts[lang][name]
			if strings.TrimSpace(t) == "" {
				t = builtin[lang][name]
			}
			switch {
			case t == "":
				out = append(out, fmt.Sprintf("texts.%s.%s: missing: %s has no built-in survey texts, so every one is needed", lang, name, lang))
			case isTitle(name) && utf8.RuneCountInString(t) > maxChoiceTitle:
				out = append(out, fmt.Sprintf("texts.%s.%s: over %d characters, the most a button or list title takes", lang, name, maxChoiceTitle))
			}
		}
	}
	if t := p.Template; t != nil && (t.Name == "" || t.Language == "") {
		out = append(out, "template: needs a name and a language")
	}
	return out
}

func isTitle(name string) bool {
	return name == SurveyListButton || strings.HasPrefix(name, "rating_")
}

// say is text name in the conversation's language, else the bot's default.
func (b *surveyBot) say(lang, name string) string {
	if m, ok := b.texts[lang]; ok {
		return m[name]
	}
	return b.texts[b.Languages[0]][name]
}

// Events Surveys appends to a conversation's log.
const (
	// EventCSATAnswered: the customer rated episode Data["resolution"]
	// Data["rating"].
	EventCSATAnswered = "csat_answered"
	// EventCSATComment: the customer commented on episode
	// Data["resolution"]; the comment is the survey's (baton.CSAT.Comment).
	EventCSATComment = "csat_comment"
	// EventCSATSaid: the survey's follow-up (Data["text"], the text's
	// name) was sent for job Data["job"]; it makes the job's re-run a no-op.
	EventCSATSaid = "csat_said"
)

// RatingPayloadPrefix starts the payload of every rating button and list
// row: "csat:5".
const RatingPayloadPrefix = "csat:"

// Ask implements Surveyor. by is who resolved conv: an agent ("maya",
// "agent:maya", "admin:maya"), or "" or "bot" for the bot. A bot-resolved
// conversation is asked only when its bot's policy says so. Nothing is
// asked (and nil returned) when the bot has no survey, the survey of this
// episode was asked already, the customer opted out, or the WhatsApp
// window is closed and no template is configured.
func (s *Surveys) Ask(ctx context.Context, tx baton.Store, conv *baton.Conversation, by string) error {
	b := s.bots[conv.BotID]
	if b == nil || b.Off {
		return nil
	}
	botResolved, agent := resolver(conv, by)
	if botResolved && !b.BotResolved {
		return nil
	}
	if conv.Resolutions < 1 {
		return baton.Errorf(baton.EINVALID, "csat: conversation %d was never resolved; ask when it is", conv.ID)
	}
	id, err := tx.GetIdentity(ctx, conv.BotID, conv.Channel, conv.Address)
	switch {
	case err == nil && id.OptedOut:
		return nil
	case err != nil && baton.ErrorCode(err) != baton.ENOTFOUND:
		return fmt.Errorf("csat for conversation %d: identity: %w", conv.ID, err)
	}
	now := s.clock.Now()
	msg := b.request(conv, now)
	if msg == nil {
		s.log.LogAttrs(ctx, slog.LevelInfo, "csat not asked: the WhatsApp window is closed and no csat template is configured",
			slog.Int64("conversation", conv.ID), slog.String("bot", conv.BotID))
		return nil
	}
	survey := &baton.CSAT{ConversationID: conv.ID, Resolution: conv.Resolutions, BotID: conv.BotID, QueueID: conv.QueueID,
		AgentID: agent, Channel: conv.Channel, BotResolved: botResolved, RequestedAt: now}
	created, err := tx.RequestCSAT(ctx, survey)
	if err != nil {
		return fmt.Errorf("csat for conversation %d: %w", conv.ID, err)
	}
	if !created {
		return nil // this episode was asked about already: one request each
	}
	if err := baton.EnqueueReply(ctx, tx, conv, msg); err != nil {
		return fmt.Errorf("csat for conversation %d: %w", conv.ID, err)
	}
	return nil
}

// AskBotResolved surveys a conversation the bot has just resolved, when
// the bot's policy surveys those: the bot's resolution path calls it inside
// the transaction that resolved conv.
func (s *Surveys) AskBotResolved(ctx context.Context, tx baton.Store, conv *baton.Conversation) error {
	return s.Ask(ctx, tx, conv, "bot")
}

// resolver reads who resolved conv from by: the bot, or the agent (the
// conversation's last agent when an admin resolved it as the system).
func resolver(conv *baton.Conversation, by string) (botResolved bool, agent string) {
	switch by {
	case "", "bot":
		return true, ""
	case "admin", "system":
		return false, conv.AgentID
	}
	for _, prefix := range []string{"agent:", "admin:"} {
		if id, ok := strings.CutPrefix(by, prefix); ok {
			return false, id
		}
	}
	return false, by
}

// request is the rating question for conv's channel: a list on WhatsApp
// (it has three reply buttons, not five), quick replies on Messenger,
// buttons in the web chat, a line of instructions on SMS; the template on
// WhatsApp once the window has closed (nil without one).
func (b *surveyBot) request(conv *baton.Conversation, now time.Time) *baton.Message {
	lang := conv.Language
	msg := &baton.Message{Author: baton.AuthorSystem, Type: baton.TypeText, Text: b.say(lang, SurveyAsk)}
	choices := make([]baton.Choice, 0, baton.MaxCSATRating)
	for r := baton.MinCSATRating; r <= baton.MaxCSATRating; r++ {
		choices = append(choices, baton.Choice{ID: RatingPayloadPrefix + strconv.Itoa(r), Title: b.say(lang, "rating_"+strconv.Itoa(r))})
	}
	switch conv.Channel {
	case baton.ChannelWhatsApp:
		if conv.LastInboundAt == nil || now.Sub(*conv.LastInboundAt) >= whatsAppWindow {
			if b.Template == nil {
				return nil
			}
			t := *b.Template
			msg.Type = baton.TypeTemplate
			baton.SetOutbound(msg, baton.Outbound{Template: &t})
			return msg
		}
		rows := make([]baton.Row, len(choices))
		for i, c := range choices {
			rows[i] = baton.Row{ID: c.ID, Title: c.Title}
		}
		button := b.say(lang, SurveyListButton)
		baton.SetOutbound(msg, baton.Outbound{List: &baton.List{Button: button, Sections: []baton.Section{{Title: button, Rows: rows}}}})
	case baton.ChannelSMS:
		msg.Text += " " + b.say(lang, SurveySMSAsk)
	default:
		baton.SetOutbound(msg, baton.Outbound{Buttons: choices})
	}
	return msg
}

// Answer implements Surveyor. For conv resolved, with a survey of its
// latest episode:
//
//   - unanswered, asked within the answer window: a rating (see
//     ParseRating) is recorded, and the customer is thanked and asked for
//     an optional comment;
//   - answered: another rating is taken as answered and changes nothing
//     (the first answer stands); the first other text within the comment
//     window after the rating is its comment, and the customer is thanked.
//
// Anything else is no answer (false): the caller goes on as with any
// message. Answering changes nothing about the conversation itself.
func (s *Surveys) Answer(ctx context.Context, tx baton.Store, conv *baton.Conversation, msg *baton.Message) (bool, error) {
	// The message may not be stored yet: a Direction left empty is the
	// customer's.
	if conv.State != baton.StateResolved || conv.Resolutions < 1 || (msg.Direction != "" && msg.Direction != baton.DirectionIn) {
		return false, nil
	}
	survey, err := latestSurvey(ctx, tx, conv)
	if err != nil || survey == nil {
		return false, err
	}
	b := s.bots[conv.BotID]
	if b == nil {
		// A survey of a bot no longer configured: take the answer, say
		// nothing back.
		b = &surveyBot{SurveyPolicy: SurveyPolicy{AnswerWindow: DefaultAnswerWindow, CommentWindow: DefaultCommentWindow}}
	}
	now := s.clock.Now()
	rating, isRating := ParseRating(msg.Payload, msg.Text)
	if survey.AnsweredAt == nil {
		if !isRating || now.Sub(survey.RequestedAt) > b.AnswerWindow {
			return false, nil
		}
		return s.rate(ctx, tx, b, conv, survey, rating, now)
	}
	if isRating {
		// The first answer stands; a second tap is not a new message to
		// reopen for, while the survey is recent.
		return now.Sub(survey.RequestedAt) <= b.AnswerWindow, nil
	}
	if now.Sub(*survey.AnsweredAt) > b.CommentWindow || msg.Payload != "" || strings.TrimSpace(msg.Text) == "" {
		return false, nil
	}
	if survey.Comment != "" {
		return false, nil // the first comment stands
	}
	return s.comment(ctx, tx, b, conv, survey, msg, now)
}

// latestSurvey is the survey of conv's latest episode, or nil.
func latestSurvey(ctx context.Context, tx baton.Store, conv *baton.Conversation) (*baton.CSAT, error) {
	list, err := tx.ListCSAT(ctx, baton.CSATFilter{ConversationID: conv.ID, BotID: conv.BotID})
	if err != nil {
		return nil, fmt.Errorf("csat answer on conversation %d: %w", conv.ID, err)
	}
	for _, c := range list {
		if c.ConversationID == conv.ID && c.Resolution == conv.Resolutions {
			return c, nil
		}
	}
	return nil, nil
}

func (s *Surveys) rate(ctx context.Context, tx baton.Store, b *surveyBot, conv *baton.Conversation, survey *baton.CSAT, rating int, now time.Time) (bool, error) {
	_, err := tx.AnswerCSAT(ctx, baton.CSATAnswer{ConversationID: conv.ID, Resolution: survey.Resolution, Rating: rating, At: now})
	switch {
	case baton.ErrorCode(err) == baton.ECONFLICT:
		return true, nil // answered a moment ago: the first answer stands
	case err != nil:
		return false, fmt.Errorf("csat answer on conversation %d: %w", conv.ID, err)
	}
	ev := &baton.Event{ConversationID: conv.ID, Type: EventCSATAnswered, Actor: "customer", Reason: "the customer rated the conversation",
		Data: map[string]any{"resolution": survey.Resolution, "rating": rating}, At: now}
	if err := tx.AppendEvent(ctx, ev); err != nil {
		return false, fmt.Errorf("csat answer on conversation %d: %w", conv.ID, err)
	}
	if b.texts != nil {
		if err := sayLater(ctx, tx, conv, survey.Resolution, SurveyComment); err != nil {
			return false, fmt.Errorf("csat answer on conversation %d: %w", conv.ID, err)
		}
	}
	if s.obs != nil {
		s.obs.CSATAnswered(conv.BotID, rating)
	}
	return true, nil
}

// comment stores the customer's comment with the survey (CommentCSAT) and
// thanks them. A comment stored a moment ago by a concurrent message
// stands: this message is then no answer.
func (s *Surveys) comment(ctx context.Context, tx baton.Store, b *surveyBot, conv *baton.Conversation, survey *baton.CSAT, msg *baton.Message, now time.Time) (bool, error) {
	text := strings.TrimSpace(msg.Text)
	if r := []rune(text); len(r) > baton.MaxCSATComment {
		text = string(r[:baton.MaxCSATComment])
	}
	_, err := tx.CommentCSAT(ctx, conv.ID, survey.Resolution, text)
	switch {
	case baton.ErrorCode(err) == baton.ECONFLICT:
		return false, nil
	case err != nil:
		return false, fmt.Errorf("csat comment on conversation %d: %w", conv.ID, err)
	}
	// The log says that the customer commented; the text is the survey's.
	ev := &baton.Event{ConversationID: conv.ID, Type: EventCSATComment, Actor: "customer", Reason: "the customer commented on their rating",
		Data: map[string]any{"resolution": survey.Resolution}, At: now}
	if err := tx.AppendEvent(ctx, ev); err != nil {
		return false, fmt.Errorf("csat comment on conversation %d: %w", conv.ID, err)
	}
	if b.texts != nil {
		if err := sayLater(ctx, tx, conv, survey.Resolution, SurveyThanks); err != nil {
			return false, fmt.Errorf("csat comment on conversation %d: %w", conv.ID, err)
		}
	}
	return true, nil
}

// ratingWords are the number words a customer may rate with.
var ratingWords = map[string]int{
	"one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
	"bir": 1, "iki": 2, "üç": 3, "dört": 4, "beş": 5,
	"один": 1, "одна": 1, "единица": 1, "два": 2, "две": 2, "двойка": 2, "три": 3, "тройка": 3,
	"четыре": 4, "четвёрка": 4, "четверка": 4, "пять": 5, "пятёрка": 5, "пятерка": 5,
}

// ratingDigit is a bare rating with what people write after it: "5",
// "5/5", "5 out of 5", "5 stars", "5⭐", "5 из 5", "5 звёзд", "5 yıldız".
var ratingDigit = regexp.MustCompile(`^([1-5])(?:\s*(?:/\s*5|out\s+of\s+5|из\s+5|stars?|зв[её]зд[аы]?|yıldız|puan|балл(?:а|ов)?|[⭐★]+))?$`)

// ParseRating reads a rating from 1 to 5 out of a customer message: a
// button's or list row's payload ("csat:5", or a bare rating as payload)
// when there is one, else its text: a digit ("5", "5/5", "5 stars", "5⭐",
// "5️⃣"), one to five stars ("⭐⭐⭐⭐", "★★★"), or a number word in English,
// Turkish or Russian ("five", "beş", "пять"). A payload that is not a
// rating means another button: its text is not read.
func ParseRating(payload, text string) (int, bool) {
	if payload != "" {
		if v, ok := strings.CutPrefix(payload, RatingPayloadPrefix); ok {
			n, err := strconv.Atoi(v)
			return n, err == nil && n >= baton.MinCSATRating && n <= baton.MaxCSATRating
		}
		return parseRatingText(payload)
	}
	return parseRatingText(text)
}

func parseRatingText(s string) (int, bool) {
	// Emoji variation selectors and the keycap mark ("5️⃣") carry no
	// meaning here; case and closing punctuation neither.
	s = strings.Map(func(r rune) rune {
		if r == '\ufe0f' || r == '\ufe0e' || r == '\u20e3' {
			return -1
		}
		return r
	}, s)
	s = strings.ToLower(strings.TrimRight(strings.TrimSpace(s), ".!)"))
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if n, ok := ratingWords[s]; ok {
		return n, true
	}
	if m := ratingDigit.FindStringSubmatch(s); m != nil {
		return int(m[1][0] - '0'), true
	}
	stars := 0
	for _, r := range s {
		switch r {
		case '⭐', '★':
			stars++
		case ' ', '☆':
		default:
			return 0, false
		}
	}
	return stars, stars >= baton.MinCSATRating && stars <= baton.MaxCSATRating
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// sayPayload is the payload of a survey's follow-up job.
type sayPayload struct {
	Resolution int    `json:"resolution"`
	Text       string `json:"text"` // the text's name: SurveyComment or SurveyThanks
}

// sayLater enqueues the survey's follow-up to an answer as a job rather
// than the reply itself: Answer runs before ingestion stores the answer,
// and a reply written then would come before it in the transcript.
func sayLater(ctx context.Context, tx baton.Store, conv *baton.Conversation, resolution int, text string) error {
	payload, _ := json.Marshal(sayPayload{Resolution: resolution, Text: text})
	_, err := tx.Enqueue(ctx, &baton.Job{Kind: baton.JobCSAT, ConversationID: conv.ID,
		Key: fmt.Sprintf("csat:%d:%d:%s", conv.ID, resolution, text), Payload: payload})
	return err
}

// Jobs are the survey's job handlers over st: the follow-up to an answer.
func (s *Surveys) Jobs(st baton.Store) map[string]baton.JobHandler {
	return map[string]baton.JobHandler{baton.JobCSAT: baton.JobHandlerFunc(func(ctx context.Context, j *baton.Job) error {
		return s.say(ctx, st, j)
	})}
}

// say sends a follow-up once: the reply and an event naming the job are
// written together, and a re-run that finds the event sends nothing.
func (s *Surveys) say(ctx context.Context, st baton.Store, j *baton.Job) error {
	var p sayPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.Text == "" {
		return baton.Errorf(baton.EINVALID, "csat job %d: payload names no text", j.ID)
	}
	return st.Tx(ctx, func(tx baton.Store) error {
		conv, err := tx.GetConversation(ctx, j.ConversationID)
		if err != nil {
			return fmt.Errorf("csat job %d: %w", j.ID, err)
		}
		b := s.bots[conv.BotID]
		if b == nil || b.texts == nil {
			return nil
		}
		events, err := tx.ListEvents(ctx, conv.ID)
		if err != nil {
			return fmt.Errorf("csat job %d: %w", j.ID, err)
		}
		for _, e := range events {
			if e.Type == EventCSATSaid && sameID(e.Data["job"], j.ID) {
				return nil
			}
		}
		if err := baton.EnqueueReply(ctx, tx, conv, &baton.Message{Author: baton.AuthorSystem, Type: baton.TypeText,
			Text: b.say(conv.Language, p.Text)}); err != nil {
			return fmt.Errorf("csat job %d: %w", j.ID, err)
		}
		return tx.AppendEvent(ctx, &baton.Event{ConversationID: conv.ID, Type: EventCSATSaid, Actor: "system",
			Reason: "the survey's follow-up", Data: map[string]any{"job": j.ID, "text": p.Text, "resolution": p.Resolution}, At: s.clock.Now()})
	})
}

// sameID reports whether v, an id read back from an event's JSON data, is
// id.
func sameID(v any, id int64) bool {
	switch n := v.(type) {
	case float64:
		return n == float64(id)
	case int64:
		return n == id
	case int:
		return int64(n) == id
	case json.Number:
		x, err := n.Int64()
		return err == nil && x == id
	}
	return false
}
