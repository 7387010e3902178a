package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
)

// DefaultBaseURL is the Graph API the sender talks to unless configured.
const DefaultBaseURL = "https://graph.facebook.com/v23.0"

// Window is WhatsApp's customer service window: free-form messages may be
// sent only this long after the customer's last message.
const Window = 24 * time.Hour

// Account is one bot's WhatsApp Business number.
type Account struct {
	AppSecret     string // signs webhooks (X-Hub-Signature-256)
	VerifyToken   string // the GET handshake's hub.verify_token
	AccessToken   string // Graph API bearer token
	PhoneNumberID string
	// Template is sent instead of a free-form message once the 24-hour
	// window has closed. Without one, such a message fails with the reason.
	Template *WindowTemplate
}

// WindowTemplate is the approved template that re-opens a conversation.
type WindowTemplate struct {
	Name     string
	Language string
	// WithText passes the undeliverable message's text as the template's
	// one body parameter.
	WithText bool
}

// Handler serves WhatsApp webhooks for the bots in Accounts.
type Handler struct {
	Accounts map[string]Account
	Ingester *channels.Ingester
	// Foreign takes what is addressed to a number no bot is configured
	// with.
	Foreign channels.Foreign
	// Redact cleans the failure reasons of status webhooks before they are
	// stored; without it they are dropped (the code is kept).
	Redact baton.Redactor
}

// ServeWebhook implements baton.WebhookHandler: GET is the subscription
// handshake, POST is a notification, verified over the raw body, parsed
// whole, then stored. Meta posts every number of an app to the app's one
// URL, so each change goes to the bot configured with its phone_number_id
// (when that bot's app secret signed the body too); a change for a number
// no bot has is acknowledged and dropped.
func (h *Handler) ServeWebhook(ctx context.Context, r *baton.WebhookRequest) (*baton.WebhookResponse, error) {
	acct, ok := h.Accounts[r.BotID]
	if !ok {
		return nil, baton.Errorf(baton.ENOTFOUND, "whatsapp webhook: no WhatsApp channel for bot %q", r.BotID)
	}
	if resp, err := channels.MetaWebhook("whatsapp", acct.AppSecret, acct.VerifyToken, r); resp != nil || err != nil {
		return resp, err
	}
	parts, err := Parse(r.Body)
	if err != nil {
		return nil, err
	}
	sig := r.Header.Get(channels.MetaSignatureHeader)
	router := channels.Router[Account]{URLBot: r.BotID, Accounts: h.Accounts, Verifies: func(a Account) bool {
		return channels.VerifyMetaSignature(a.AppSecret, r.Body, sig) == nil
	}}
	var batch channels.Batch
	var statuses []ownedStatus
	var foreignMsgs, foreignStatuses int
	for _, p := range parts {
		botID, ok := router.Owner(func(a Account) bool { return a.PhoneNumberID == p.PhoneNumberID })
		if !ok {
			foreignMsgs += len(p.Batch.Messages)
			foreignStatuses += len(p.Batch.Statuses)
			continue
		}
		channels.SetBot(&p.Batch, botID)
		batch.Messages = append(batch.Messages, p.Batch.Messages...)
		for _, u := range p.Batch.Statuses {
			u.Reason = channels.ProviderText(h.Redact, u.Reason)
			statuses = append(statuses, ownedStatus{u, h.Accounts[botID]})
		}
	}
	h.Foreign.Drop(ctx, "whatsapp", r.BotID, foreignMsgs, foreignStatuses)
	if _, err := h.Ingester.Process(ctx, batch); err != nil {
		return nil, err
	}
	for _, s := range statuses {
		if err := h.applyStatus(ctx, s.acct, s.update); err != nil {
			return nil, err
		}
	}
	return channels.OK(), nil
}

// ownedStatus is a status update with the account of the number it is for.
type ownedStatus struct {
	update baton.StatusUpdate
	acct   Account
}

