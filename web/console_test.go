package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/limit"
	"github.com/batonhq/baton/web"
)

// TestConsoleRoutes: the inbox is a page and two assets, served with a CSP
// that allows no inline script or style, and only where there is a desk.
func TestConsoleRoutes(t *testing.T) {
	f := newAgentFixture(t, web.Config{AdminToken: adminToken})
	status, h, page := do(t, "GET", f.base+"/console", nil, nil)
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /console: %d %s", status, h.Get("Content-Type"))
	}
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP %q", csp)
	}
	if h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("page headers: %v", h)
	}
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|<style|style="|onclick=`).Match(page) {
		t.Fatal("the page has inline script or style, which its CSP refuses")
	}
	assets := regexp.MustCompile(`(?:src|href)="(/console/assets/[^"?]+)\?v=([0-9a-f]+)"`).FindAllSubmatch(page, -1)
	if len(assets) != 2 {
		t.Fatalf("the page names %d assets, want the script and the style sheet:\n%s", len(assets), page)
	}
	for _, a := range assets {
		path, v := string(a[1]), string(a[2])
		wantType := map[bool]string{true: "text/javascript", false: "text/css"}[strings.HasSuffix(path, ".js")]
		tests := []struct {
			name, query, cache string
		}{
			{"by digest", "?v=" + v, "public, max-age=31536000, immutable"},
			{"other digest", "?v=0", "no-cache"},
			{"no digest", "", "no-cache"},
		}
		for _, tc := range tests {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				status, h, body := do(t, "GET", f.base+path+tc.query, nil, nil)
				if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), wantType) || len(body) == 0 {
					t.Fatalf("%d %q %d bytes", status, h.Get("Content-Type"), len(body))
				}
				if h.Get("Cache-Control") != tc.cache || h.Get("X-Content-Type-Options") != "nosniff" {
					t.Fatalf("headers %v", h)
				}
			})
		}
	}
	if status, _, body := do(t, "GET", f.base+"/console/assets/baton.db", nil, nil); status != http.StatusNotFound {
		t.Fatalf("unknown asset: %d %s", status, body)
	}

	// Without a desk there is no agent API, and no inbox.
	base, _ := serve(t, web.Config{Store: openStore(t), AdminToken: adminToken})
	for _, p := range []string{"/console", "/console/assets/console.js"} {
		if status, _, _ := do(t, "GET", base+p, nil, nil); status != http.StatusNotFound {
			t.Errorf("%s without a desk: %d, want 404", p, status)
		}
	}
}

// sse is one Server-Sent Event.
type sse struct {
	id, event, data string
}

// openStream opens GET /api/v1/stream with header and returns its status
// and, for a 200, the events as they arrive; the stream closes with the
// test.
func openStream(t *testing.T, url string, header map[string]string) (int, http.Header, <-chan sse) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan sse, 100)
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		close(ch)
		return resp.StatusCode, resp.Header, ch
	}
	go func() {
		defer resp.Body.Close()
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.data != "" {
					select {
					case ch <- ev:
					case <-ctx.Done():
						return
					}
				}
				ev = sse{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return resp.StatusCode, resp.Header, ch
}

// next waits for the next event of kind, skipping others.
func next(t *testing.T, ch <-chan sse, kind string) sse {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("the stream ended waiting for a %s event", kind)
			}
			if ev.event == kind {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event within 5 s", kind)
		}
	}
}

// conversationIDs reads a conversations event.
func conversationIDs(t *testing.T, ev sse) []int64 {
	t.Helper()
	var body struct {
		Conversations []struct {
			ID int64 `json:"id"`
		} `json:"conversations"`
	}
	if err := json.Unmarshal([]byte(ev.data), &body); err != nil {
		t.Fatalf("conversations event %q: %v", ev.data, err)
	}
	var out []int64
	for _, c := range body.Conversations {
		out = append(out, c.ID)
	}
	return out
}

type streamItem struct {
	ID             int64  `json:"id"`
	ConversationID int64  `json:"conversation_id"`
	Direction      string `json:"direction"`
	Text           string `json:"text"`
	Type           string `json:"type"`
}

func item(t *testing.T, ev sse) streamItem {
	t.Helper()
	var m streamItem
	if err := json.Unmarshal([]byte(ev.data), &m); err != nil {
		t.Fatalf("%s event %q: %v", ev.event, ev.data, err)
	}
	return m
}

