package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

type recorded struct {
	Method, Path, Auth string
	Body               map[string]any
}

// graph is a fake Graph API: it records every request and answers with the
// next scripted reply (the last one repeats).
type graph struct {
	mu      sync.Mutex
	reqs    []recorded
	replies []reply
	srv     *httptest.Server
}

type reply struct {
	status int
	header map[string]string
	body   string
	delay  time.Duration
}

func newGraph(t *testing.T, replies ...reply) *graph {
	g := &graph{replies: replies}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		g.mu.Lock()
		g.reqs = append(g.reqs, recorded{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Body: body})
		rep := reply{status: 200, body: `{"messaging_product":"whatsapp","messages":[{"id":"wamid.default"}]}`}
		if len(g.replies) > 0 {
			rep = g.replies[0]
			if len(g.replies) > 1 {
				g.replies = g.replies[1:]
			}
		}
		g.mu.Unlock()
		if rep.delay > 0 {
			select {
			case <-time.After(rep.delay):
			case <-r.Context().Done():
				return
			}
		}
		for k, v := range rep.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		_, _ = io.WriteString(w, rep.body)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *graph) requests() []recorded {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]recorded(nil), g.reqs...)
}

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newSender(g *graph, tpl *WindowTemplate) *Sender {
	return &Sender{
		Accounts: map[string]Account{"b1": {AccessToken: "tok-1", PhoneNumberID: "106540352242922", Template: tpl}},
		BaseURL:  g.srv.URL + "/v23.0",
		Client:   g.srv.Client(),
		Timeout:  2 * time.Second,
		Clock:    fixedClock{testNow},
	}
}

func conv(lastInboundAgo time.Duration) *baton.Conversation {
	last := testNow.Add(-lastInboundAgo)
	return &baton.Conversation{ID: 7, BotID: "b1", Channel: baton.ChannelWhatsApp, Address: "{{Recipient-Phone-Number}}", LastInboundAt: &last}
}

func withOutbound(m *baton.Message, o baton.Outbound) *baton.Message {
	baton.SetOutbound(m, o)
	return m
}

func TestSendMatchesReferenceBodies(t *testing.T) {
	cases := []struct {
		fixture string
		msg     *baton.Message
	}{
		{"send_text.json", &baton.Message{Text: "text-message-content"}},
		{"send_reply_text.json", &baton.Message{Text: "<TEXT_MSG_CONTENT>", ReplyTo: "<MSGID_OF_PREV_MSG>"}},
		{"send_image_by_id.json", &baton.Message{Attachments: []baton.Attachment{{Kind: baton.TypeImage, MediaID: "<IMAGE_OBJECT_ID>"}}}},
		{"send_image_by_url.json", &baton.Message{Attachments: []baton.Attachment{{Kind: baton.TypeImage, URL: "http(s)://image-url"}}}},
		{"send_document_by_url.json", &baton.Message{Attachments: []baton.Attachment{{Kind: baton.TypeDocument, URL: "<http(s)://document-url>", Caption: "<DOCUMENT-CAPTION-TEXT>"}}}},
		{"send_interactive_reply_buttons.json", withOutbound(&baton.Message{Text: "<BUTTON_TEXT>"}, baton.Outbound{Buttons: []baton.Choice{
			{ID: "<UNIQUE_BUTTON_ID_1>", Title: "<BUTTON_TITLE_1>"}, {ID: "<UNIQUE_BUTTON_ID_2>", Title: "<BUTTON_TITLE_2>"}}})},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			g := newGraph(t)
			id, err := newSender(g, nil).Send(context.Background(), conv(time.Hour), c.msg)
			if err != nil {
				t.Fatal(err)
			}
			if id != "wamid.default" {
				t.Fatalf("provider id %q", id)
			}
			reqs := g.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			if reqs[0].Path != "/v23.0/106540352242922/messages" || reqs[0].Auth != "Bearer tok-1" || reqs[0].Method != "POST" {
				t.Fatalf("request line: %+v", reqs[0])
			}
			var want map[string]any
			if err := json.Unmarshal(fixture(t, c.fixture), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(reqs[0].Body, want) {
				got, _ := json.Marshal(reqs[0].Body)
				t.Fatalf("body differs from the reference\n got %s\nwant %s", got, fixture(t, c.fixture))
			}
		})
	}
}

