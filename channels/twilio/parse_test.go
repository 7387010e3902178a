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
			Channel: baton.ChannelSMS, ProviderMessageID: "SM1234567890abcdef1234567890abcdef", From: "+14155550100",
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
			b, err := Parse(p, nil)
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
			b, err := Parse(url.Values{"MessageSid": {"SM1"}, "MessageStatus": {c.status}}, nil)
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
	b, err := Parse(url.Values{"MessageSid": {"MM1"}, "From": {"+1"}, "NumMedia": {"2"},
		"MediaUrl0": {"https://m/0"}, "MediaContentType0": {"video/mp4"}, "MediaUrl1": {"https://m/1"}, "MediaContentType1": {"application/pdf"}}, nil)
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
		{"bad NumMedia", url.Values{"MessageSid": {"SM1"}, "From": {"+1"}, "NumMedia": {"4111 1111 1111 1111"}}, "NumMedia is not a number"},
		{"missing media url", url.Values{"MessageSid": {"SM1"}, "From": {"+1"}, "NumMedia": {"1"}}, "MediaUrl0 is missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.params, nil)
			if baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), c.wantInErr) {
				t.Fatalf("want EINVALID saying %q, got %v", c.wantInErr, err)
			}
			if strings.Contains(err.Error(), "4111") {
				t.Fatalf("error %q repeats the rejected value", err)
			}
		})
	}
	if _, err := ParseForm([]byte("a=%zz")); baton.ErrorCode(err) != baton.EINVALID {
		t.Fatalf("malformed form accepted: %v", err)
	}
}

// TestStatusErrorMessageIsRedacted: Twilio's own text in a status callback
// is kept only through the redactor; the code's known meaning is ours.
func TestStatusErrorMessageIsRedacted(t *testing.T) {
	redact := baton.RedactFunc(func(s string) string { return strings.ReplaceAll(s, "+14155550100", "[PHONE]") })
	params := func(code string) url.Values {
		return url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"failed"}, "ErrorCode": {code}, "ErrorMessage": {"Cannot route to +14155550100"}}
	}
	cases := []struct {
		name   string
		code   string
		redact baton.Redactor
		want   string
	}{
		{"unknown code, redactor", "39999", redact, "failed: Cannot route to [PHONE]"},
		{"unknown code, no redactor: text withheld", "39999", nil, "failed"},
		{"known code: our words", "30003", nil, "failed: unreachable destination handset"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Parse(params(c.code), c.redact)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Statuses) != 1 || b.Statuses[0].Reason != c.want || b.Statuses[0].Code != c.code {
				t.Fatalf("got %+v, want reason %q", b.Statuses, c.want)
			}
		})
	}
}

// TestOwns: a webhook belongs to an account only when both its AccountSid
// and its number (To of a message, From of a status callback, or the
// Messaging Service) are the account's.
func TestOwns(t *testing.T) {
	num := Account{AccountSID: "AC1", From: "+14155550199"}
	svc := Account{AccountSID: "AC1", MessagingServiceSID: "MG1"}
	msg := func(sid, to string) url.Values {
		return url.Values{"AccountSid": {sid}, "From": {"+14155550100"}, "To": {to}, "MessageSid": {"SM1"}}
	}
	status := url.Values{"AccountSid": {"AC1"}, "From": {"+14155550199"}, "To": {"+14155550100"}, "MessageStatus": {"delivered"}}
	cases := []struct {
		name string
		acct Account
		p    url.Values
		want bool
	}{
		{"message to our number", num, msg("AC1", "+14155550199"), true},
		{"written with separators", num, msg("AC1", "+1 (415) 555-0199"), true},
		{"another number", num, msg("AC1", "+14155550198"), false},
		{"another account", num, msg("AC2", "+14155550199"), false},
		{"no AccountSid", num, url.Values{"To": {"+14155550199"}}, false},
		{"no To", num, msg("AC1", ""), false},
		{"status callback from our number", num, status, true},
		{"status callback to our number is not ours", num, url.Values{"AccountSid": {"AC1"}, "From": {"+14155550100"}, "To": {"+14155550199"}, "MessageStatus": {"sent"}}, false},
		{"our messaging service", svc, url.Values{"AccountSid": {"AC1"}, "To": {"+14155550111"}, "MessagingServiceSid": {"MG1"}}, true},
		{"another messaging service", svc, url.Values{"AccountSid": {"AC1"}, "To": {"+14155550111"}, "MessagingServiceSid": {"MG2"}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := owns(c.acct, c.p); got != c.want {
				t.Fatalf("owns = %v, want %v", got, c.want)
			}
		})
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
		b, err := Parse(p, nil)
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
