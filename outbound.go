package baton

import "encoding/json"

// Outbound is the structured part of an outbound message that the plain
// Message fields cannot say: reply buttons, a list, a provider template. It
// travels in Message.Metadata so that it is stored with the message and the
// deliver job needs nothing else.
type Outbound struct {
	Buttons  []Choice  `json:"buttons,omitempty"` // WhatsApp reply buttons (at most 3), Messenger and SMS quick replies
	List     *List     `json:"list,omitempty"`    // WhatsApp list message
	Template *Template `json:"template,omitempty"`
}

// Choice is one reply button or quick reply.
type Choice struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// List is a WhatsApp list message.
type List struct {
	Button   string    `json:"button"`
	Sections []Section `json:"sections"`
}

// Section groups rows of a list.
type Section struct {
	Title string `json:"title,omitempty"`
	Rows  []Row  `json:"rows"`
}

// Row is one choice of a list.
type Row struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// Template is an approved provider template (WhatsApp) with its body
// parameters in order.
type Template struct {
	Name       string   `json:"name"`
	Language   string   `json:"language"`
	BodyParams []string `json:"body_params,omitempty"`
}

// OutboundOf reads the structured part of msg; a message without metadata
// has none.
func OutboundOf(msg *Message) (Outbound, error) {
	var o Outbound
	if len(msg.Metadata) == 0 || string(msg.Metadata) == "null" {
		return o, nil
	}
	if err := json.Unmarshal(msg.Metadata, &o); err != nil {
		return o, Errorf(EINVALID, "message %d: metadata is not valid outbound JSON: %w", msg.ID, err)
	}
	if o.Template != nil && (o.Template.Name == "" || o.Template.Language == "") {
		return o, Errorf(EINVALID, "message %d: template needs a name and a language", msg.ID)
	}
	return o, nil
}

// SetOutbound stores o in msg.Metadata.
func SetOutbound(msg *Message, o Outbound) {
	b, _ := json.Marshal(o)
	msg.Metadata = b
}
