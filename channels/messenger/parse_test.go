package messenger

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// envelope wraps one documented webhook event the way Meta delivers it.
func envelope(event []byte) []byte {
	return []byte(`{"object":"page","entry":[{"id":"<PAGE_ID>","time":1458692752478,"messaging":[` + string(event) + `]}]}`)
}

// parse parses body and joins its parts.
func parse(body []byte) (channels.Batch, error) {
	parts, err := Parse(body)
	var b channels.Batch
	for _, p := range parts {
		b.Messages = append(b.Messages, p.Batch.Messages...)
		b.Statuses = append(b.Statuses, p.Batch.Statuses...)
		b.Watermarks = append(b.Watermarks, p.Batch.Watermarks...)
	}
	return b, err
}

func TestParseFixtures(t *testing.T) {
	ms := func(n int64) time.Time { return time.UnixMilli(n).UTC() }
	cases := []struct {
		name string
		body []byte
		want channels.Batch
	}{
		{"CONSTRUCTED_envelope_text.json", fixture(t, "CONSTRUCTED_envelope_text.json"), channels.Batch{Messages: []baton.InboundMessage{{
			Channel: baton.ChannelMessenger, ProviderMessageID: "mid.1457764197618:41d102a3e1ae206a38", From: "<PSID>",
			Type: baton.TypeButton, RawType: "quick_reply", Text: "hello, world!", Payload: "<DEVELOPER_DEFINED_PAYLOAD>", Timestamp: ms(1458692752478),
		}}}},
		{"messaging_text_quick_reply.json", envelope(fixture(t, "messaging_text_quick_reply.json")), channels.Batch{Messages: []baton.InboundMessage{{
			Channel: baton.ChannelMessenger, ProviderMessageID: "mid.1457764197618:41d102a3e1ae206a38", From: "<PSID>",
			Type: baton.TypeButton, RawType: "quick_reply", Text: "hello, world!", Payload: "<DEVELOPER_DEFINED_PAYLOAD>", Timestamp: ms(1458692752478),
		}}}},
		{"messaging_delivery.json", envelope(fixture(t, "messaging_delivery.json")), channels.Batch{
			Statuses:   []baton.StatusUpdate{{Channel: baton.ChannelMessenger, ProviderID: "mid.1458668856218:ed81099e15d3f4f233", Status: baton.StatusDelivered, At: ms(1458668856253)}},
			Watermarks: []channels.Watermark{{Channel: baton.ChannelMessenger, Address: "<PSID>", Status: baton.StatusDelivered, At: ms(1458668856253)}},
		}},
		{"messaging_read.json", envelope(fixture(t, "messaging_read.json")), channels.Batch{
			Watermarks: []channels.Watermark{{Channel: baton.ChannelMessenger, Address: "<PSID>", Status: baton.StatusRead, At: ms(1458668856253)}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := parse(c.body)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(b, c.want) {
				t.Fatalf("got  %+v\nwant %+v", b, c.want)
			}
		})
	}
}

func TestParseEveryEvent(t *testing.T) {
	b, err := parse(fixture(t, "CONSTRUCTED_batch_all_events.json"))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]baton.InboundMessage{}
	for _, m := range b.Messages {
		byID[m.ProviderMessageID] = m
	}
	if _, echoed := byID["m_echo"]; echoed {
		t.Fatal("an echo of our own send was taken as a customer message")
	}
	if len(b.Messages) != 8 {
		t.Fatalf("got %d messages, want 8", len(b.Messages))
	}
	cases := []struct {
		id, text, payload, replyTo string
		typ                        baton.MessageType
		url                        string
	}{
		{id: "m_text", typ: baton.TypeText, text: "where is my parcel?"},
		{id: "m_qr", typ: baton.TypeButton, text: "Yes", payload: "CONFIRM_YES"},
		{id: "m_reply", typ: baton.TypeText, text: "this one", replyTo: "m_ours"},
		{id: "m_img", typ: baton.TypeImage, url: "https://scontent.example/photo.jpg"},
		{id: "m_file", typ: baton.TypeDocument, url: "https://cdn.example/receipt.pdf"},
		{id: "m_reel", typ: baton.TypeUnsupported, url: "https://cdn.example/reel"},
		{id: "m_pb", typ: baton.TypeButton, text: "Talk to a human", payload: "HUMAN"},
		{id: "postback:PSID1:1458692752486", typ: baton.TypeButton, text: "Get Started", payload: "GET_STARTED"},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			m, ok := byID[c.id]
			if !ok {
				t.Fatal("missing")
			}
			if m.Type != c.typ || m.Text != c.text || m.Payload != c.payload || m.ReplyTo != c.replyTo || m.From != "PSID1" {
				t.Fatalf("got %+v", m)
			}
			if c.url != "" && (len(m.Attachments) != 1 || m.Attachments[0].URL != c.url) {
				t.Fatalf("attachments %+v", m.Attachments)
			}
		})
	}
	if len(b.Statuses) != 2 || b.Statuses[0].ProviderID != "m_out1" || b.Statuses[1].ProviderID != "m_out2" {
		t.Fatalf("delivery mids: %+v", b.Statuses)
	}
	wantMarks := []baton.DeliveryStatus{baton.StatusDelivered, baton.StatusDelivered, baton.StatusRead}
	if len(b.Watermarks) != len(wantMarks) {
		t.Fatalf("watermarks: %+v", b.Watermarks)
	}
	for i, w := range b.Watermarks {
		if w.Status != wantMarks[i] || w.Address != "PSID1" || w.At.IsZero() {
			t.Fatalf("watermark %d: %+v", i, w)
		}
	}
}