// applyStatus moves an outbound message forward. A free-form message that
// WhatsApp accepted and then failed with 131047 (the 24-hour window had
// closed) is answered like a synchronous 131047: the account's template is
// queued in the same transaction, and only on the status's first arrival,
// so a redelivered webhook cannot queue it twice.
func (h *Handler) applyStatus(ctx context.Context, acct Account, u baton.StatusUpdate) error {
	st := h.Ingester.Store
	if u.Status != baton.StatusFailed || u.Code != codeReEngagement || acct.Template == nil {
		_, _, err := channels.ApplyStatus(ctx, st, u)
		return err
	}
	return st.Tx(ctx, func(tx baton.Store) error {
		changed, known, err := channels.ApplyStatus(ctx, tx, u)
		if err != nil || !known || !changed {
			return err
		}
		m, err := tx.GetMessageByProviderID(ctx, baton.ChannelWhatsApp, u.ProviderID)
		if err != nil {
			return fmt.Errorf("whatsapp status: %w", err)
		}
		if out, err := baton.OutboundOf(m); err != nil || out.Template != nil || m.Direction != baton.DirectionOut {
			return nil // a template that failed is not retried as a template
		}
		conv, err := tx.GetConversation(ctx, m.ConversationID)
		if err != nil {
			return fmt.Errorf("whatsapp status: %w", err)
		}
		t := baton.Template{Name: acct.Template.Name, Language: acct.Template.Language}
		if acct.Template.WithText && m.Text != "" {
			t.BodyParams = []string{m.Text}
		}
		reply := &baton.Message{Author: m.Author, AuthorID: m.AuthorID, Type: baton.TypeTemplate, Text: m.Text}
		baton.SetOutbound(reply, baton.Outbound{Template: &t})
		return baton.EnqueueReply(ctx, tx, conv, reply)
	})
}

// Sender sends through the WhatsApp Cloud API.
type Sender struct {
	Accounts map[string]Account
	BaseURL  string // DefaultBaseURL when empty; tests point it at a fake
	Client   *http.Client
	Timeout  time.Duration
	Clock    baton.Clock
	// Redact cleans the Graph API's error text before it becomes a
	// message's failure reason, a job error or a log line: it echoes phone
	// numbers. Without it the text is dropped and only the code kept.
	Redact baton.Redactor
}

func (s *Sender) now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock.Now()
}

func (s *Sender) base() string {
	if s.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimRight(s.BaseURL, "/")
}

func (s *Sender) account(botID string) (Account, error) {
	a, ok := s.Accounts[botID]
	if !ok || a.AccessToken == "" || a.PhoneNumberID == "" {
		return a, baton.Errorf(baton.EINVALID, "whatsapp: bot %q has no WhatsApp number configured", botID)
	}
	return a, nil
}

// Send implements baton.Sender. Outside the 24-hour window a free-form
// message is not attempted: the account's template goes instead, or the
// message fails with the reason. The provider's own verdict (131047) is
// handled the same way, for a window that closed without us knowing.
func (s *Sender) Send(ctx context.Context, conv *baton.Conversation, msg *baton.Message) (string, error) {
	acct, err := s.account(conv.BotID)
	if err != nil {
		return "", err
	}
	out, err := baton.OutboundOf(msg)
	if err != nil {
		return "", err
	}
	if out.Template == nil && !channels.WithinWindow(conv.LastInboundAt, s.now(), Window) {
		return s.sendTemplateInstead(ctx, acct, conv, msg, "window_closed", "the 24-hour customer service window is closed")
	}
	body, err := buildMessage(conv.Address, msg, out)
	if err != nil {
		return "", err
	}
	id, err := s.post(ctx, acct, body)
	var se *channels.SendError
	if err != nil && out.Template == nil && asSendError(err, &se) && se.Code == codeReEngagement {
		return s.sendTemplateInstead(ctx, acct, conv, msg, se.Code, se.Reason)
	}
	return id, err
}

func asSendError(err error, se **channels.SendError) bool {
	return err != nil && errors.As(err, se)
}

func (s *Sender) sendTemplateInstead(ctx context.Context, acct Account, conv *baton.Conversation, msg *baton.Message, code, why string) (string, error) {
	if acct.Template == nil {
		return "", (&channels.SendError{
			Provider: "whatsapp", Code: code, Kind: baton.EFORBIDDEN,
			Reason: why + " and no template is configured: the customer must write first",
		}).Err()
	}
	t := baton.Template{Name: acct.Template.Name, Language: acct.Template.Language}
	if acct.Template.WithText && msg.Text != "" {
		t.BodyParams = []string{msg.Text}
	}
	body, err := buildMessage(conv.Address, &baton.Message{}, baton.Outbound{Template: &t})
	if err != nil {
		return "", err
	}
	return s.post(ctx, acct, body)
}

func (s *Sender) post(ctx context.Context, acct Account, body map[string]any) (string, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return "", baton.Errorf(baton.EINTERNAL, "whatsapp: encode message: %w", err)
	}
	req, err := http.NewRequest(http.MethodPost, s.base()+"/"+acct.PhoneNumberID+"/messages", bytes.NewReader(raw))
	if err != nil {
		return "", baton.Errorf(baton.EINVALID, "whatsapp: bad base URL: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+acct.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := channels.Do(ctx, s.Client, "whatsapp", s.Timeout, req)
	if err != nil {
		return "", err
	}
	if resp.Status/100 != 2 {
		return "", classify(resp, s.now(), s.Redact).Err()
	}
	var ok struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
		Success bool `json:"success"`
	}
	if err := json.Unmarshal(resp.Body, &ok); err != nil {
		return "", baton.Errorf(baton.EUNAVAILABLE, "whatsapp: unreadable success response: %w", err)
	}
	if len(ok.Messages) == 0 {
		if ok.Success {
			return "", nil
		}
		return "", baton.Errorf(baton.EUNAVAILABLE, "whatsapp: success response without a message id")
	}
	return ok.Messages[0].ID, nil
}

