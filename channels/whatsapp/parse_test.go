package whatsapp

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

// parse parses body and joins its parts, checking that every part has the
// business number it was addressed to.
func parse(t testing.TB, body []byte) (channels.Batch, error) {
	parts, err := Parse(body)
	var b channels.Batch
	for _, p := range parts {
		if p.PhoneNumberID == "" {
			t.Fatalf("a part without its phone_number_id: %+v", p)
		}
		b.Messages = append(b.Messages, p.Batch.Messages...)
		b.Statuses = append(b.Statuses, p.Batch.Statuses...)
	}
	return b, err
}

func TestParseFixtures(t *testing.T) {
	cases := []struct {
		file string
		want baton.InboundMessage
	}{
		{"inbound_text.json", baton.InboundMessage{
			Channel: baton.ChannelWhatsApp, ProviderMessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
			From: "16505551234", ProfileName: "Sheena Nelson", Type: baton.TypeText, RawType: "text",
			Text: "Does it come in another color?", Timestamp: time.Unix(1749416383, 0).UTC(),
		}},
		{"inbound_image.json", baton.InboundMessage{
			Channel: baton.ChannelWhatsApp, ProviderMessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
			From: "16505551234", ProfileName: "Sheena Nelson", Type: baton.TypeImage, RawType: "image", Text: "Taj Mahal",
			Attachments: []baton.Attachment{{Kind: baton.TypeImage, MediaID: "1003383421387256", MIMEType: "image/jpeg", Caption: "Taj Mahal",
				Data: map[string]string{"sha256": "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI="}}},
			Timestamp: time.Unix(1744344496, 0).UTC(),
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			b, err := parse(t, fixture(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Messages) != 1 || len(b.Statuses) != 0 {
				t.Fatalf("got %d messages %d statuses, want 1 and 0", len(b.Messages), len(b.Statuses))
			}
			if !reflect.DeepEqual(b.Messages[0], c.want) {
				t.Fatalf("got  %+v\nwant %+v", b.Messages[0], c.want)
			}
		})
	}
}

func TestParseEveryType(t *testing.T) {
	b, err := parse(t, fixture(t, "CONSTRUCTED_batch_all_types.json"))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]baton.InboundMessage{}
	for _, m := range b.Messages {
		byID[m.ProviderMessageID] = m
	}
	if len(byID) != 14 {
		t.Fatalf("got %d distinct messages, want 14 (13 in the first change, 1 in the second entry)", len(byID))
	}
	cases := []struct {
		id      string
		typ     baton.MessageType
		raw     string
		text    string
		payload string
		replyTo string
		check   func(t *testing.T, m baton.InboundMessage)
	}{
		{id: "wamid.text1", typ: baton.TypeText, raw: "text", text: "Does it come in another color?"},
		{id: "wamid.audio1", typ: baton.TypeAudio, raw: "audio", check: func(t *testing.T, m baton.InboundMessage) {
			a := m.Attachments[0]
			if a.MediaID != "2001" || a.MIMEType != "audio/ogg; codecs=opus" || a.Data["voice"] != "true" {
				t.Errorf("audio attachment %+v", a)
			}
			if m.ProfileName != "Omar Haddad" {
				t.Errorf("profile name %q: contacts must be matched by wa_id", m.ProfileName)
			}
		}},
		{id: "wamid.video1", typ: baton.TypeVideo, raw: "video", text: "unboxing"},
		{id: "wamid.doc1", typ: baton.TypeDocument, raw: "document", text: "my invoice", check: func(t *testing.T, m baton.InboundMessage) {
			if a := m.Attachments[0]; a.Filename != "invoice.pdf" || a.MediaID != "2003" || a.MIMEType != "application/pdf" {
				t.Errorf("document attachment %+v", a)
			}
		}},
		{id: "wamid.sticker1", typ: baton.TypeSticker, raw: "sticker"},
		{id: "wamid.loc1", typ: baton.TypeLocation, raw: "location", text: "Philz Coffee 101 Forest Ave, Palo Alto, CA 94301", check: func(t *testing.T, m baton.InboundMessage) {
			a := m.Attachments[0]
			if a.Latitude != 37.483307 || a.Longitude != -122.148981 || a.URL != "https://philzcoffee.com" || a.Data["name"] != "Philz Coffee" {
				t.Errorf("location attachment %+v", a)
			}
		}},
		{id: "wamid.contacts1", typ: baton.TypeContacts, raw: "contacts", check: func(t *testing.T, m baton.InboundMessage) {
			a := m.Attachments[0]
			if a.Data["name"] != "Barbara J. Johnson" || a.Data["phones"] != "+1 (650) 555-1234" || a.Data["emails"] != "bjohnson@whatsapp.com" || a.Data["wa_id"] != "16505551234" {
				t.Errorf("contact attachment %+v", a)
			}
		}},
		{id: "wamid.btnreply1", typ: baton.TypeButton, raw: "interactive", text: "Track my order", payload: "track_order", replyTo: "wamid.ourbuttons"},
		{id: "wamid.listreply1", typ: baton.TypeList, raw: "interactive", text: "Refund", payload: "refund", replyTo: "wamid.ourlist", check: func(t *testing.T, m baton.InboundMessage) {
			if len(m.Attachments) != 1 || m.Attachments[0].Data["description"] != "Money back in 5 days" {
				t.Errorf("list description lost: %+v", m.Attachments)
			}
		}},
		{id: "wamid.tplbtn1", typ: baton.TypeButton, raw: "button", text: "Talk to an agent", payload: "TALK_TO_AGENT", replyTo: "wamid.ourtemplate"},
		{id: "wamid.react1", typ: baton.TypeReaction, raw: "reaction", text: "\U0001F44D", replyTo: "wamid.ourreply"},
		{id: "wamid.order1", typ: baton.TypeUnsupported, raw: "order"},
		{id: "wamid.unsup1", typ: baton.TypeUnsupported, raw: "unsupported"},
		{id: "wamid.entry2", typ: baton.TypeText, raw: "text", text: "hola", check: func(t *testing.T, m baton.InboundMessage) {
			if m.From != "34600000000" || m.ProfileName != "Ana" {
				t.Errorf("second entry: from %q name %q", m.From, m.ProfileName)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			m, ok := byID[c.id]
			if !ok {
				t.Fatal("message missing from the batch")
			}
			if m.Type != c.typ || m.RawType != c.raw || m.Text != c.text || m.Payload != c.payload || m.ReplyTo != c.replyTo {
				t.Fatalf("got type=%s raw=%s text=%q payload=%q replyTo=%q", m.Type, m.RawType, m.Text, m.Payload, m.ReplyTo)
			}
			if m.BotID != "" || m.Channel != baton.ChannelWhatsApp || m.Timestamp.IsZero() {
				t.Fatalf("envelope fields: %+v", m)
			}
			if c.check != nil {
				c.check(t, m)
			}
		})
	}

	wantStatuses := []baton.StatusUpdate{
		{Channel: baton.ChannelWhatsApp, ProviderID: "wamid.out1", Status: baton.StatusSent, At: time.Unix(1749416400, 0).UTC()},
		{Channel: baton.ChannelWhatsApp, ProviderID: "wamid.out1", Status: baton.StatusDelivered, At: time.Unix(1749416401, 0).UTC()},
		{Channel: baton.ChannelWhatsApp, ProviderID: "wamid.out2", Status: baton.StatusRead, At: time.Unix(1749416402, 0).UTC()},
		{Channel: baton.ChannelWhatsApp, ProviderID: "wamid.out3", Status: baton.StatusFailed, Code: "131026",
			Reason: "Message undeliverable: Recipient is not a valid WhatsApp user", At: time.Unix(1749416403, 0).UTC()},
	}
	if !reflect.DeepEqual(b.Statuses, wantStatuses) {
		t.Fatalf("statuses:\n got %+v\nwant %+v", b.Statuses, wantStatuses)
	}
}

func TestParseKeepsTheNumberOfEachChange(t *testing.T) {
	parts, err := Parse(fixture(t, "CONSTRUCTED_batch_all_types.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range parts {
		got = append(got, p.PhoneNumberID)
	}
	// Two changes for one number, an account update (no part), one change
	// for another number.
	want := []string{"106540352242922", "106540352242922", "106540352242923"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("phone_number_ids of the parts %v, want %v", got, want)
	}
	if n := len(parts[2].Batch.Messages); n != 1 || parts[2].Batch.Messages[0].ProviderMessageID != "wamid.entry2" {
		t.Fatalf("the second number's part: %+v", parts[2].Batch)
	}
}

func TestParseRejects(t *testing.T) {
	env := func(msg string) string {
		return `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[` + msg + `]}}]}]}`
	}
	const card = "4111 1111 1111 1111"
	cases := []struct {
		name, body, wantInErr string
		secret                string // a value the error must not repeat
	}{
		{name: "not json", body: `{"object":`, wantInErr: "not valid JSON"},
		{name: "trailing data", body: `{"object":"whatsapp_business_account"} {}`, wantInErr: "trailing"},
		{name: "wrong object", body: `{"object":"jane@example.com","entry":[]}`, wantInErr: `object is not "whatsapp_business_account"`, secret: "jane@example.com"},
		{name: "no id", body: env(`{"from":"1","type":"text","text":{"body":"x"}}`), wantInErr: "messages[0] has no id"},
		{name: "no from", body: env(`{"id":"w1","type":"text","text":{"body":"x"}}`), wantInErr: "has no from"},
		{name: "bad timestamp", body: env(`{"id":"w1","from":"1","timestamp":"` + card + `","type":"text","text":{"body":"x"}}`),
			wantInErr: "messages[0].timestamp is not unix seconds", secret: card},
		{name: "text without text", body: env(`{"id":"w1","from":"1","type":"text"}`), wantInErr: `type "text" but no text object`},
		{name: "image without id", body: env(`{"id":"w1","from":"1","type":"image","image":{"mime_type":"image/png"}}`), wantInErr: "no media id"},
		{name: "wrong field type", body: env(`{"id":4111111111111111,"from":"1","type":"text","text":{"body":"x"}}`),
			wantInErr: "not valid JSON: entry.changes.value.messages.id has the wrong type", secret: "4111111111111111"},
		{name: "status without id", body: `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"status":"read"}]}}]}]}`, wantInErr: "statuses[0] has no id"},
		{name: "no phone_number_id", body: env(`{"id":"w1","from":"1","type":"text","text":{"body":"x"}}`), wantInErr: "changes[0].value.metadata has no phone_number_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := parse(t, []byte(c.body))
			if baton.ErrorCode(err) != baton.EINVALID {
				t.Fatalf("want EINVALID, got %v", err)
			}
			if !strings.Contains(err.Error(), c.wantInErr) {
				t.Fatalf("error %q does not say %q", err, c.wantInErr)
			}
			if c.secret != "" && strings.Contains(err.Error(), c.secret) {
				t.Fatalf("error %q repeats the rejected value", err)
			}
			if len(b.Messages)+len(b.Statuses) != 0 {
				t.Fatal("a rejected body must yield nothing")
			}
		})
	}
}

func FuzzParseWhatsApp(f *testing.F) {
	for _, name := range []string{"inbound_text.json", "inbound_image.json", "CONSTRUCTED_batch_all_types.json", "meta_body_compact.json"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"x","status":"failed","errors":[{}]}]}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := parse(t, body)
		if err != nil {
			if baton.ErrorCode(err) != baton.EINVALID {
				t.Fatalf("parse error without EINVALID: %v", err)
			}
			return
		}
		for _, m := range b.Messages {
			if m.ProviderMessageID == "" || m.From == "" || m.Type == "" || m.Channel != baton.ChannelWhatsApp {
				t.Fatalf("accepted an incomplete message: %+v", m)
			}
		}
		for _, s := range b.Statuses {
			if s.ProviderID == "" || s.Status.Rank() < 0 {
				t.Fatalf("accepted an incomplete status: %+v", s)
			}
		}
	})
}
