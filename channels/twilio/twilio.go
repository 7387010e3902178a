// Package twilio is the SMS/MMS channel through Twilio Programmable
// Messaging: signed form webhooks (inbound messages and status callbacks),
// and the REST sender. STOP, START and HELP are honoured by the ingestion
// path (see channels.SMSKeyword) and by the outbox's opt-out check.
package twilio

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
)

// DefaultBaseURL is Twilio's REST API.
const DefaultBaseURL = "https://api.twilio.com"

// Account is one bot's Twilio sender.
type Account struct {
	AccountSID string
	AuthToken  string // authenticates REST calls and signs webhooks
	// From is the sending number; MessagingServiceSID, when set, is used
	// instead so that Twilio picks the number.
	From                string
	MessagingServiceSID string
	// StatusCallback is the public URL Twilio reports delivery to: the
	// same webhook URL as inbound messages is fine, the handler tells
	// them apart.
	StatusCallback string
}

// Handler serves Twilio webhooks for the bots in Accounts.
type Handler struct {
	Accounts map[string]Account
	Ingester *channels.Ingester
	// Foreign takes what is addressed to an account or number no bot is
	// configured with.
	Foreign channels.Foreign
	// Redact cleans Twilio's error text in status callbacks before it is
	// stored; without it only the code and its known meaning are kept.
	Redact baton.Redactor
}

// twiML is the empty TwiML answer: replies go out through the REST API,
// from the outbox, not inline.
var twiML = []byte(`<?xml version="1.0" encoding="UTF-8"?><Response></Response>`)

// ServeWebhook implements baton.WebhookHandler. The signature covers the
// public URL Twilio called and every form parameter, so the URL must be the
// configured public one (r.PublicURL), never one rebuilt from the Host.
// What a webhook carries belongs to the bot whose account (AccountSid) and
// number (To of a message, From of a status callback, or the Messaging
// Service) it names, when that bot's auth token signed it too; anything
// else is acknowledged, as Twilio expects, and dropped.
func (h *Handler) ServeWebhook(ctx context.Context, r *baton.WebhookRequest) (*baton.WebhookResponse, error) {
	acct, ok := h.Accounts[r.BotID]
	if !ok {
		return nil, baton.Errorf(baton.ENOTFOUND, "twilio webhook: no SMS channel for bot %q", r.BotID)
	}
	if r.Method != http.MethodPost {
		return nil, baton.Errorf(baton.EINVALID, "twilio webhook: method %s not allowed, configure the webhook as POST", r.Method)
	}
	if len(r.Body) > baton.MaxWebhookBody {
		return nil, baton.Errorf(baton.ETOOLARGE, "twilio webhook: body of %d bytes is over the %d-byte limit", len(r.Body), baton.MaxWebhookBody)
	}
	params, err := ParseForm(r.Body)
	if err != nil {
		return nil, err
	}
	sig := r.Header.Get(channels.TwilioSignatureHeader)
	if err := channels.VerifyTwilioSignature(acct.AuthToken, r.PublicURL, params, sig); err != nil {
		return nil, err
	}
	batch, err := Parse(params, h.Redact)
	if err != nil {
		return nil, err
	}
	router := channels.Router[Account]{URLBot: r.BotID, Accounts: h.Accounts, Verifies: func(a Account) bool {
		return channels.VerifyTwilioSignature(a.AuthToken, r.PublicURL, params, sig) == nil
	}}
	botID, ok := router.Owner(func(a Account) bool { return owns(a, params) })
	if !ok {
		h.Foreign.Drop(ctx, "twilio", r.BotID, len(batch.Messages), len(batch.Statuses))
		return &baton.WebhookResponse{Status: 200, ContentType: "text/xml", Body: twiML}, nil
	}
	channels.SetBot(&batch, botID)
	if _, err := h.Ingester.Process(ctx, batch); err != nil {
		return nil, err
	}
	return &baton.WebhookResponse{Status: 200, ContentType: "text/xml", Body: twiML}, nil
}

// owns reports whether a webhook's parameters are for account a: its
// AccountSid, and its number, which is the To of an inbound message and the
// From of a status callback; a Messaging Service sends and receives on any
// number of its pool, so there its SID says it.
func owns(a Account, p url.Values) bool {
	if a.AccountSID == "" || p.Get("AccountSid") != a.AccountSID {
		return false
	}
	if a.MessagingServiceSID != "" && p.Get("MessagingServiceSid") == a.MessagingServiceSID {
		return true
	}
	ours := p.Get("To")
	if isStatus(p) {
		ours = p.Get("From")
	}
	return a.From != "" && samePhone(ours, a.From)
}