// TestParseKeepsThePageOfEachEvent: an event belongs to the Page it was
// sent to, and only when its entry and its recipient agree on which.
func TestParseKeepsThePageOfEachEvent(t *testing.T) {
	body := `{"object":"page","entry":[` +
		`{"id":"PAGE1","time":1,"messaging":[{"sender":{"id":"P1"},"recipient":{"id":"PAGE1"},"timestamp":1,"message":{"mid":"m1","text":"a"}},` +
		`{"sender":{"id":"P1"},"recipient":{"id":"PAGE2"},"timestamp":2,"message":{"mid":"m2","text":"b"}}]},` +
		`{"id":"PAGE2","time":3,"messaging":[{"sender":{"id":"P2"},"recipient":{"id":"PAGE2"},"timestamp":3,"read":{"watermark":3}},` +
		`{"sender":{"id":"PAGE2"},"recipient":{"id":"P2"},"timestamp":4,"message":{"mid":"echo","is_echo":true,"text":"ours"}}]}]}`
	parts, err := Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range parts {
		got = append(got, p.PageID)
	}
	if want := []string{"PAGE1", "", "PAGE2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("pages of the parts %q, want %q (an entry and recipient that disagree belong to no Page; echoes are no part)", got, want)
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct{ name, body, wantInErr, secret string }{
		{"not json", `[`, "not valid JSON", ""},
		{"number where text belongs", `{"object":"page","entry":[{"id":"X","messaging":[{"sender":{"id":4111111111111111}}]}]}`,
			"entry.messaging.sender.id has the wrong type", "4111111111111111"},
		{"whatsapp body", `{"object":"whatsapp_business_account","entry":[]}`, `object is not "page"`, "whatsapp_business_account"},
		{"message without mid", string(envelope([]byte(`{"sender":{"id":"P"},"message":{"text":"hi"}}`))), "message has no mid", ""},
		{"message without sender", string(envelope([]byte(`{"message":{"mid":"m1","text":"hi"}}`))), "no sender.id", ""},
		{"message without recipient", string(envelope([]byte(`{"sender":{"id":"P"},"message":{"mid":"m1","text":"hi"}}`))), "messaging[0] has no recipient.id", ""},
		{"delivery without anything", string(envelope([]byte(`{"sender":{"id":"P"},"delivery":{}}`))), "neither mids nor watermark", ""},
		{"read without watermark", string(envelope([]byte(`{"sender":{"id":"P"},"read":{}}`))), "no watermark", ""},
		{"postback without ids", string(envelope([]byte(`{"sender":{"id":"P"},"postback":{"payload":"X"}}`))), "neither mid nor timestamp", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parse([]byte(c.body))
			if baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), c.wantInErr) {
				t.Fatalf("want EINVALID saying %q, got %v", c.wantInErr, err)
			}
			if c.secret != "" && strings.Contains(err.Error(), c.secret) {
				t.Fatalf("error %q repeats the rejected value", err)
			}
		})
	}
}

func FuzzParseMessenger(f *testing.F) {
	f.Add(fixture(f, "CONSTRUCTED_envelope_text.json"))
	f.Add(fixture(f, "CONSTRUCTED_batch_all_events.json"))
	f.Add(envelope(fixture(f, "messaging_delivery.json")))
	f.Add(envelope(fixture(f, "messaging_read.json")))
	f.Add(fixture(f, "meta_body_unicode_escaped.json"))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := parse(body)
		if err != nil {
			if baton.ErrorCode(err) != baton.EINVALID {
				t.Fatalf("parse error without EINVALID: %v", err)
			}
			return
		}
		for _, m := range b.Messages {
			if m.ProviderMessageID == "" || m.From == "" || m.Type == "" {
				t.Fatalf("accepted an incomplete message: %+v", m)
			}
		}
		for _, w := range b.Watermarks {
			if w.Address == "" || w.At.IsZero() {
				t.Fatalf("accepted an incomplete watermark: %+v", w)
			}
		}
	})
}
