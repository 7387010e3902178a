package twilio

import (
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/batonhq/baton"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseBody(t *testing.T, body []byte) (url.Values, error) {
	t.Helper()
	return ParseForm(body)
}

func TestParseFixtures(t *testing.T) {
	cases := []struct {
		file       string
		wantMsg    *baton.InboundMessage
		wantStatus *baton.StatusUpdate
	}{
		{file: "CONSTRUCTED_inbound_sms_mms.form", wantMsg: &baton.InboundMessage{
			BotID: "b1", Channel: baton.ChannelSMS, ProviderMessageID: "SM1234567890abcdef1234567890abcdef", From: "+14155550100",
			Type: baton.TypeText, RawType: "mms", Text: "Hi, my order is late",
			Attachments: []baton.Attachment{{Kind: baton.TypeImage, MIMEType: "image/jpeg",
				URL: "https://api.twilio.com/2010-04-01/Accounts/ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX/Messages/SM1234567890abcdef1234567890abcdef/Media/ME1234567890abcdef1234567890abcdef"}},
		}},
		{file: "CONSTRUCTED_status_callback_delivered.form", wantStatus: &baton.StatusUpdate{
			Channel: baton.ChannelSMS, ProviderID: "SM1234567890abcdef1234567890abcdef", Status: baton.StatusDelivered,
		}},
		{file: "CONSTRUCTED_status_callback_undelivered.form", wantStatus: &baton.StatusUpdate{
			Channel: baton.ChannelSMS, ProviderID: "SM1234567890abcdef1234567890abcdef", Status: baton.StatusFailed,
			Code: "30003", Reason: "undelivered: unreachable destination handset",
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			p, err := parseBody(t, fixture(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			b, err := Parse("b1", p)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.wantMsg != nil:
				if len(b.Messages) != 1 || len(b.Statuses) != 0 || !reflect.DeepEqual(b.Messages[0], *c.wantMsg) {
					t.Fatalf("got %+v", b)
				}
			default:
				if len(b.Statuses) != 1 || len(b.Messages) != 0 || !reflect.DeepEqual(b.Statuses[0], *c.wantStatus) {
					t.Fatalf("got %+v", b)
				}
			}
		})
	}
}

func TestParseStatusLifecycle(t *testing.T) {
	cases := []struct {
		status string
		want   baton.DeliveryStatus
		ok     bool
	}{
		{"queued", baton.StatusQueued, true},
		{"accepted", baton.StatusQueued, true},
		{"sending", baton.StatusSending, true},
		{"sent", baton.StatusSent, true},
		{"delivered", baton.StatusDelivered, true},
		{"undelivered", baton.StatusFailed, true},
		{"failed", baton.StatusFailed, true},
		{"read", baton.StatusRead, true},
		{"partially_delivered", "", false},
	}
	for _, c := range cases {
		t.Run(c.status, func(t *testing.T) {
			b, err := Parse("b1", url.Values{"MessageSid": {"SM1"}, "MessageStatus": {c.status}})
			if err != nil {
				t.Fatal(err)
			}
			if !c.ok {
				if len(b.Statuses) != 0 {
					t.Fatalf("unknown status produced %+v", b.Statuses)
				}
				return
			}
			if len(b.Statuses) != 1 || b.Statuses[0].Status != c.want {
				t.Fatalf("got %+v", b.Statuses)
			}
		})
	}
}

func TestParseMediaOnlyAndRejects(t *testing.T) {
	b, err := Parse("b1", url.Values{"MessageSid": {"MM1"}, "From": {"+1"}, "NumMedia": {"2"},
		"MediaUrl0": {"https://m/0"}, "MediaContentType0": {"video/mp4"}, "MediaUrl1": {"https://m/1"}, "MediaContentType1": {"application/pdf"}})
	if err != nil {
		t.Fatal(err)
	}
	m := b.Messages[0]
	if m.Type != baton.TypeVideo || len(m.Attachments) != 2 || m.Attachments[1].Kind != baton.TypeDocument {
		t.Fatalf("media-only MMS: %+v", m)
	}
	cases := []struct {
		name      string
		params    url.Values
		wantInErr string
	}{
		{"no sid", url.Values{"From": {"+1"}, "Body": {"hi"}}, "no MessageSid"},
		{"no from", url.Values{"MessageSid": {"SM1"}, "Body": {"hi"}}, "no From"},
		{"bad NumMedia", url.Values{"MessageSid": {"SM1"}, "From": {"+1"}, "NumMedia": {"many"}}, "NumMedia"},
		{"missing media url", url.Values{"MessageSid": {"SM1"}, "From": {"+1"}, "NumMedia": {"1"}}, "MediaUrl0 is missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("b1", c.params)
			if baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), c.wantInErr) {
				t.Fatalf("want EINVALID saying %q, got %v", c.wantInErr, err)
			}
		})
	}
	if _, err := ParseForm([]byte("a=%zz")); baton.ErrorCode(err) != baton.EINVALID {
		t.Fatalf("malformed form accepted: %v", err)
	}
}

func FuzzParseTwilio(f *testing.F) {
	for _, name := range []string{"CONSTRUCTED_inbound_sms_mms.form", "CONSTRUCTED_status_callback_delivered.form", "CONSTRUCTED_status_callback_undelivered.form"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte("MessageSid=SM1&From=%2B1&NumMedia=3&MediaUrl0=x"))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ParseForm(body)
		if err != nil {
			return
		}
		b, err := Parse("bot", p)
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
			for _, a := range m.Attachments {
				if a.URL == "" {
					t.Fatalf("attachment without URL: %+v", a)
				}
			}
		}
	})
}
