package twilio

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
	"github.com/batonhq/baton/channels/channeltest"
)

const testSID = "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"

func okReply(channeltest.Request) channeltest.Reply {
	return channeltest.Reply{Status: 201, Body: `{"sid":"SMsent0001","status":"queued","error_code":null}`}
}

func newSender(p *channeltest.Provider, acct Account) *Sender {
	return &Sender{Accounts: map[string]Account{"b1": acct}, BaseURL: p.URL, Timeout: 2 * time.Second}
}

func smsConv() *baton.Conversation {
	return &baton.Conversation{ID: 9, BotID: "b1", Channel: baton.ChannelSMS, Address: "+14155550100"}
}

func TestSendMatchesReferenceForm(t *testing.T) {
	p := channeltest.NewProvider(t, okReply)
	acct := Account{AccountSID: testSID, AuthToken: "secret-token", From: "+14155550199", StatusCallback: "https://example.com/twilio/status"}
	msg := &baton.Message{Text: "An agent will be with you shortly.", Attachments: []baton.Attachment{{Kind: baton.TypeImage, URL: "https://example.com/img/receipt.png"}}}
	id, err := newSender(p, acct).Send(context.Background(), smsConv(), msg)
	if err != nil || id != "SMsent0001" {
		t.Fatalf("id %q err %v", id, err)
	}
	reqs := p.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/2010-04-01/Accounts/"+testSID+"/Messages.json" {
		t.Fatalf("request line %s %s", r.Method, r.Path)
	}
	user, pass, ok := (&http.Request{Header: r.Header}).BasicAuth()
	if !ok || user != testSID || pass != "secret-token" {
		t.Fatalf("basic auth %q %q %v", user, pass, ok)
	}
	got, _ := url.ParseQuery(string(r.Body))
	want, _ := url.ParseQuery(string(fixture(t, "CONSTRUCTED_send_request.form")))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("form\n got %v\nwant %v", got, want)
	}
}

func TestSendMessagingServiceAndChoices(t *testing.T) {
	p := channeltest.NewProvider(t, okReply)
	acct := Account{AccountSID: testSID, AuthToken: "t", MessagingServiceSID: "MG123"}
	msg := &baton.Message{Text: "Pick one:"}
	baton.SetOutbound(msg, baton.Outbound{Buttons: []baton.Choice{{ID: "a", Title: "Track order"}, {ID: "b", Title: "Refund"}}})
	if _, err := newSender(p, acct).Send(context.Background(), smsConv(), msg); err != nil {
		t.Fatal(err)
	}
	got, _ := url.ParseQuery(string(p.Requests()[0].Body))
	if got.Get("MessagingServiceSid") != "MG123" || got.Has("From") || got.Get("Body") != "Pick one:\n- Track order\n- Refund" {
		t.Fatalf("form %v", got)
	}
}

func TestSendClassifiesErrors(t *testing.T) {
	acct := Account{AccountSID: testSID, AuthToken: "t", From: "+1"}
	cases := []struct {
		name, wantCode, providerCode string
		rep                          channeltest.Reply
		retryAfter                   time.Duration
	}{
		{"unsubscribed", baton.EFORBIDDEN, "21610", channeltest.Reply{Status: 400, Body: `{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}`}, 0},
		{"invalid number", baton.EINVALID, "21211", channeltest.Reply{Status: 400, Body: `{"code":21211,"message":"The 'To' number is not a valid phone number.","status":400}`}, 0},
		{"too many requests", baton.EUNAVAILABLE, "20429", channeltest.Reply{Status: 429, Header: map[string]string{"Retry-After": "2"}, Body: `{"code":20429,"message":"Too Many Requests","status":429}`}, 2 * time.Second},
		{"server error", baton.EUNAVAILABLE, "http_500", channeltest.Reply{Status: 500, Body: `oops`}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := channeltest.NewProvider(t, nil, c.rep)
			_, err := newSender(p, acct).Send(context.Background(), smsConv(), &baton.Message{Text: "x"})
			if baton.ErrorCode(err) != c.wantCode {
				t.Fatalf("code %s want %s: %v", baton.ErrorCode(err), c.wantCode, err)
			}
			if code, _ := channels.FailureDetail(err); code != c.providerCode {
				t.Fatalf("provider code %q want %q", code, c.providerCode)
			}
			var rl *baton.RetryLater
			if errors.As(err, &rl) != (c.retryAfter > 0) || (rl != nil && rl.After != c.retryAfter) {
				t.Fatalf("retry after: %v", err)
			}
		})
	}
	p := channeltest.NewProvider(t, okReply)
	if _, err := newSender(p, acct).Send(context.Background(), smsConv(), &baton.Message{}); baton.ErrorCode(err) != baton.EINVALID || len(p.Requests()) != 0 {
		t.Fatalf("empty message: %v, %d requests", err, len(p.Requests()))
	}
}
