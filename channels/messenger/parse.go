// Package messenger is the Facebook Messenger channel: the webhook handshake
// and signature check, the parser from webhook events to Baton's inbound
// messages and receipts, and the Send API sender.
package messenger

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
)

type payload struct {
	Object string `json:"object"`
	Entry  []struct {
		ID        string  `json:"id"`
		Time      int64   `json:"time"`
		Messaging []event `json:"messaging"`
	} `json:"entry"`
}

type event struct {
	Sender struct {
		ID string `json:"id"`
	} `json:"sender"`
	Recipient struct {
		ID string `json:"id"`
	} `json:"recipient"`
	Timestamp int64 `json:"timestamp"`
	Message   *struct {
		MID        string `json:"mid"`
		Text       string `json:"text"`
		IsEcho     bool   `json:"is_echo"`
		QuickReply *struct {
			Payload string `json:"payload"`
		} `json:"quick_reply"`
		ReplyTo *struct {
			MID string `json:"mid"`
		} `json:"reply_to"`
		StickerID   json.Number  `json:"sticker_id"`
		Attachments []attachment `json:"attachments"`
	} `json:"message"`
	Postback *struct {
		MID     string `json:"mid"`
		Title   string `json:"title"`
		Payload string `json:"payload"`
	} `json:"postback"`
	Delivery *struct {
		MIDs      []string `json:"mids"`
		Watermark int64    `json:"watermark"`
	} `json:"delivery"`
	Read *struct {
		Watermark int64 `json:"watermark"`
	} `json:"read"`
}

type attachment struct {
	Type    string `json:"type"`
	Payload struct {
		URL         string      `json:"url"`
		Title       string      `json:"title"`
		StickerID   json.Number `json:"sticker_id"`
		Coordinates *struct {
			Lat  float64 `json:"lat"`
			Long float64 `json:"long"`
		} `json:"coordinates"`
	} `json:"payload"`
}

func millis(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// Part is what one event of a webhook carried, with the Page it was
// addressed to: the event's recipient.id when its entry.id agrees, "" (no
// Page's) when they disagree. Its messages and watermarks have no bot yet:
// which bot owns the Page is for the handler to say (see channels.Router).
type Part struct {
	PageID string
	Batch  channels.Batch
}

// Parse turns a Messenger webhook body into its parts: customer messages,
// quick replies and postbacks become inbound messages; deliveries with mids
// become status updates, and every delivery or read watermark a Watermark.
// Echoes of the page's own sends are dropped, so that Baton never answers
// itself. A body or event without the fields Baton needs is EINVALID with
// the reason and its place in the body, never with the offending value.
func Parse(body []byte) ([]Part, error) {
	var parts []Part
	var p payload
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&p); err != nil {
		return nil, baton.Errorf(baton.EINVALID, "messenger webhook: body is not valid JSON: %s", channels.JSONProblem(err))
	}
	if dec.More() {
		return nil, baton.Errorf(baton.EINVALID, "messenger webhook: trailing data after the JSON body")
	}
	if p.Object != "page" {
		return nil, baton.Errorf(baton.EINVALID, "messenger webhook: object is not \"page\"")
	}
	for ei, e := range p.Entry {
		for mi, ev := range e.Messaging {
			where := "entry[" + strconv.Itoa(ei) + "].messaging[" + strconv.Itoa(mi) + "]"
			var b channels.Batch
			if err := parseEvent(&ev, where, &b); err != nil {
				return nil, err
			}
			if len(b.Messages)+len(b.Statuses)+len(b.Watermarks) == 0 {
				continue
			}
			page := ev.Recipient.ID
			if page == "" {
				return nil, baton.Errorf(baton.EINVALID, "messenger webhook: %s has no recipient.id", where)
			}
			if page != e.ID {
				page = ""
			}
			parts = append(parts, Part{PageID: page, Batch: b})
		}
	}
	return parts, nil
}