// samePhone compares two phone numbers by their digits, so that
// "+1 (415) 555-0199" is +14155550199.
func samePhone(a, b string) bool {
	da, db := digits(a), digits(b)
	return da != "" && da == db
}

func digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// isStatus tells a status callback (it carries MessageStatus) from an
// inbound message.
func isStatus(p url.Values) bool {
	st := p.Get("MessageStatus")
	return st != "" && st != "received"
}

// ParseForm decodes a form-encoded webhook body strictly: a malformed body
// is EINVALID rather than half-read.
func ParseForm(body []byte) (url.Values, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, baton.Errorf(baton.EINVALID, "twilio webhook: body is not form-encoded: %w", err)
	}
	return v, nil
}

// Parse turns a Twilio webhook's parameters into a batch with no bot yet
// (the handler says whose it is): a status callback becomes a status
// update, anything else an inbound SMS or MMS with its media URLs. Twilio's
// ErrorMessage goes through redact before it is kept.
func Parse(p url.Values, redact baton.Redactor) (channels.Batch, error) {
	var b channels.Batch
	sid := p.Get("MessageSid")
	if sid == "" {
		sid = p.Get("SmsSid")
	}
	if sid == "" {
		return b, baton.Errorf(baton.EINVALID, "twilio webhook: no MessageSid parameter")
	}
	if isStatus(p) {
		u, ok := parseStatus(sid, p.Get("MessageStatus"), p.Get("ErrorCode"), channels.ProviderText(redact, p.Get("ErrorMessage")))
		if ok {
			b.Statuses = append(b.Statuses, u)
		}
		return b, nil
	}
	from := p.Get("From")
	if from == "" {
		return b, baton.Errorf(baton.EINVALID, "twilio webhook: message %s has no From parameter", sid)
	}
	in := baton.InboundMessage{
		Channel: baton.ChannelSMS, ProviderMessageID: sid, From: from,
		Type: baton.TypeText, RawType: "sms", Text: p.Get("Body"),
	}
	n := 0
	if s := p.Get("NumMedia"); s != "" {
		var err error
		n, err = strconv.Atoi(s)
		if err != nil || n < 0 || n > 10 {
			return channels.Batch{}, baton.Errorf(baton.EINVALID, "twilio webhook: NumMedia is not a number from 0 to 10")
		}
	}
	for i := 0; i < n; i++ {
		k := strconv.Itoa(i)
		u := p.Get("MediaUrl" + k)
		if u == "" {
			return channels.Batch{}, baton.Errorf(baton.EINVALID, "twilio webhook: NumMedia is %d but MediaUrl%s is missing", n, k)
		}
		ct := p.Get("MediaContentType" + k)
		in.Attachments = append(in.Attachments, baton.Attachment{Kind: kindOf(ct), URL: u, MIMEType: ct})
	}
	if n > 0 {
		in.RawType = "mms"
		if in.Text == "" {
			in.Type = in.Attachments[0].Kind
		}
	}
	b.Messages = append(b.Messages, in)
	return b, nil
}

func kindOf(contentType string) baton.MessageType {
	switch {
	case strings.HasPrefix(contentType, "image/"):
		return baton.TypeImage
	case strings.HasPrefix(contentType, "audio/"):
		return baton.TypeAudio
	case strings.HasPrefix(contentType, "video/"):
		return baton.TypeVideo
	case strings.HasPrefix(contentType, "text/vcard"), strings.HasPrefix(contentType, "text/x-vcard"):
		return baton.TypeContacts
	}
	return baton.TypeDocument
}

// errorReason explains the carrier and Twilio codes a support agent is most
// likely to meet; others keep Twilio's message or just the code.
func errorReason(code string) string {
	switch code {
	case "30003":
		return "unreachable destination handset"
	case "30004":
		return "message blocked"
	case "30005":
		return "unknown destination handset"
	case "30006":
		return "landline or unreachable carrier"
	case "30007":
		return "message filtered by the carrier"
	case "30008":
		return "unknown error from the carrier"
	case "21610":
		return "the recipient unsubscribed (STOP)"
	case "21211":
		return "invalid To phone number"
	case "21614":
		return "To number is not a mobile number"
	}
	return ""
}

func parseStatus(sid, status, code, msg string) (baton.StatusUpdate, bool) {
	u := baton.StatusUpdate{Channel: baton.ChannelSMS, ProviderID: sid}
	switch status {
	case "queued", "accepted", "scheduled":
		u.Status = baton.StatusQueued
	case "sending":
		u.Status = baton.StatusSending
	case "sent":
		u.Status = baton.StatusSent
	case "delivered":
		u.Status = baton.StatusDelivered
	case "read":
		u.Status = baton.StatusRead
	case "undelivered", "failed", "canceled":
		u.Status = baton.StatusFailed
		u.Code = code
		u.Reason = status
		if r := errorReason(code); r != "" {
			u.Reason += ": " + r
		} else if msg != "" {
			u.Reason += ": " + msg
		}
	default:
		return u, false
	}
	return u, true
}