// MarkRead marks a customer's message read (blue ticks) and shows the
// typing indicator when typing is set.
func (s *Sender) MarkRead(ctx context.Context, botID, wamid string, typing bool) error {
	acct, err := s.account(botID)
	if err != nil {
		return err
	}
	body := map[string]any{"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
	if typing {
		body["typing_indicator"] = map[string]string{"type": "text"}
	}
	_, err = s.post(ctx, acct, body)
	return err
}

// FetchMedia opens a customer's media by its media id, for agents: the
// Graph API gives a short-lived URL that needs the same bearer token. The
// file is streamed (WhatsApp media runs to 100 MB); the caller closes it,
// and ctx bounds the whole download.
func (s *Sender) FetchMedia(ctx context.Context, botID, mediaID string) (file io.ReadCloser, mimeType string, err error) {
	acct, err := s.account(botID)
	if err != nil {
		return nil, "", err
	}
	req, err := http.NewRequest(http.MethodGet, s.base()+"/"+url.PathEscape(mediaID), nil)
	if err != nil {
		return nil, "", baton.Errorf(baton.EINVALID, "whatsapp media: bad base URL: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+acct.AccessToken)
	meta, err := channels.Do(ctx, s.Client, "whatsapp", s.Timeout, req)
	if err != nil {
		return nil, "", err
	}
	if meta.Status/100 != 2 {
		return nil, "", classify(meta, s.now(), s.Redact).Err()
	}
	var m struct {
		URL      string `json:"url"`
		MIMEType string `json:"mime_type"`
	}
	if err := json.Unmarshal(meta.Body, &m); err != nil || m.URL == "" {
		return nil, "", baton.Errorf(baton.EUNAVAILABLE, "whatsapp media %s: no download URL in the answer", mediaID)
	}
	dl, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL, nil)
	if err != nil {
		return nil, "", baton.Errorf(baton.EUNAVAILABLE, "whatsapp media %s: bad download URL: %w", mediaID, err)
	}
	dl.Header.Set("Authorization", "Bearer "+acct.AccessToken)
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(dl)
	if err != nil {
		return nil, "", channels.TransportError("whatsapp", err)
	}
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return nil, "", classify(&channels.Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, s.now(), s.Redact).Err()
	}
	return resp.Body, m.MIMEType, nil
}

// WhatsApp error codes Baton acts on.
const (
	codeReEngagement = "131047" // more than 24 hours since the customer wrote
)

// classify turns a failed Graph API answer into a SendError: rate limits and
// server trouble are retried, the rest is the message's fault. The
// provider's text goes through redact first.
func classify(resp *channels.Response, now time.Time, redact baton.Redactor) *channels.SendError {
	se := &channels.SendError{Provider: "whatsapp", HTTPStatus: resp.Status, Kind: baton.EINVALID}
	g, ok := channels.ParseGraphError(resp.Body)
	if ok {
		se.Code = fmt.Sprint(g.Code)
		se.Reason = channels.ProviderText(redact, g.Reason())
	} else {
		se.Reason = channels.ProviderText(redact, strings.TrimSpace(string(truncate(resp.Body, 200))))
	}
	se.RetryAfter = channels.ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	switch {
	case se.Code == "130429" || se.Code == "131056" || se.Code == "4" || se.Code == "80007":
		// Throughput, pair and app rate limits: back off and retry. The
		// pair limit allows about one message per 6 s to one customer.
		se.Kind = baton.EUNAVAILABLE
		if se.RetryAfter == 0 && se.Code == "131056" {
			se.RetryAfter = 6 * time.Second
		}
	case se.Code == codeReEngagement:
		se.Kind = baton.EFORBIDDEN
	case se.Code == "131000" || se.Code == "131016" || se.Code == "2" || se.Code == "1":
		se.Kind = baton.EUNAVAILABLE // "something went wrong", service unavailable
	case se.Code == "190" || se.Code == "10" || se.Code == "200":
		se.Kind = baton.EFORBIDDEN // token or permission: not this message's fault, but retrying cannot help
	case resp.Status == http.StatusTooManyRequests || resp.Status >= 500:
		se.Kind = baton.EUNAVAILABLE
	}
	return se
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
