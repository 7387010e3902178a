package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton/channels"
)

// graphFake plays the WhatsApp Cloud API: sends from the first number fail,
// first transiently and then for good, with error text that echoes the
// customer's number and an e-mail address, the way Meta's sometimes does;
// sends from any other number succeed.
type graphFake struct {
	failing string // the phone_number_id whose sends fail

	mu    sync.Mutex
	paths []string
}

func (g *graphFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.paths = append(g.paths, r.URL.Path)
	failures := 0
	for _, p := range g.paths {
		if strings.Contains(p, "/"+g.failing+"/") {
			failures++
		}
	}
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case !strings.Contains(r.URL.Path, "/"+g.failing+"/"):
		fmt.Fprint(w, `{"messaging_product":"whatsapp","messages":[{"id":"wamid.sent"}]}`)
	case failures == 1:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":{"message":"Service unavailable for +1 650-555-1234 (jane.doe@example.com)","code":131000}}`)
	default:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":{"message":"Recipient 16505551234 is not a valid WhatsApp user","code":131026,"error_data":{"details":"contact jane.doe@example.com"}}}`)
	}
}

func (g *graphFake) sent(path string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.paths {
		if p == path {
			return true
		}
	}
	return false
}

// TestServedWebhooksAreRoutedCountedAndRedacted runs the real binary with
// two bots on one Meta app: a message for the second bot's number at the
// first bot's URL is answered from the second number; one for a number no
// bot has is acknowledged, stored nowhere and counted in /metrics; and the
// Graph API's error text, which echoes the customer's number and an e-mail
// address, reaches neither the log (pool, outbox) nor the stored reason
// unredacted.
func TestServedWebhooksAreRoutedCountedAndRedacted(t *testing.T) {
	const (
		secret    = "shared_app_secret"
		admin     = "0123456789abcdef"
		numberOne = "111111111111111"
		numberTwo = "222222222222222"
	)
	graph := &graphFake{failing: numberOne}
	srv := httptest.NewServer(graph)
	defer srv.Close()
	dir := t.TempDir()
	bot := func(id, number string) string {
		return `
  - id: ` + id + `
    languages: [en]
    channels:
      whatsapp:
        phone_number_id: "` + number + `"
        access_token: token-` + id + `
        app_secret: ` + secret + `
        verify_token: verify
        api_base: ` + srv.URL + `/v23.0`
	}
	cfg := "server:\n  admin_token: " + admin + "\nbots:" + bot("one", numberOne) + bot("two", numberTwo) + "\n"
	path := filepath.Join(dir, "baton.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, dir, cleanEnv("BATON_DATA_DIR="+filepath.Join(dir, "data")),
		"serve", "--config", path, "--addr", "127.0.0.1:0", "--log-format", "json")

	post := func(number, wamid string) {
		t.Helper()
		body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":"` + number + `"},"contacts":[{"profile":{"name":"Jane"},"wa_id":"16505551234"}],"messages":[{"from":"16505551234","id":"` + wamid + `","timestamp":"` + strconv.FormatInt(time.Now().Unix(), 10) + `","type":"text","text":{"body":"hello"}}]}}]}]}`)
		req, _ := http.NewRequest(http.MethodPost, p.url+"/webhooks/whatsapp/one", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(channels.MetaSignatureHeader, "sha256="+channels.HMACSHA256Hex([]byte(secret), body))
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("webhook for %s: %d %s", number, resp.StatusCode, b)
		}
	}
	post("999999999999999", "wamid.foreign")
	post(numberTwo, "wamid.two")
	post(numberOne, "wamid.one")

	auth := map[string]string{"Authorization": "Bearer " + admin}
	// failedReason waits for bot one's answer to fail for good and returns
	// its stored reason.
	failedReason := func() string {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			_, list := get(t, p.url+"/api/v1/conversations?bot=one", auth)
			var convs struct {
				Conversations []struct{ ID int64 } `json:"conversations"`
			}
			_ = json.Unmarshal([]byte(list), &convs)
			if len(convs.Conversations) == 1 {
				_, one := get(t, fmt.Sprintf("%s/api/v1/conversations/%d", p.url, convs.Conversations[0].ID), auth)
				var conv struct {
					Messages []struct {
						Direction    string `json:"direction"`
						Status       string `json:"status"`
						StatusReason string `json:"status_reason"`
					} `json:"messages"`
				}
				_ = json.Unmarshal([]byte(one), &conv)
				for _, m := range conv.Messages {
					if m.Status == "failed" {
						return m.StatusReason
					}
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("bot one's answer never failed\n%s", p.out)
		return ""
	}
	reason := failedReason()
	for deadline := time.Now().Add(30 * time.Second); !graph.sent("/v23.0/" + numberTwo + "/messages"); {
		if time.Now().After(deadline) {
			t.Fatalf("bot two never answered from its number; reason of one: %s\n%s", reason, p.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, conversations := get(t, p.url+"/api/v1/conversations", auth)
	_, metrics := get(t, p.url+"/metrics", nil)
	logs := p.out.String()

	tests := []struct {
		name string
		ok   bool
	}{
		{"the foreign number's message is stored nowhere", strings.Count(conversations, `"id":`) == 2},
		{"the foreign number is counted", strings.Contains(metrics, `baton_webhook_foreign_recipients_total{provider="whatsapp"} 1`)},
		{"the foreign number is warned about", strings.Contains(logs, "no bot is configured with") && !strings.Contains(logs, "999999999999999")},
		{"the retry is logged, redacted", strings.Contains(logs, "job failed, will retry") && strings.Contains(logs, "[EMAIL]")},
		{"no log line has the number or the address", !strings.Contains(logs, "16505551234") && !strings.Contains(logs, "650-555-1234") && !strings.Contains(logs, "jane.doe@")},
		{"the stored reason is redacted", strings.Contains(reason, "131026") && strings.Contains(reason, "[EMAIL]") && strings.Contains(reason, "[NUMBER]") &&
			!strings.Contains(reason, "16505551234") && !strings.Contains(reason, "jane.doe@")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Errorf("not so\nreason: %s\nconversations: %s\nlogs:\n%s", reason, conversations, logs)
			}
		})
	}
}