// Sender sends SMS and MMS through Twilio's REST API.
type Sender struct {
	Accounts map[string]Account
	BaseURL  string // DefaultBaseURL when empty; tests point it at a fake
	Client   *http.Client
	Timeout  time.Duration
	Clock    baton.Clock
	// Redact cleans Twilio's error text before it becomes a message's
	// failure reason, a job error or a log line: it echoes phone numbers.
	// Without it the text is dropped and only the code kept.
	Redact baton.Redactor
}

// Send implements baton.Sender.
func (s *Sender) Send(ctx context.Context, conv *baton.Conversation, msg *baton.Message) (string, error) {
	acct, ok := s.Accounts[conv.BotID]
	if !ok || acct.AccountSID == "" || acct.AuthToken == "" || (acct.From == "" && acct.MessagingServiceSID == "") {
		return "", baton.Errorf(baton.EINVALID, "twilio: bot %q has no SMS sender configured", conv.BotID)
	}
	form, err := buildForm(conv.Address, msg, acct)
	if err != nil {
		return "", err
	}
	base := s.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	endpoint := strings.TrimRight(base, "/") + "/2010-04-01/Accounts/" + url.PathEscape(acct.AccountSID) + "/Messages.json"
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", baton.Errorf(baton.EINVALID, "twilio: bad base URL: %w", err)
	}
	req.SetBasicAuth(acct.AccountSID, acct.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := channels.Do(ctx, s.Client, "twilio", s.Timeout, req)
	if err != nil {
		return "", err
	}
	now := time.Now()
	if s.Clock != nil {
		now = s.Clock.Now()
	}
	if resp.Status/100 != 2 {
		return "", classify(resp, now, s.Redact).Err()
	}
	var ok2 struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(resp.Body, &ok2); err != nil || ok2.SID == "" {
		return "", baton.Errorf(baton.EUNAVAILABLE, "twilio: success response without a message sid")
	}
	return ok2.SID, nil
}

const maxBody = 1600 // Twilio's limit for one (concatenated) SMS

func buildForm(to string, msg *baton.Message, acct Account) (url.Values, error) {
	out, err := baton.OutboundOf(msg)
	if err != nil {
		return nil, err
	}
	text := msg.Text
	// SMS has no buttons or lists: the choices become lines of text.
	for _, b := range out.Buttons {
		text += "\n- " + b.Title
	}
	if out.List != nil {
		for _, sec := range out.List.Sections {
			for _, r := range sec.Rows {
				text += "\n- " + r.Title
			}
		}
	}
	f := url.Values{}
	f.Set("To", to)
	if acct.MessagingServiceSID != "" {
		f.Set("MessagingServiceSid", acct.MessagingServiceSID)
	} else {
		f.Set("From", acct.From)
	}
	if text != "" {
		if len([]rune(text)) > maxBody {
			return nil, baton.Errorf(baton.EINVALID, "twilio message: body is over %d characters", maxBody)
		}
		f.Set("Body", text)
	}
	for _, a := range msg.Attachments {
		if a.URL == "" {
			return nil, baton.Errorf(baton.EINVALID, "twilio message: MMS media goes by public URL; attachment %q has none", a.Kind)
		}
		f.Add("MediaUrl", a.URL)
	}
	if f.Get("Body") == "" && len(f["MediaUrl"]) == 0 {
		return nil, baton.Errorf(baton.EINVALID, "twilio message: nothing to send (no text and no media)")
	}
	if acct.StatusCallback != "" {
		f.Set("StatusCallback", acct.StatusCallback)
	}
	return f, nil
}

// classify turns a failed REST answer into a SendError; Twilio's message
// goes through redact first.
func classify(resp *channels.Response, now time.Time, redact baton.Redactor) *channels.SendError {
	se := &channels.SendError{Provider: "twilio", HTTPStatus: resp.Status, Kind: baton.EINVALID}
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(resp.Body, &e) == nil && e.Code != 0 {
		se.Code = strconv.Itoa(e.Code)
		se.Reason = channels.ProviderText(redact, e.Message)
	}
	se.RetryAfter = channels.ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	switch {
	case resp.Status == http.StatusTooManyRequests || se.Code == "20429" || resp.Status >= 500:
		se.Kind = baton.EUNAVAILABLE
	case se.Code == "21610" || se.Code == "20003" || se.Code == "21408" || resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden:
		se.Kind = baton.EFORBIDDEN // unsubscribed recipient, credentials, geo permissions
		se.OptedOut = se.Code == "21610"
	}
	return se
}
