package messenger

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
	"github.com/batonhq/baton/channels/channeltest"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func okReply(channeltest.Request) channeltest.Reply {
	return channeltest.Reply{Body: `{"recipient_id":"PSID1","message_id":"m_sent_1"}`}
}

func newSender(p *channeltest.Provider) *Sender {
	return &Sender{
		Pages:   map[string]Page{"b1": {AccessToken: "page-token", PageID: "PAGE1"}},
		BaseURL: p.URL + "/v23.0",
		Timeout: 2 * time.Second,
		Clock:   baton.NewManualClock(testNow),
	}
}

func conv(lastInboundAgo time.Duration) *baton.Conversation {
	last := testNow.Add(-lastInboundAgo)
	return &baton.Conversation{ID: 3, BotID: "b1", Channel: baton.ChannelMessenger, Address: "PSID1", LastInboundAt: &last}
}

func TestSendMessagingTypes(t *testing.T) {
	quick := &baton.Message{Author: baton.AuthorBot, Text: "Did that help?"}
	baton.SetOutbound(quick, baton.Outbound{Buttons: []baton.Choice{{ID: "YES", Title: "Yes"}, {ID: "NO", Title: "No"}}})
	cases := []struct {
		name string
		ago  time.Duration
		msg  *baton.Message
		want string // expected body; "" = refused
	}{
		{"bot inside 24 h", time.Hour, &baton.Message{Author: baton.AuthorBot, Text: "hello, world"},
			`{"recipient":{"id":"PSID1"},"messaging_type":"RESPONSE","message":{"text":"hello, world"}}`},
		{"agent 3 days later", 72 * time.Hour, &baton.Message{Author: baton.AuthorAgent, Text: "Sorry for the wait"},
			`{"recipient":{"id":"PSID1"},"messaging_type":"MESSAGE_TAG","tag":"HUMAN_AGENT","message":{"text":"Sorry for the wait"}}`},
		{"agent inside 24 h", 2 * time.Hour, &baton.Message{Author: baton.AuthorAgent, Text: "hi"},
			`{"recipient":{"id":"PSID1"},"messaging_type":"RESPONSE","message":{"text":"hi"}}`},
		{"quick replies", time.Hour, quick,
			`{"recipient":{"id":"PSID1"},"messaging_type":"RESPONSE","message":{"text":"Did that help?","quick_replies":[{"content_type":"text","title":"Yes","payload":"YES"},{"content_type":"text","title":"No","payload":"NO"}]}}`},
		{"attachment by URL", time.Hour, &baton.Message{Author: baton.AuthorBot, Attachments: []baton.Attachment{{Kind: baton.TypeImage, URL: "https://cdn.example/a.png"}}},
			`{"recipient":{"id":"PSID1"},"messaging_type":"RESPONSE","message":{"attachment":{"type":"image","payload":{"url":"https://cdn.example/a.png","is_reusable":true}}}}`},
		{"bot 3 days later", 72 * time.Hour, &baton.Message{Author: baton.AuthorBot, Text: "x"}, ""},
		{"agent 8 days later", 8 * 24 * time.Hour, &baton.Message{Author: baton.AuthorAgent, Text: "x"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := channeltest.NewProvider(t, okReply)
			id, err := newSender(p).Send(context.Background(), conv(c.ago), c.msg)
			reqs := p.Requests()
			if c.want == "" {
				if baton.ErrorCode(err) != baton.EFORBIDDEN || len(reqs) != 0 {
					t.Fatalf("want a refusal with nothing sent, got err=%v requests=%d", err, len(reqs))
				}
				if code, _ := channels.FailureDetail(err); code != "window_closed" {
					t.Fatalf("code %q", code)
				}
				return
			}
			if err != nil || id != "m_sent_1" {
				t.Fatalf("id %q err %v", id, err)
			}
			if len(reqs) != 1 || reqs[0].Path != "/v23.0/PAGE1/messages" || reqs[0].Header.Get("Authorization") != "Bearer page-token" {
				t.Fatalf("requests %+v", reqs)
			}
			var got, want any
			_ = json.Unmarshal(reqs[0].Body, &got)
			_ = json.Unmarshal([]byte(c.want), &want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("body\n got %s\nwant %s", reqs[0].Body, c.want)
			}
		})
	}
}

func TestSendClassifiesErrors(t *testing.T) {
	cases := []struct {
		name, wantCode, providerCode string
		rep                          channeltest.Reply
		retryAfter                   time.Duration
	}{
		{"page rate limit", baton.EUNAVAILABLE, "613", channeltest.Reply{Status: 400, Body: `{"error":{"message":"Calls to this api have exceeded the rate limit.","code":613}}`}, 0},
		{"429 Retry-After", baton.EUNAVAILABLE, "http_429", channeltest.Reply{Status: 429, Header: map[string]string{"Retry-After": "3"}}, 3 * time.Second},
		{"server error", baton.EUNAVAILABLE, "http_502", channeltest.Reply{Status: 502}, 0},
		{"outside window", baton.EFORBIDDEN, "10/2018278", channeltest.Reply{Status: 400, Body: `{"error":{"message":"This message is sent outside of allowed window.","code":10,"error_subcode":2018278}}`}, 0},
		{"person unavailable", baton.EINVALID, "551", channeltest.Reply{Status: 400, Body: `{"error":{"message":"This person isn't available right now.","code":551}}`}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := channeltest.NewProvider(t, nil, c.rep)
			_, err := newSender(p).Send(context.Background(), conv(time.Hour), &baton.Message{Author: baton.AuthorBot, Text: "x"})
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
}
