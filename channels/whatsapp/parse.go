// Package whatsapp is the WhatsApp Cloud API channel: the webhook handshake
// and signature check, the parser from webhook payloads to Baton's inbound
// messages and status updates, and the Graph API sender.
package whatsapp

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
)

type payload struct {
	Object string  `json:"object"`
	Entry  []entry `json:"entry"`
}

type entry struct {
	ID      string   `json:"id"`
	Changes []change `json:"changes"`
}

type change struct {
	Field string `json:"field"`
	Value value  `json:"value"`
}

type value struct {
	MessagingProduct string `json:"messaging_product"`
	Metadata         struct {
		PhoneNumberID string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
		WaID string `json:"wa_id"`
	} `json:"contacts"`
	Messages []message `json:"messages"`
	Statuses []status  `json:"statuses"`
}

type media struct {
	ID       string `json:"id"`
	MIMEType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
	Voice    bool   `json:"voice"`
	Animated bool   `json:"animated"`
}

type message struct {
	From      string `json:"from"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	Context   *struct {
		From string `json:"from"`
		ID   string `json:"id"`
	} `json:"context"`
	Text *struct {
		Body string `json:"body"`
	} `json:"text"`
	Image    *media `json:"image"`
	Audio    *media `json:"audio"`
	Video    *media `json:"video"`
	Document *media `json:"document"`
	Sticker  *media `json:"sticker"`
	Location *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Name      string  `json:"name"`
		Address   string  `json:"address"`
		URL       string  `json:"url"`
	} `json:"location"`
	Contacts    []contact `json:"contacts"`
	Interactive *struct {
		Type        string `json:"type"`
		ButtonReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			ID          string `json:"id"`
			Title       string `json:"title"`
			Description string `json:"description"`
		} `json:"list_reply"`
	} `json:"interactive"`
	Button *struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	} `json:"button"`
	Reaction *struct {
		MessageID string `json:"message_id"`
		Emoji     string `json:"emoji"`
	} `json:"reaction"`
}

type contact struct {
	Name struct {
		FormattedName string `json:"formatted_name"`
	} `json:"name"`
	Phones []struct {
		Phone string `json:"phone"`
		WaID  string `json:"wa_id"`
	} `json:"phones"`
	Emails []struct {
		Email string `json:"email"`
	} `json:"emails"`
}

type status struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Timestamp   string `json:"timestamp"`
	RecipientID string `json:"recipient_id"`
	Errors      []struct {
		Code      int    `json:"code"`
		Title     string `json:"title"`
		Message   string `json:"message"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"errors"`
}

// Part is what one change of a webhook carried, with the business number
// it was addressed to. Its messages have no bot yet: which bot owns the
// number is for the handler to say (see channels.Router).
type Part struct {
	PhoneNumberID string
	Batch         channels.Batch
}

// Parse turns a WhatsApp webhook body into its parts: every message and
// status of every change of every entry, with the phone_number_id of the
// change. A body that is not a WhatsApp Business Account notification, or a
// message or status without the fields Baton needs, is EINVALID with the
// reason and its place in the body, never with the offending value.
func Parse(body []byte) ([]Part, error) {
	var parts []Part
	var p payload
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&p); err != nil {
		return nil, baton.Errorf(baton.EINVALID, "whatsapp webhook: body is not valid JSON: %s", channels.JSONProblem(err))
	}
	if dec.More() {
		return nil, baton.Errorf(baton.EINVALID, "whatsapp webhook: trailing data after the JSON body")
	}
	if p.Object != "whatsapp_business_account" {
		return nil, baton.Errorf(baton.EINVALID, "whatsapp webhook: object is not \"whatsapp_business_account\"")
	}
	for ei, e := range p.Entry {
		for ci, c := range e.Changes {
			if c.Field != "messages" {
				continue // account, template and quality updates are not conversations
			}
			where := "entry[" + strconv.Itoa(ei) + "].changes[" + strconv.Itoa(ci) + "]"
			var b channels.Batch
			names := map[string]string{}
			for _, ct := range c.Value.Contacts {
				names[ct.WaID] = ct.Profile.Name
			}
			for mi, m := range c.Value.Messages {
				in, err := parseMessage(&m, where+".messages["+strconv.Itoa(mi)+"]")
				if err != nil {
					return nil, err
				}
				in.ProfileName = names[m.From]
				b.Messages = append(b.Messages, in)
			}
			for si, s := range c.Value.Statuses {
				u, ok, err := parseStatus(&s, where+".statuses["+strconv.Itoa(si)+"]")
				if err != nil {
					return nil, err
				}
				if ok {
					b.Statuses = append(b.Statuses, u)
				}
			}
			if len(b.Messages)+len(b.Statuses) == 0 {
				continue
			}
			id := c.Value.Metadata.PhoneNumberID
			if id == "" {
				return nil, baton.Errorf(baton.EINVALID, "whatsapp webhook: %s.value.metadata has no phone_number_id", where)
			}
			parts = append(parts, Part{PhoneNumberID: id, Batch: b})
		}
	}
	return parts, nil
}

func parseTimestamp(s, where string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, baton.Errorf(baton.EINVALID, "whatsapp webhook: %s.timestamp is not unix seconds", where)
	}
	return time.Unix(n, 0).UTC(), nil
}

func mediaAttachment(kind baton.MessageType, m *media) baton.Attachment {
	a := baton.Attachment{Kind: kind, MediaID: m.ID, MIMEType: m.MIMEType, Caption: m.Caption, Filename: m.Filename}
	if m.SHA256 != "" || m.Voice || m.Animated {
		a.Data = map[string]string{}
		if m.SHA256 != "" {
			a.Data["sha256"] = m.SHA256
		}
		if m.Voice {
			a.Data["voice"] = "true"
		}
		if m.Animated {
			a.Data["animated"] = "true"
		}
	}
	return a
}

func parseMessage(m *message, where string) (baton.InboundMessage, error) {
	in := baton.InboundMessage{Channel: baton.ChannelWhatsApp, ProviderMessageID: m.ID, From: m.From, RawType: m.Type}
	if m.ID == "" {
		return in, baton.Errorf(baton.EINVALID, "whatsapp webhook: %s has no id", where)
	}
	if m.From == "" {
		return in, baton.Errorf(baton.EINVALID, "whatsapp webhook: %s has no from", where)
	}
	ts, err := parseTimestamp(m.Timestamp, where)
	if err != nil {
		return in, err
	}
	in.Timestamp = ts
	if m.Context != nil {
		in.ReplyTo = m.Context.ID
	}
	missing := func() error {
		return baton.Errorf(baton.EINVALID, "whatsapp webhook: %s has type %q but no %s object", where, m.Type, m.Type)
	}
	switch m.Type {
	case "text":
		if m.Text == nil {
			return in, missing()
		}
		in.Type, in.Text = baton.TypeText, m.Text.Body
	case "image", "audio", "video", "document", "sticker":
		md := map[string]*media{"image": m.Image, "audio": m.Audio, "video": m.Video, "document": m.Document, "sticker": m.Sticker}[m.Type]
		if md == nil {
			return in, missing()
		}
		if md.ID == "" {
			return in, baton.Errorf(baton.EINVALID, "whatsapp webhook: %s.%s has no media id", where, m.Type)
		}
		in.Type = baton.MessageType(m.Type)
		in.Text = md.Caption
		in.Attachments = []baton.Attachment{mediaAttachment(in.Type, md)}
	case "location":
		if m.Location == nil {
			return in, missing()
		}
		l := m.Location
		a := baton.Attachment{Kind: baton.TypeLocation, Latitude: l.Latitude, Longitude: l.Longitude, URL: l.URL}
		if l.Name != "" || l.Address != "" {
			a.Data = map[string]string{"name": l.Name, "address": l.Address}
		}
		in.Type, in.Text = baton.TypeLocation, strings.TrimSpace(l.Name+" "+l.Address)
		in.Attachments = []baton.Attachment{a}
	case "contacts":
		if len(m.Contacts) == 0 {
			return in, missing()
		}
		in.Type = baton.TypeContacts
		for _, c := range m.Contacts {
			a := baton.Attachment{Kind: baton.TypeContacts, Data: map[string]string{"name": c.Name.FormattedName}}
			var phones, emails []string
			for _, ph := range c.Phones {
				phones = append(phones, ph.Phone)
				if ph.WaID != "" && a.Data["wa_id"] == "" {
					a.Data["wa_id"] = ph.WaID
				}
			}
			for _, em := range c.Emails {
				emails = append(emails, em.Email)
			}
			if len(phones) > 0 {
				a.Data["phones"] = strings.Join(phones, ",")
			}
			if len(emails) > 0 {
				a.Data["emails"] = strings.Join(emails, ",")
			}
			in.Attachments = append(in.Attachments, a)
		}
	case "interactive":
		it := m.Interactive
		switch {
		case it == nil:
			return in, missing()
		case it.Type == "button_reply" && it.ButtonReply != nil:
			in.Type, in.Payload, in.Text = baton.TypeButton, it.ButtonReply.ID, it.ButtonReply.Title
		case it.Type == "list_reply" && it.ListReply != nil:
			in.Type, in.Payload, in.Text = baton.TypeList, it.ListReply.ID, it.ListReply.Title
			if it.ListReply.Description != "" {
				in.Attachments = []baton.Attachment{{Kind: baton.TypeList, Data: map[string]string{"description": it.ListReply.Description}}}
			}
		default:
			// Flows and other interactive replies: kept, not understood.
			in.Type, in.RawType = baton.TypeUnsupported, "interactive."+it.Type
		}
	case "button":
		if m.Button == nil {
			return in, missing()
		}
		in.Type, in.Payload, in.Text = baton.TypeButton, m.Button.Payload, m.Button.Text
	case "reaction":
		if m.Reaction == nil {
			return in, missing()
		}
		// An empty emoji means the customer removed their reaction.
		in.Type, in.Text, in.ReplyTo = baton.TypeReaction, m.Reaction.Emoji, m.Reaction.MessageID
	default:
		in.Type = baton.TypeUnsupported
	}
	return in, nil
}

func parseStatus(s *status, where string) (baton.StatusUpdate, bool, error) {
	u := baton.StatusUpdate{Channel: baton.ChannelWhatsApp, ProviderID: s.ID}
	if s.ID == "" {
		return u, false, baton.Errorf(baton.EINVALID, "whatsapp webhook: %s has no id", where)
	}
	ts, err := parseTimestamp(s.Timestamp, where)
	if err != nil {
		return u, false, err
	}
	u.At = ts
	switch s.Status {
	case "sent":
		u.Status = baton.StatusSent
	case "delivered":
		u.Status = baton.StatusDelivered
	case "read":
		u.Status = baton.StatusRead
	case "failed":
		u.Status = baton.StatusFailed
		if len(s.Errors) > 0 {
			e := s.Errors[0]
			u.Code = strconv.Itoa(e.Code)
			u.Reason = e.Title
			if d := e.ErrorData.Details; d != "" && d != e.Title {
				u.Reason += ": " + d
			}
		}
	default:
		// "deleted", "warning" and future statuses do not move delivery.
		return u, false, nil
	}
	return u, true, nil
}