func TestSendListAndTemplate(t *testing.T) {
	g := newGraph(t)
	s := newSender(g, nil)
	list := withOutbound(&baton.Message{Text: "<BODY_TEXT>"}, baton.Outbound{List: &baton.List{Button: "<BUTTON_TEXT>", Sections: []baton.Section{
		{Title: "<LIST_SECTION_1_TITLE>", Rows: []baton.Row{{ID: "<LIST_SECTION_1_ROW_1_ID>", Title: "<SECTION_1_ROW_1_TITLE>", Description: "<SECTION_1_ROW_1_DESC>"}}},
	}}})
	tpl := withOutbound(&baton.Message{}, baton.Outbound{Template: &baton.Template{Name: "order_update", Language: "en_US", BodyParams: []string{"A-1001"}}})
	for _, m := range []*baton.Message{list, tpl} {
		if _, err := s.Send(context.Background(), conv(time.Hour), m); err != nil {
			t.Fatal(err)
		}
	}
	reqs := g.requests()
	it := reqs[0].Body["interactive"].(map[string]any)
	sections := it["action"].(map[string]any)["sections"].([]any)
	row := sections[0].(map[string]any)["rows"].([]any)[0].(map[string]any)
	if it["type"] != "list" || it["action"].(map[string]any)["button"] != "<BUTTON_TEXT>" || row["id"] != "<LIST_SECTION_1_ROW_1_ID>" || row["description"] != "<SECTION_1_ROW_1_DESC>" {
		t.Fatalf("list body: %+v", reqs[0].Body)
	}
	tb := reqs[1].Body["template"].(map[string]any)
	param := tb["components"].([]any)[0].(map[string]any)["parameters"].([]any)[0].(map[string]any)
	if reqs[1].Body["type"] != "template" || tb["name"] != "order_update" || tb["language"].(map[string]any)["code"] != "en_US" || param["text"] != "A-1001" {
		t.Fatalf("template body: %+v", reqs[1].Body)
	}
}

