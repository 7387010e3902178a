package messenger

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
)

// DefaultBaseURL is the Graph API the sender talks to unless configured.
const DefaultBaseURL = "https://graph.facebook.com/v23.0"

// Messaging windows of the Messenger Platform: any message within 24 h of
// the customer's last one; a human agent's reply, tagged HUMAN_AGENT, up to
// 7 days.
const (
	Window      = 24 * time.Hour
	AgentWindow = 7 * 24 * time.Hour
)

// Page is one bot's Facebook Page.
type Page struct {
	AppSecret   string // signs webhooks (X-Hub-Signature-256)
	VerifyToken string // the GET handshake's hub.verify_token
	AccessToken string // Page access token for the Send API
	// PageID is the Page's numeric id: webhooks are matched on it.
	PageID string
}

// Handler serves Messenger webhooks for the bots in Pages.
type Handler struct {
	Pages    map[string]Page
	Ingester *channels.Ingester
	// Foreign takes what is addressed to a Page no bot is configured with.
	Foreign channels.Foreign
}

// ServeWebhook implements baton.WebhookHandler. Meta posts every Page of an
// app to the app's one URL, so each event goes to the bot configured with
// its Page (entry.id and recipient.id), when that bot's app secret signed
// the body too; an event for a Page no bot has is acknowledged and dropped.
func (h *Handler) ServeWebhook(ctx context.Context, r *baton.WebhookRequest) (*baton.WebhookResponse, error) {
	page, ok := h.Pages[r.BotID]
	if !ok {
		return nil, baton.Errorf(baton.ENOTFOUND, "messenger webhook: no Messenger channel for bot %q", r.BotID)
	}
	if resp, err := channels.MetaWebhook("messenger", page.AppSecret, page.VerifyToken, r); resp != nil || err != nil {
		return resp, err
	}
	parts, err := Parse(r.Body)
	if err != nil {
		return nil, err
	}
	sig := r.Header.Get(channels.MetaSignatureHeader)
	router := channels.Router[Page]{URLBot: r.BotID, Accounts: h.Pages, Verifies: func(p Page) bool {
		return channels.VerifyMetaSignature(p.AppSecret, r.Body, sig) == nil
	}}
	var batch channels.Batch
	var foreignMsgs, foreignStatuses int
	for _, p := range parts {
		botID, ok := router.Owner(func(pg Page) bool { return p.PageID != "" && pg.PageID == p.PageID })
		if !ok {
			foreignMsgs += len(p.Batch.Messages)
			foreignStatuses += len(p.Batch.Statuses) + len(p.Batch.Watermarks)
			continue
		}
		channels.SetBot(&p.Batch, botID)
		batch.Messages = append(batch.Messages, p.Batch.Messages...)
		batch.Statuses = append(batch.Statuses, p.Batch.Statuses...)
		batch.Watermarks = append(batch.Watermarks, p.Batch.Watermarks...)
	}
	h.Foreign.Drop(ctx, "messenger", r.BotID, foreignMsgs, foreignStatuses)
	if _, err := h.Ingester.Process(ctx, batch); err != nil {
		return nil, err
	}
	return channels.OK(), nil
}

// Sender sends through the Messenger Send API.
type Sender struct {
	Pages   map[string]Page
	BaseURL string // DefaultBaseURL when empty; tests point it at a fake
	Client  *http.Client
	Timeout time.Duration
	Clock   baton.Clock
	// Redact cleans the Send API's error text before it becomes a
	// message's failure reason, a job error or a log line: it echoes PSIDs.
	// Without it the text is dropped and only the code kept.
	Redact baton.Redactor
}

func (s *Sender) now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock.Now()
}

