package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
	"github.com/batonhq/baton/channels/webchat"
	"github.com/batonhq/baton/web"
)

// TestMetricsUnderMixedTraffic: concurrent web chat posts, webhooks and
// health checks on keep-alive connections reuse fasthttp's request buffers
// over and over; the method label of every recorded series must still be
// the method of a real request, and /metrics must keep answering.
func TestMetricsUnderMixedTraffic(t *testing.T) {
	st := openStore(t)
	bot := baton.Bot{ID: "shop", Name: "Shop", Languages: []string{"en"}}
	ing := &channels.Ingester{
		Store:  st,
		Bots:   func(id string) (baton.Bot, bool) { return bot, id == bot.ID },
		Logger: slog.New(slog.DiscardHandler),
	}
	chat := &webchat.Handler{
		Sites:    map[string]webchat.Site{bot.ID: {}},
		Ingester: ing, Store: st, Logger: slog.New(slog.DiscardHandler),
	}
	rec := &recorder{resp: &baton.WebhookResponse{Status: 200}}
	reg := prometheus.NewRegistry()
	base, _ := serve(t, web.Config{
		Store: st, Registry: reg, WebChat: chat, Bots: []baton.Bot{bot},
		Webhooks: map[string]baton.WebhookHandler{"whatsapp": rec, "twilio": rec},
	})

	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	send := func(method, path string, body []byte) error {
		req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*4)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				post, _ := json.Marshal(map[string]any{
					"visitor_id": fmt.Sprintf("visitor-%04d-%08d", w, i), "client_message_id": fmt.Sprintf("msg-%04d-%04d", w, i),
					"text": "Where is my order?",
				})
				for _, r := range []struct {
					method, path string
					body         []byte
				}{
					{"POST", "/chat/shop/messages", post},
					{"POST", "/webhooks/whatsapp/shop", []byte(`{"object":"whatsapp_business_account"}`)},
					{"GET", "/healthz", nil},
					{"GET", "/readyz", nil},
					{"PUT", "/webhooks/twilio/shop", []byte("x")},
					{"DELETE", "/healthz", nil},
				} {
					if err := send(r.method, r.path, r.body); err != nil {
						errs <- err
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	status, _, body := do(t, "GET", base+"/metrics", nil, nil)
	if status != 200 {
		t.Fatalf("/metrics answered %d after mixed traffic: %.300s", status, body)
	}
	labels := regexp.MustCompile(`baton_http_request[a-z_]*\{method="([^"]*)"`).FindAllSubmatch(body, -1)
	if len(labels) == 0 {
		t.Fatalf("no HTTP series in /metrics:\n%s", body)
	}
	real := map[string]bool{"GET": true, "POST": true, "PUT": true, "DELETE": true}
	for _, m := range labels {
		if !real[string(m[1])] {
			t.Errorf("series with method label %q", m[1])
		}
	}
	for _, want := range []string{
		fmt.Sprintf(`baton_http_requests_total{method="POST",route="/chat/:bot/messages",status="200"} %d`, workers*rounds),
		fmt.Sprintf(`baton_http_requests_total{method="GET",route="/healthz",status="200"} %d`, workers*rounds),
		// A method a route does not take is counted apart from the route.
		fmt.Sprintf(`baton_http_requests_total{method="DELETE",route="unmatched",status="405"} %d`, workers*rounds),
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