func parseEvent(ev *event, where string, b *channels.Batch) error {
	psid := ev.Sender.ID
	need := func() error {
		if psid == "" {
			return baton.Errorf(baton.EINVALID, "messenger webhook: %s has no sender.id", where)
		}
		return nil
	}
	at := millis(ev.Timestamp)
	switch {
	case ev.Message != nil:
		m := ev.Message
		if m.IsEcho {
			return nil
		}
		if err := need(); err != nil {
			return err
		}
		if m.MID == "" {
			return baton.Errorf(baton.EINVALID, "messenger webhook: %s.message has no mid", where)
		}
		in := baton.InboundMessage{
			Channel: baton.ChannelMessenger, ProviderMessageID: m.MID, From: psid,
			Type: baton.TypeText, RawType: "message", Text: m.Text, Timestamp: at,
		}
		if m.ReplyTo != nil {
			in.ReplyTo = m.ReplyTo.MID
		}
		for _, a := range m.Attachments {
			in.Attachments = append(in.Attachments, convertAttachment(a))
		}
		switch {
		case m.QuickReply != nil:
			in.Type, in.Payload, in.RawType = baton.TypeButton, m.QuickReply.Payload, "quick_reply"
		case m.Text == "" && m.StickerID != "":
			in.Type, in.RawType = baton.TypeSticker, "sticker"
		case m.Text == "" && len(in.Attachments) > 0:
			in.Type = in.Attachments[0].Kind
			in.RawType = m.Attachments[0].Type
		case m.Text == "":
			in.Type, in.RawType = baton.TypeUnsupported, "message"
		}
		b.Messages = append(b.Messages, in)
	case ev.Postback != nil:
		if err := need(); err != nil {
			return err
		}
		pb := ev.Postback
		id := pb.MID
		if id == "" {
			// Older postbacks carry no mid; sender and timestamp identify
			// the tap, so a redelivery still deduplicates.
			if ev.Timestamp <= 0 {
				return baton.Errorf(baton.EINVALID, "messenger webhook: %s.postback has neither mid nor timestamp", where)
			}
			id = "postback:" + psid + ":" + strconv.FormatInt(ev.Timestamp, 10)
		}
		b.Messages = append(b.Messages, baton.InboundMessage{
			Channel: baton.ChannelMessenger, ProviderMessageID: id, From: psid,
			Type: baton.TypeButton, RawType: "postback", Text: pb.Title, Payload: pb.Payload, Timestamp: at,
		})
	case ev.Delivery != nil:
		if err := need(); err != nil {
			return err
		}
		d := ev.Delivery
		wm := millis(d.Watermark)
		for _, mid := range d.MIDs {
			if mid != "" {
				b.Statuses = append(b.Statuses, baton.StatusUpdate{Channel: baton.ChannelMessenger, ProviderID: mid, Status: baton.StatusDelivered, At: wm})
			}
		}
		if d.Watermark > 0 {
			b.Watermarks = append(b.Watermarks, channels.Watermark{Channel: baton.ChannelMessenger, Address: psid, Status: baton.StatusDelivered, At: wm})
		} else if len(d.MIDs) == 0 {
			return baton.Errorf(baton.EINVALID, "messenger webhook: %s.delivery has neither mids nor watermark", where)
		}
	case ev.Read != nil:
		if err := need(); err != nil {
			return err
		}
		if ev.Read.Watermark <= 0 {
			return baton.Errorf(baton.EINVALID, "messenger webhook: %s.read has no watermark", where)
		}
		b.Watermarks = append(b.Watermarks, channels.Watermark{Channel: baton.ChannelMessenger, Address: psid, Status: baton.StatusRead, At: millis(ev.Read.Watermark)})
	}
	// Reactions, referrals, opt-ins and handover events are not
	// conversation content; they are acknowledged and dropped.
	return nil
}

func convertAttachment(a attachment) baton.Attachment {
	out := baton.Attachment{URL: a.Payload.URL}
	switch a.Type {
	case "image":
		out.Kind = baton.TypeImage
		if a.Payload.StickerID != "" {
			out.Kind = baton.TypeSticker
		}
	case "audio":
		out.Kind = baton.TypeAudio
	case "video":
		out.Kind = baton.TypeVideo
	case "file":
		out.Kind = baton.TypeDocument
	case "location":
		out.Kind = baton.TypeLocation
		if c := a.Payload.Coordinates; c != nil {
			out.Latitude, out.Longitude = c.Lat, c.Long
		}
	default:
		// reel, ig_reel, post, ig_post, fallback, appointment_booking...
		out.Kind = baton.TypeUnsupported
	}
	if a.Payload.Title != "" || out.Kind == baton.TypeUnsupported {
		out.Data = map[string]string{"type": a.Type}
		if a.Payload.Title != "" {
			out.Data["title"] = a.Payload.Title
		}
	}
	return out
}