// Send implements baton.Sender. Inside 24 h of the customer's last message
// it sends as a RESPONSE; after that only a human agent may answer, tagged
// HUMAN_AGENT, for up to 7 days; anything else fails with the reason.
func (s *Sender) Send(ctx context.Context, conv *baton.Conversation, msg *baton.Message) (string, error) {
	page, ok := s.Pages[conv.BotID]
	if !ok || page.AccessToken == "" {
		return "", baton.Errorf(baton.EINVALID, "messenger: bot %q has no Facebook Page configured", conv.BotID)
	}
	body, err := buildMessage(conv.Address, msg)
	if err != nil {
		return "", err
	}
	now := s.now()
	switch {
	case channels.WithinWindow(conv.LastInboundAt, now, Window):
		body["messaging_type"] = "RESPONSE"
	case msg.Author == baton.AuthorAgent && channels.WithinWindow(conv.LastInboundAt, now, AgentWindow):
		body["messaging_type"] = "MESSAGE_TAG"
		body["tag"] = "HUMAN_AGENT"
	default:
		why := "the 24-hour messaging window is closed"
		if msg.Author == baton.AuthorAgent {
			why = "more than 7 days since the customer wrote: even a human agent's reply (HUMAN_AGENT) is not allowed"
		} else {
			why += " and only a human agent may answer now (HUMAN_AGENT, up to 7 days)"
		}
		return "", (&channels.SendError{Provider: "messenger", Code: "window_closed", Kind: baton.EFORBIDDEN, Reason: why}).Err()
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return "", baton.Errorf(baton.EINTERNAL, "messenger: encode message: %w", err)
	}
	base := s.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	pageID := page.PageID
	if pageID == "" {
		pageID = "me"
	}
	req, err := http.NewRequest(http.MethodPost, strings.TrimRight(base, "/")+"/"+pageID+"/messages", bytes.NewReader(raw))
	if err != nil {
		return "", baton.Errorf(baton.EINVALID, "messenger: bad base URL: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+page.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := channels.Do(ctx, s.Client, "messenger", s.Timeout, req)
	if err != nil {
		return "", err
	}
	if resp.Status/100 != 2 {
		return "", classify(resp, now, s.Redact).Err()
	}
	var ok2 struct {
		MessageID string `json:"message_id"`
	}
	if err := json.Unmarshal(resp.Body, &ok2); err != nil || ok2.MessageID == "" {
		return "", baton.Errorf(baton.EUNAVAILABLE, "messenger: success response without a message id")
	}
	return ok2.MessageID, nil
}

const (
	maxQuickReplies    = 13
	maxQuickReplyTitle = 20
	maxText            = 2000
)

func invalid(format string, args ...any) error {
	return baton.Errorf(baton.EINVALID, "messenger message: "+format, args...)
}

func buildMessage(psid string, msg *baton.Message) (map[string]any, error) {
	out, err := baton.OutboundOf(msg)
	if err != nil {
		return nil, err
	}
	if out.Template != nil || out.List != nil {
		return nil, invalid("templates and lists are WhatsApp features; Messenger takes text, quick replies and attachments")
	}
	m := map[string]any{}
	switch {
	case len(msg.Attachments) > 0:
		if len(msg.Attachments) > 1 || msg.Text != "" {
			return nil, invalid("one attachment per message and no text beside it; send the text as its own message")
		}
		a := msg.Attachments[0]
		kind := map[baton.MessageType]string{baton.TypeImage: "image", baton.TypeAudio: "audio", baton.TypeVideo: "video", baton.TypeDocument: "file"}[a.Kind]
		if kind == "" || a.URL == "" {
			return nil, invalid("attachments go by URL and must be image, audio, video or document (got %q)", a.Kind)
		}
		m["attachment"] = map[string]any{"type": kind, "payload": map[string]any{"url": a.URL, "is_reusable": true}}
	case msg.Text != "":
		if utf8.RuneCountInString(msg.Text) > maxText {
			return nil, invalid("text is over %d characters", maxText)
		}
		m["text"] = msg.Text
	default:
		return nil, invalid("nothing to send")
	}
	if len(out.Buttons) > 0 {
		if len(out.Buttons) > maxQuickReplies {
			return nil, invalid("%d quick replies, at most %d allowed", len(out.Buttons), maxQuickReplies)
		}
		qr := make([]map[string]string, len(out.Buttons))
		for i, b := range out.Buttons {
			if b.ID == "" || b.Title == "" || utf8.RuneCountInString(b.Title) > maxQuickReplyTitle {
				return nil, invalid("quick reply %d needs a payload and a title of 1 to %d characters", i, maxQuickReplyTitle)
			}
			qr[i] = map[string]string{"content_type": "text", "title": b.Title, "payload": b.ID}
		}
		m["quick_replies"] = qr
	}
	return map[string]any{"recipient": map[string]string{"id": psid}, "message": m}, nil
}

// classify turns a failed Send API answer into a SendError; the provider's
// text goes through redact first.
func classify(resp *channels.Response, now time.Time, redact baton.Redactor) *channels.SendError {
	se := &channels.SendError{Provider: "messenger", HTTPStatus: resp.Status, Kind: baton.EINVALID}
	g, ok := channels.ParseGraphError(resp.Body)
	if ok {
		se.Code = g.CodeString()
		se.Reason = channels.ProviderText(redact, g.Reason())
	} else {
		b := resp.Body
		if len(b) > 200 {
			b = b[:200]
		}
		se.Reason = channels.ProviderText(redact, strings.TrimSpace(string(b)))
	}
	se.RetryAfter = channels.ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	switch {
	case g.Code == 4 || g.Code == 17 || g.Code == 32 || g.Code == 613:
		se.Kind = baton.EUNAVAILABLE // application, user and page rate limits
	case g.Code == 1 || g.Code == 2 || g.Code == 1200:
		se.Kind = baton.EUNAVAILABLE // temporary failures
	case g.Code == 10 || g.Code == 200 || g.Code == 190 || g.Code == 230:
		se.Kind = baton.EFORBIDDEN // outside the window, permissions, token
	case g.Code == 551:
		se.Kind = baton.EINVALID // this person is not available
	case resp.Status == http.StatusTooManyRequests || resp.Status >= 500:
		se.Kind = baton.EUNAVAILABLE
	}
	return se
}
