package whatsapp

import (
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// Limits of the Cloud API that are cheaper to check here than to learn from
// a refused send.
const (
	maxButtons      = 3
	maxButtonTitle  = 20
	maxListRows     = 10
	maxCaption      = 1024
	maxTextBody     = 4096
	maxTemplateName = 512
)

func invalid(format string, args ...any) error {
	return baton.Errorf(baton.EINVALID, "whatsapp message: "+format, args...)
}

// buildMessage is the Cloud API request body for msg to the customer at to.
func buildMessage(to string, msg *baton.Message, out baton.Outbound) (map[string]any, error) {
	body := map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
	if msg.ReplyTo != "" {
		body["context"] = map[string]string{"message_id": msg.ReplyTo}
	}
	switch {
	case out.Template != nil:
		t := out.Template
		if len(t.Name) > maxTemplateName {
			return nil, invalid("template name is over %d characters", maxTemplateName)
		}
		tpl := map[string]any{"name": t.Name, "language": map[string]string{"code": t.Language}}
		if len(t.BodyParams) > 0 {
			params := make([]map[string]string, len(t.BodyParams))
			for i, p := range t.BodyParams {
				params[i] = map[string]string{"type": "text", "text": p}
			}
			tpl["components"] = []map[string]any{{"type": "body", "parameters": params}}
		}
		body["type"] = "template"
		body["template"] = tpl
	case len(out.Buttons) > 0:
		if len(out.Buttons) > maxButtons {
			return nil, invalid("%d reply buttons, at most %d allowed", len(out.Buttons), maxButtons)
		}
		if msg.Text == "" {
			return nil, invalid("reply buttons need a body text")
		}
		buttons := make([]map[string]any, len(out.Buttons))
		for i, b := range out.Buttons {
			if b.ID == "" || b.Title == "" || utf8.RuneCountInString(b.Title) > maxButtonTitle {
				return nil, invalid("button %d needs an id and a title of 1 to %d characters", i, maxButtonTitle)
			}
			buttons[i] = map[string]any{"type": "reply", "reply": map[string]string{"id": b.ID, "title": b.Title}}
		}
		body["type"] = "interactive"
		body["interactive"] = map[string]any{
			"type":   "button",
			"body":   map[string]string{"text": msg.Text},
			"action": map[string]any{"buttons": buttons},
		}
	case out.List != nil:
		l := out.List
		if msg.Text == "" || l.Button == "" || len(l.Sections) == 0 {
			return nil, invalid("a list needs a body text, a button label and at least one section")
		}
		rows := 0
		sections := make([]map[string]any, len(l.Sections))
		for i, s := range l.Sections {
			rs := make([]map[string]string, len(s.Rows))
			for j, r := range s.Rows {
				if r.ID == "" || r.Title == "" {
					return nil, invalid("list section %d row %d needs an id and a title", i, j)
				}
				rs[j] = map[string]string{"id": r.ID, "title": r.Title}
				if r.Description != "" {
					rs[j]["description"] = r.Description
				}
			}
			rows += len(rs)
			sections[i] = map[string]any{"title": s.Title, "rows": rs}
		}
		if rows == 0 || rows > maxListRows {
			return nil, invalid("a list has %d rows, it needs 1 to %d", rows, maxListRows)
		}
		body["type"] = "interactive"
		body["interactive"] = map[string]any{
			"type":   "list",
			"body":   map[string]string{"text": msg.Text},
			"action": map[string]any{"button": l.Button, "sections": sections},
		}
	case len(msg.Attachments) > 0:
		if len(msg.Attachments) > 1 {
			return nil, invalid("%d attachments; WhatsApp carries one media per message", len(msg.Attachments))
		}
		a := msg.Attachments[0]
		kind := string(a.Kind)
		switch a.Kind {
		case baton.TypeImage, baton.TypeAudio, baton.TypeVideo, baton.TypeDocument, baton.TypeSticker:
		default:
			return nil, invalid("attachment kind %q cannot be sent as media", a.Kind)
		}
		m := map[string]string{}
		switch {
		case a.MediaID != "":
			m["id"] = a.MediaID
		case a.URL != "":
			m["link"] = a.URL
		default:
			return nil, invalid("%s attachment needs a media id or a link", kind)
		}
		caption := a.Caption
		if caption == "" {
			caption = msg.Text
		}
		if caption != "" && (a.Kind == baton.TypeImage || a.Kind == baton.TypeVideo || a.Kind == baton.TypeDocument) {
			if utf8.RuneCountInString(caption) > maxCaption {
				return nil, invalid("caption is over %d characters", maxCaption)
			}
			m["caption"] = caption
		}
		if a.Kind == baton.TypeDocument && a.Filename != "" {
			m["filename"] = a.Filename
		}
		body["type"] = kind
		body[kind] = m
	default:
		if msg.Text == "" {
			return nil, invalid("nothing to send")
		}
		if utf8.RuneCountInString(msg.Text) > maxTextBody {
			return nil, invalid("text is over %d characters", maxTextBody)
		}
		body["type"] = "text"
		body["text"] = map[string]any{"body": msg.Text, "preview_url": false}
	}
	return body, nil
}