func TestSendRejectsBadMessagesWithoutCallingTheAPI(t *testing.T) {
	four := []baton.Choice{{ID: "a", Title: "A"}, {ID: "b", Title: "B"}, {ID: "c", Title: "C"}, {ID: "d", Title: "D"}}
	cases := []struct {
		name string
		msg  *baton.Message
	}{
		{"four buttons", withOutbound(&baton.Message{Text: "pick"}, baton.Outbound{Buttons: four})},
		{"buttons without body", withOutbound(&baton.Message{}, baton.Outbound{Buttons: four[:1]})},
		{"empty", &baton.Message{}},
		{"media without id or link", &baton.Message{Attachments: []baton.Attachment{{Kind: baton.TypeImage}}}},
		{"two attachments", &baton.Message{Attachments: []baton.Attachment{{Kind: baton.TypeImage, URL: "u"}, {Kind: baton.TypeImage, URL: "v"}}}},
		{"location as media", &baton.Message{Attachments: []baton.Attachment{{Kind: baton.TypeLocation, URL: "u"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newGraph(t)
			_, err := newSender(g, nil).Send(context.Background(), conv(time.Hour), c.msg)
			if baton.ErrorCode(err) != baton.EINVALID {
				t.Fatalf("want EINVALID, got %v", err)
			}
			if n := len(g.requests()); n != 0 {
				t.Fatalf("%d requests made for an invalid message", n)
			}
		})
	}
}

func TestSendClassifiesProviderErrors(t *testing.T) {
	graphErr := func(code int, msg string) string {
		return `{"error":{"message":"` + msg + `","type":"OAuthException","code":` + itoa(code) + `,"error_data":{"messaging_product":"whatsapp","details":"` + msg + ` details"},"fbtrace_id":"A1"}}`
	}
	cases := []struct {
		name       string
		rep        reply
		wantCode   string
		retryAfter time.Duration
		providerCd string
	}{
		{"500", reply{status: 500, body: `oops`}, baton.EUNAVAILABLE, 0, ""},
		{"429 with Retry-After", reply{status: 429, header: map[string]string{"Retry-After": "7"}, body: graphErr(130429, "Rate limit hit")}, baton.EUNAVAILABLE, 7 * time.Second, "130429"},
		{"throughput limit", reply{status: 400, body: graphErr(130429, "Rate limit hit")}, baton.EUNAVAILABLE, 0, "130429"},
		{"pair rate limit", reply{status: 400, body: graphErr(131056, "Pair rate limit hit")}, baton.EUNAVAILABLE, 6 * time.Second, "131056"},
		{"undeliverable", reply{status: 400, body: graphErr(131026, "Message undeliverable")}, baton.EINVALID, 0, "131026"},
		{"expired token", reply{status: 401, body: graphErr(190, "Access token has expired")}, baton.EFORBIDDEN, 0, "190"},
		{"window closed, no template", reply{status: 400, body: graphErr(131047, "Re-engagement message")}, baton.EFORBIDDEN, 0, "131047"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newGraph(t, c.rep)
			_, err := newSender(g, nil).Send(context.Background(), conv(time.Hour), &baton.Message{Text: "hi"})
			if got := baton.ErrorCode(err); got != c.wantCode {
				t.Fatalf("code %s, want %s (%v)", got, c.wantCode, err)
			}
			var rl *baton.RetryLater
			if isRL := errors.As(err, &rl); isRL != (c.retryAfter > 0) || (isRL && rl.After != c.retryAfter) {
				t.Fatalf("retry-after: %v, want %v", err, c.retryAfter)
			}
			code, reason := channels.FailureDetail(err)
			if c.providerCd != "" && code != c.providerCd {
				t.Fatalf("provider code %q, want %q", code, c.providerCd)
			}
			if reason == "" {
				t.Fatal("no reason kept")
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestWindowTemplate(t *testing.T) {
	tpl := &WindowTemplate{Name: "follow_up", Language: "en", WithText: true}
	t.Run("25 h after the customer wrote: template, no free-form attempt", func(t *testing.T) {
		g := newGraph(t)
		id, err := newSender(g, tpl).Send(context.Background(), conv(25*time.Hour), &baton.Message{Text: "Your refund is done"})
		if err != nil || id == "" {
			t.Fatal(id, err)
		}
		reqs := g.requests()
		if len(reqs) != 1 || reqs[0].Body["type"] != "template" {
			t.Fatalf("requests: %+v", reqs)
		}
		tb := reqs[0].Body["template"].(map[string]any)
		p := tb["components"].([]any)[0].(map[string]any)["parameters"].([]any)[0].(map[string]any)
		if tb["name"] != "follow_up" || p["text"] != "Your refund is done" {
			t.Fatalf("template: %+v", tb)
		}
	})
	t.Run("25 h, no template: refused with the reason, nothing sent", func(t *testing.T) {
		g := newGraph(t)
		_, err := newSender(g, nil).Send(context.Background(), conv(25*time.Hour), &baton.Message{Text: "hi"})
		if baton.ErrorCode(err) != baton.EFORBIDDEN || !strings.Contains(err.Error(), "24-hour") {
			t.Fatalf("got %v", err)
		}
		if len(g.requests()) != 0 {
			t.Fatal("a free-form message was attempted outside the window")
		}
	})
	t.Run("provider says 131047 inside our window: template follows", func(t *testing.T) {
		g := newGraph(t,
			reply{status: 400, body: `{"error":{"message":"Re-engagement message","code":131047}}`},
			reply{status: 200, body: `{"messages":[{"id":"wamid.tpl"}]}`})
		id, err := newSender(g, tpl).Send(context.Background(), conv(23*time.Hour), &baton.Message{Text: "hi"})
		if err != nil || id != "wamid.tpl" {
			t.Fatal(id, err)
		}
		reqs := g.requests()
		if len(reqs) != 2 || reqs[0].Body["type"] != "text" || reqs[1].Body["type"] != "template" {
			t.Fatalf("requests: %+v", reqs)
		}
	})
	t.Run("never wrote: no window at all", func(t *testing.T) {
		g := newGraph(t)
		c := conv(0)
		c.LastInboundAt = nil
		if _, err := newSender(g, nil).Send(context.Background(), c, &baton.Message{Text: "hi"}); baton.ErrorCode(err) != baton.EFORBIDDEN {
			t.Fatalf("got %v", err)
		}
	})
}

func TestSendResponseAndTimeout(t *testing.T) {
	g := newGraph(t, reply{status: 200, body: string(fixture(t, "send_response.json"))})
	id, err := newSender(g, nil).Send(context.Background(), conv(time.Minute), &baton.Message{Text: "x"})
	if err != nil || id != "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJCOTY3NDc0NDFDRUI3NTA0Q0UA" {
		t.Fatalf("id %q err %v", id, err)
	}
	slow := newGraph(t, reply{status: 200, body: `{"messages":[{"id":"late"}]}`, delay: time.Second})
	s := newSender(slow, nil)
	s.Timeout = 50 * time.Millisecond
	if _, err := s.Send(context.Background(), conv(time.Minute), &baton.Message{Text: "x"}); baton.ErrorCode(err) != baton.EUNAVAILABLE {
		t.Fatalf("timeout: %v", err)
	}
}

func TestMarkReadAndFetchMedia(t *testing.T) {
	var srvURL string
	mux := http.NewServeMux()
	var got []recorded
	var mu sync.Mutex
	mux.HandleFunc("/v23.0/106540352242922/messages", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		got = append(got, recorded{Path: r.URL.Path, Body: body})
		mu.Unlock()
		_, _ = io.WriteString(w, `{"success":true}`)
	})
	mux.HandleFunc("/v23.0/1003383421387256", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-1" {
			w.WriteHeader(401)
			return
		}
		_, _ = io.WriteString(w, `{"url":"`+srvURL+`/media/file","mime_type":"image/jpeg","id":"1003383421387256"}`)
	})
	mux.HandleFunc("/media/file", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-1" {
			w.WriteHeader(401)
			return
		}
		_, _ = io.WriteString(w, "JPEGDATA")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	srvURL = srv.URL
	s := &Sender{Accounts: map[string]Account{"b1": {AccessToken: "tok-1", PhoneNumberID: "106540352242922"}}, BaseURL: srv.URL + "/v23.0", Clock: fixedClock{testNow}}
	if err := s.MarkRead(context.Background(), "b1", "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUYzMjEzNDM2RTZGQ0MzMDJBRgA=", true); err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	_ = json.Unmarshal(fixture(t, "send_mark_read_typing.json"), &want)
	if len(got) != 1 || !reflect.DeepEqual(got[0].Body, want) {
		t.Fatalf("mark read body %+v, want %+v", got, want)
	}
	file, mime, err := s.FetchMedia(context.Background(), "b1", "1003383421387256")
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(file)
	file.Close()
	if err != nil || string(data) != "JPEGDATA" || mime != "image/jpeg" {
		t.Fatalf("media: %q %q %v", data, mime, err)
	}
	if _, _, err := s.FetchMedia(context.Background(), "b1", "unknown"); err == nil {
		t.Fatal("unknown media id fetched")
	}
}