func (f *agentFixture) message(t *testing.T, conv, text string, dir baton.Direction) int64 {
	t.Helper()
	m := &baton.Message{ConversationID: f.conv[conv], BotID: "shop",
		Channel: baton.ChannelWebChat, ProviderID: "p-" + text, Direction: dir, Author: baton.AuthorCustomer, Text: text}
	if _, err := f.st.InsertMessage(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m.ID
}

// TestAgentStream: the stream's authentication (a bearer header, or the
// cookie POST /api/v1/session sets, which authenticates nothing else),
// what it shows an agent (waiting conversations of their bot and their
// own, never another agent's or another bot's), resuming with after= and
// Last-Event-ID, and its limit per agent.
func TestAgentStream(t *testing.T) {
	slots := limit.NewSlots("agent streams", "agent", 1, 10, 10*time.Second)
	f := newAgentFixture(t, web.Config{AdminToken: adminToken, Streams: slots, StreamPoll: 20 * time.Millisecond, StreamFor: time.Minute})
	stream := f.base + "/api/v1/stream"
	bearer := func(who string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + f.secret[who]}
	}

	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name   string
			path   string
			header map[string]string
			want   int
		}{
			{"no token", "", nil, http.StatusUnauthorized},
			{"unknown token in the cookie", "", map[string]string{"Cookie": "baton_agent_stream=bat_notatoken"}, http.StatusUnauthorized},
			{"bad after", "?after=x", bearer("ann"), http.StatusBadRequest},
			{"bad event cursor", "?after=3.-1", bearer("ann"), http.StatusBadRequest},
			{"bad Last-Event-ID", "", map[string]string{"Authorization": "Bearer " + f.secret["ann"], "Last-Event-ID": "a.b"}, http.StatusBadRequest},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if status, _, _ := openStream(t, stream+tc.path, tc.header); status != tc.want {
					t.Fatalf("%d, want %d", status, tc.want)
				}
			})
		}
		if status, _ := f.call(t, "POST", "/api/v1/session", "admin", "", nil); status != http.StatusForbidden {
			t.Fatalf("a session from the admin token: %d, want 403", status)
		}
	})

	t.Run("session cookie", func(t *testing.T) {
		status, h, body := do(t, "POST", f.base+"/api/v1/session", nil, bearer("ann"))
		if status != http.StatusOK {
			t.Fatalf("POST /api/v1/session: %d %s", status, body)
		}
		cookie := h.Get("Set-Cookie")
		for _, want := range []string{"baton_agent_stream=" + f.secret["ann"], "path=/api/v1/stream", "HttpOnly", "SameSite=Strict", "max-age=43200"} {
			if !strings.Contains(strings.ToLower(cookie), strings.ToLower(want)) {
				t.Fatalf("Set-Cookie %q lacks %q", cookie, want)
			}
		}
		if strings.Contains(strings.ToLower(cookie), "secure") {
			t.Fatalf("Set-Cookie %q: Secure over plain HTTP would never be sent back", cookie)
		}
		jar := map[string]string{"Cookie": "baton_agent_stream=" + f.secret["ann"]}
		// The cookie authenticates the stream and nothing else.
		if status, _, _ := do(t, "GET", f.base+"/api/v1/me", nil, jar); status != http.StatusUnauthorized {
			t.Fatalf("the cookie on /api/v1/me: %d, want 401", status)
		}
		status, _, events := openStream(t, stream, jar)
		if status != http.StatusOK {
			t.Fatalf("the stream with the cookie: %d", status)
		}
		next(t, events, "conversations")
		status, h, _ = do(t, "DELETE", f.base+"/api/v1/session", nil, nil)
		if status != http.StatusNoContent || !strings.Contains(strings.ToLower(h.Get("Set-Cookie")), "max-age=0") &&
			!strings.Contains(strings.ToLower(h.Get("Set-Cookie")), "expires=thu, 01 jan 1970") {
			t.Fatalf("DELETE /api/v1/session: %d %q", status, h.Get("Set-Cookie"))
		}
	})
	// The stream of the subtest above ends with it; its slot is free again
	// once the server sees the connection gone.
	waitSlots := func() {
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if total, _ := slots.Open(""); total == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("stream slots never released")
			}
		}
	}
	waitSlots()

	t.Run("what an agent sees, live", func(t *testing.T) {
		status, _, events := openStream(t, stream, bearer("ann"))
		if status != http.StatusOK {
			t.Fatalf("ann's stream: %d", status)
		}
		got := fmt.Sprint(conversationIDs(t, next(t, events, "conversations")))
		want := fmt.Sprint([]int64{f.conv["q1"], f.conv["q2"], f.conv["q3"], f.conv["wa"]})
		if got != want {
			t.Fatalf("ann sees %s, want %s (waiting in shop's queues and her own; not bob's, not another bot's)", got, want)
		}
		// The limit: one stream per agent here; another agent still gets one.
		if status, h, _ := openStream(t, stream, bearer("ann")); status != http.StatusTooManyRequests || h.Get("Retry-After") != "10" {
			t.Fatalf("ann's second stream: %d Retry-After %q, want 429 and 10", status, h.Get("Retry-After"))
		}
		if status, _, _ := openStream(t, stream, bearer("bob")); status != http.StatusOK {
			t.Fatalf("bob's stream beside ann's: %d", status)
		}

		// Bob's conversation and the other bot's stay out; hers come in.
		f.message(t, "bobs", "for bob only", baton.DirectionIn)
		f.message(t, "oth", "for the other bot", baton.DirectionIn)
		waiting := f.message(t, "q2", "still waiting?", baton.DirectionIn)
		m := item(t, next(t, events, "message"))
		if m.ID != waiting || m.ConversationID != f.conv["q2"] || m.Text != "still waiting?" {
			t.Fatalf("first message pushed %+v, want q2's %d", m, waiting)
		}
		if status, body := f.call(t, "POST", f.path("/api/v1/conversations/{wa}/notes"), "ann", `{"text":"checking the order"}`, nil); status != http.StatusCreated {
			t.Fatalf("note: %d %s", status, body)
		}
		m = item(t, next(t, events, "message"))
		if m.ConversationID != f.conv["wa"] || m.Direction != "note" {
			t.Fatalf("note pushed as %+v", m)
		}
		// A claim: an event on q1, and q1 moves to her own.
		if status, body := f.call(t, "POST", f.path("/api/v1/conversations/{q1}/claim"), "ann", "", nil); status != http.StatusOK {
			t.Fatalf("claim: %d %s", status, body)
		}
		// The poll sends the changed list and the event, in either order.
		var sawEvent, sawList bool
		for timeout := time.After(5 * time.Second); !sawEvent || !sawList; {
			select {
			case ev := <-events:
				switch ev.event {
				case "event":
					if e := item(t, ev); e.ConversationID != f.conv["q1"] {
						t.Fatalf("event %+v, want one of q1", e)
					}
					sawEvent = true
				case "conversations":
					sawList = strings.Contains(ev.data, `"state":"assigned","queue_id":"general","agent_id":"ann"`)
				}
			case <-timeout:
				t.Fatalf("after the claim: event %v, list with q1 as ann's %v", sawEvent, sawList)
			}
		}
		if strings.Contains(f.logs.String(), f.secret["ann"]) {
			t.Fatal("a log line carries the agent's token")
		}
	})
	waitSlots()

	t.Run("a revoked token ends the stream", func(t *testing.T) {
		secret, tok := f.token(t, "dan", "console", nil)
		status, _, events := openStream(t, stream, map[string]string{"Authorization": "Bearer " + secret})
		if status != http.StatusOK {
			t.Fatalf("dan's stream: %d", status)
		}
		next(t, events, "conversations")
		if err := f.st.RevokeAgentToken(context.Background(), "dan", tok.ID); err != nil {
			t.Fatal(err)
		}
		for timeout := time.After(5 * time.Second); ; {
			select {
			case _, ok := <-events:
				if !ok {
					return
				}
			case <-timeout:
				t.Fatal("the stream went on after its token was revoked")
			}
		}
	})
	waitSlots()

	t.Run("resume", func(t *testing.T) {
		first := f.message(t, "q3", "one", baton.DirectionIn)
		second := f.message(t, "q3", "two", baton.DirectionIn)
		// Bob sees q2 and q3 waiting (ann claimed q1) and his own: the
		// oldest message among them is q2's first.
		q2, err := f.st.ListMessages(context.Background(), f.conv["q2"], 0, 1)
		if err != nil || len(q2) != 1 {
			t.Fatal(q2, err)
		}
		tests := []struct {
			name   string
			path   string
			header map[string]string
			want   int64
		}{
			{"after a message id", fmt.Sprintf("?after=%d", first), nil, second},
			{"after message and event ids", fmt.Sprintf("?after=%d.1000000", first), nil, second},
			{"Last-Event-ID wins over after", "?after=0", map[string]string{"Last-Event-ID": fmt.Sprintf("%d.0", first)}, second},
			{"from the start", "?after=0", nil, q2[0].ID},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				h := bearer("bob")
				for k, v := range tc.header {
					h[k] = v
				}
				status, _, events := openStream(t, stream+tc.path, h)
				if status != http.StatusOK {
					t.Fatalf("%d", status)
				}
				m := next(t, events, "message")
				if got := item(t, m).ID; got != tc.want {
					t.Fatalf("first message %d, want %d", got, tc.want)
				}
				if !strings.HasPrefix(m.id, fmt.Sprint(tc.want)+".") {
					t.Fatalf("SSE id %q: want <message id>.<event id>", m.id)
				}
			})
			waitSlots()
		}
	})
}
