package bots

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/batonhq/baton"
)

func mustTemplate(t *testing.T, name, text string) *template.Template {
	t.Helper()
	tm, err := ParseTemplate(name, text)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestSlotExtract(t *testing.T) {
	order := Slot{Name: "order_id", Entity: "order_number", Pattern: regexp.MustCompile(`^(?:SS-)?\d{5}$`)}
	email := Slot{Name: "email", Entity: "email"}
	free := Slot{Name: "note"}
	tests := []struct {
		name     string
		slot     Slot
		text     string
		entities []baton.Entity
		want     string
		ok       bool
	}{
		{"entity", order, "where is order SS-12345", []baton.Entity{{Type: "order_number", Value: "SS-12345"}}, "SS-12345", true},
		{"bare value", order, "12345", nil, "12345", true},
		{"a word of the message", order, "it is 12345, thanks", nil, "12345", true},
		{"entity that does not validate falls back to the words", order, "order 99 or 12345", []baton.Entity{{Type: "order_number", Value: "99"}}, "12345", true},
		{"wrong value", order, "my order is ABC", nil, "", false},
		{"entity without pattern", email, "write to a@b.example", []baton.Entity{{Type: "email", Value: "a@b.example"}}, "a@b.example", true},
		{"entity slot without the entity", email, "I don't have one", nil, "", false},
		{"free text", free, "  leave it at the door ", nil, "leave it at the door", true},
		{"empty", free, "   ", nil, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.slot.Extract(tc.text, tc.entities)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("Extract = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// orderAPI is a small order service: GET /orders/{id} and POST /notes,
// recording what it received.
type orderAPI struct {
	mu    sync.Mutex
	paths []string
	auth  []string
	body  []string
	delay time.Duration
}

func (o *orderAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	o.mu.Lock()
	o.paths = append(o.paths, r.URL.EscapedPath())
	o.auth = append(o.auth, r.Header.Get("Authorization"))
	o.body = append(o.body, string(b))
	delay := o.delay
	o.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case r.URL.Path == "/orders/SS-12345":
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"status": "shipped", "eta": "2026-12-08"})
	case r.URL.Path == "/orders/broken":
		w.WriteHeader(http.StatusInternalServerError)
	case r.URL.Path == "/orders/notjson":
		w.Write([]byte("<html>"))
	case r.URL.Path == "/notes" && r.Method == http.MethodPost:
		w.Write([]byte(`{"ok":true}`))
	default:
		http.NotFound(w, r)
	}
}

func TestActionRun(t *testing.T) {
	api := &orderAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	status := &Action{
		Name:    "order_status",
		Method:  http.MethodGet,
		URL:     mustTemplate(t, "url", srv.URL+"/orders/{{.slots.order_id}}"),
		Headers: map[string]string{"Authorization": "Bearer s3cret"},
		Reply: map[string]*template.Template{
			"en": mustTemplate(t, "en", "Order {{.slots.order_id}} is {{.result.status}}, arriving {{.result.eta}}."),
			"tr": mustTemplate(t, "tr", "{{.slots.order_id}} numaralı sipariş: {{.result.status}}."),
		},
		NotFound: map[string]*template.Template{"en": mustTemplate(t, "nf", "I couldn't find order {{.slots.order_id}}.")},
	}
	r := &ActionRunner{}
	ctx := context.Background()
	tests := []struct {
		name    string
		order   string
		lang    string
		want    string
		wantErr string
	}{
		{"english", "SS-12345", "en", "Order SS-12345 is shipped, arriving 2026-12-08.", ""},
		{"turkish", "SS-12345", "tr", "SS-12345 numaralı sipariş: shipped.", ""},
		{"a language without a reply takes the first", "SS-12345", "ru", "Order SS-12345 is shipped, arriving 2026-12-08.", ""},
		{"not found has its own reply", "SS-99999", "en", "I couldn't find order SS-99999.", ""},
		{"server error fails", "broken", "en", "", "HTTP 500"},
		{"an answer that is not JSON fails", "notjson", "en", "", "not JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := r.Run(ctx, status, map[string]string{"order_id": tc.order}, tc.lang)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), tc.order) {
					t.Errorf("error text carries the slot value: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Reply != tc.want {
				t.Fatalf("reply %q, want %q", res.Reply, tc.want)
			}
		})
	}
	t.Run("slot values are escaped in the path", func(t *testing.T) {
		_, err := r.Run(ctx, status, map[string]string{"order_id": "../admin?x=1"}, "en")
		if err != nil {
			t.Fatal(err) // a 404 with its reply
		}
		api.mu.Lock()
		last := api.paths[len(api.paths)-1]
		api.mu.Unlock()
		if last != "/orders/..%2Fadmin%3Fx=1" {
			t.Fatalf("path %q: the slot value was not escaped", last)
		}
	})
	t.Run("headers from configuration", func(t *testing.T) {
		api.mu.Lock()
		defer api.mu.Unlock()
		if api.auth[0] != "Bearer s3cret" {
			t.Fatalf("Authorization %q", api.auth[0])
		}
	})
	t.Run("JSON body with escaped values", func(t *testing.T) {
		note := &Action{Name: "note", Method: http.MethodPost, URL: mustTemplate(t, "u", srv.URL+"/notes"),
			Body:  mustTemplate(t, "b", `{"note": {{.slots.note}}}`),
			Reply: map[string]*template.Template{"en": mustTemplate(t, "r", "Noted.")}}
		if _, err := r.Run(ctx, note, map[string]string{"note": `say "hi"`}, "en"); err != nil {
			t.Fatal(err)
		}
		api.mu.Lock()
		body := api.body[len(api.body)-1]
		api.mu.Unlock()
		var got map[string]string
		if err := json.Unmarshal([]byte(body), &got); err != nil || got["note"] != `say "hi"` {
			t.Fatalf("body %q (%v)", body, err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		api.mu.Lock()
		api.delay = time.Second
		api.mu.Unlock()
		defer func() { api.mu.Lock(); api.delay = 0; api.mu.Unlock() }()
		slow := *status
		slow.Timeout = 50 * time.Millisecond
		start := time.Now()
		_, err := r.Run(ctx, &slow, map[string]string{"order_id": "SS-12345"}, "en")
		if err == nil || !strings.Contains(err.Error(), "no answer within") || baton.ErrorCode(err) != baton.EUNAVAILABLE {
			t.Fatalf("error %v, want a timeout", err)
		}
		if time.Since(start) > 900*time.Millisecond {
			t.Fatal("the timeout did not cut the call short")
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		ln := httptest.NewServer(http.NotFoundHandler())
		addr := ln.URL
		ln.Close()
		gone := *status
		gone.URL = mustTemplate(t, "u", addr+"/orders/{{.slots.order_id}}")
		_, err := r.Run(ctx, &gone, map[string]string{"order_id": "SS-12345"}, "en")
		if err == nil || baton.ErrorCode(err) != baton.EUNAVAILABLE || strings.Contains(err.Error(), "SS-12345") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("a reply that needs a missing field fails", func(t *testing.T) {
		bad := *status
		bad.Reply = map[string]*template.Template{"en": mustTemplate(t, "r", "{{.result.nothere}}")}
		if _, err := r.Run(ctx, &bad, map[string]string{"order_id": "SS-12345"}, "en"); err == nil {
			t.Fatal("a reply template over a missing field rendered")
		}
	})
}
