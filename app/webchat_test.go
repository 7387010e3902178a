package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
	"github.com/batonhq/baton/channels/webchat"
)

type sseEvent struct {
	id   string
	data webchat.Event
}

// openStream reads Server-Sent Events into a channel until the test ends.
func openStream(t *testing.T, rawURL, lastEventID string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 64)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.data)
			case line == "" && ev.id != "":
				out <- ev
				ev = sseEvent{}
			}
		}
	}()
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	return out
}

func next(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("stream closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event in 10 s")
	}
	return sseEvent{}
}

func TestWebChat(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{})
			// The streams see the conversation as another replica's
			// would: no signal from the process that wrote, only what
			// polling the store finds.
			h := e.webChat()
			h.Signal, h.Poll = nil, 20*time.Millisecond
			base := e.serve()
			post := func(body map[string]any) (int, map[string]any) {
				t.Helper()
				b, _ := json.Marshal(body)
				resp, err := http.Post(base+"/chat/"+botID+"/messages", "application/json", bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var out map[string]any
				_ = json.NewDecoder(resp.Body).Decode(&out)
				return resp.StatusCode, out
			}

			resp, err := http.Get(base + "/chat/" + botID)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(page), chatTitle) || !strings.Contains(string(page), "EventSource") {
				t.Fatalf("page: %d", resp.StatusCode)
			}

			visitor := "v-0123456789abcdef"
			stream := openStream(t, base+"/chat/"+botID+"/stream?visitor_id="+visitor, "")
			msg := map[string]any{"visitor_id": visitor, "client_message_id": "c-0000000001", "text": "Where is order 77?",
				"attributes": map[string]string{"url": "https://shop.example/orders/77", "order_id": "77"}}
			for i := 0; i < 2; i++ { // the page retries a POST it is unsure of
				if code, out := post(msg); code != 200 || out["duplicate"] != (i == 1) {
					t.Fatalf("post %d: %d %v", i, code, out)
				}
			}
			in := next(t, stream)
			if in.data.Direction != "in" || in.data.Text != "Where is order 77?" {
				t.Fatalf("first event %+v", in)
			}
			conv := onlyConversation(t, e)
			if conv.Attributes["order_id"] != "77" || conv.Attributes["url"] != "https://shop.example/orders/77" {
				t.Fatalf("page attributes not on the conversation: %v", conv.Attributes)
			}
			e.runJobs(func() bool { out := e.outbound(conv.ID); return len(out) == 1 && out[0].Status == baton.StatusSent })
			reply := next(t, stream)
			if reply.data.Direction != "out" || reply.data.Text != ackText {
				t.Fatalf("reply event %+v", reply)
			}
			// A reconnect with Last-Event-ID gets only what came after it.
			again := openStream(t, base+"/chat/"+botID+"/stream?visitor_id="+visitor, in.id)
			if ev := next(t, again); ev.id != reply.id {
				t.Fatalf("catch-up from %s started at %s, want %s", in.id, ev.id, reply.id)
			}

			// A signed identity is a verified customer; the same user id
			// with a wrong signature stays an anonymous visitor.
			sig := channels.HMACSHA256Hex([]byte(chatSecret), []byte("u-42"))
			if code, _ := post(map[string]any{"user_id": "u-42", "user_signature": sig, "client_message_id": "c-0000000002", "text": "hi, logged in"}); code != 200 {
				t.Fatal(code)
			}
			forged := map[string]any{"visitor_id": "v-attacker-000000000", "user_id": "u-42", "user_signature": strings.Repeat("ab", 32), "client_message_id": "c-0000000003", "text": "I am u-42"}
			if code, _ := post(forged); code != 200 {
				t.Fatal(code)
			}
			ctx := context.Background()
			vid, err := e.st.GetIdentity(ctx, botID, baton.ChannelWebChat, "user:u-42")
			if err != nil {
				t.Fatal(err)
			}
			cust, _ := e.st.GetCustomer(ctx, vid.CustomerID)
			if !cust.Verified || cust.ExternalID != "u-42" {
				t.Fatalf("signed user not verified: %+v", cust)
			}
			aid, err := e.st.GetIdentity(ctx, botID, baton.ChannelWebChat, "visitor:v-attacker-000000000")
			if err != nil {
				t.Fatal(err)
			}
			if aid.CustomerID == vid.CustomerID {
				t.Fatal("a wrongly signed identity was merged with the verified customer")
			}
			if other, _ := e.st.GetCustomer(ctx, aid.CustomerID); other.Verified {
				t.Fatal("a wrongly signed identity was marked verified")
			}
			if code, out := post(map[string]any{"visitor_id": "short", "client_message_id": "c-0000000004", "text": "x"}); code != 400 || out["error"] == "" {
				t.Fatalf("bad visitor id: %d %v", code, out)
			}
			resp, _ = http.Get(base + "/chat/nobody/stream?visitor_id=" + url.QueryEscape(visitor))
			resp.Body.Close()
			if resp.StatusCode != 404 {
				t.Fatalf("unknown bot stream: %d", resp.StatusCode)
			}
		})
	}
}

// TestWebChatSignalWakesStreams: with a poll interval of an hour, a
// visitor's own message and the reply to it still reach their open stream
// at once, because this process woke it (the app gives the web chat and
// its sender one signal); another visitor's stream is not woken by them.
func TestWebChatSignalWakesStreams(t *testing.T) {
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			e := newEnv(t, sc, envOptions{})
			e.webChat().Poll = time.Hour
			base := e.serve()
			const visitor, other = "v-signal-0000000001", "v-signal-0000000002"
			stream := openStream(t, base+"/chat/"+botID+"/stream?visitor_id="+visitor, "")
			quiet := openStream(t, base+"/chat/"+botID+"/stream?visitor_id="+other, "")
			time.Sleep(50 * time.Millisecond) // both streams read once and wait
			b, _ := json.Marshal(map[string]any{"visitor_id": visitor, "client_message_id": "c-signal-0001", "text": "Is my parcel late?"})
			resp, err := http.Post(base+"/chat/"+botID+"/messages", "application/json", bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if in := next(t, stream); in.data.Direction != "in" || in.data.Text != "Is my parcel late?" {
				t.Fatalf("first event %+v", in)
			}
			conv := onlyConversation(t, e)
			e.runJobs(func() bool { out := e.outbound(conv.ID); return len(out) == 1 && out[0].Status == baton.StatusSent })
			if reply := next(t, stream); reply.data.Direction != "out" || reply.data.Text != ackText {
				t.Fatalf("reply event %+v", reply)
			}
			select {
			case ev := <-quiet:
				t.Fatalf("another visitor's stream got %+v", ev)
			case <-time.After(50 * time.Millisecond):
			}
		})
	}
}
