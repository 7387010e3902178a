package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"
)

// TestMetricsUnderMixedTraffic: concurrent web chat posts, webhooks and
// health checks on keep-alive connections reuse fasthttp's request buffers
// over and over; the method label of every recorded series must still be
// the method of a real request, and /metrics must keep answering.
func TestMetricsUnderMixedTraffic(t *testing.T) {
	e := newEnv(t, stores()[0], envOptions{realClock: true})
	base := e.serve()

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
					{"POST", "/chat/" + botID + "/messages", post},
					{"POST", "/webhooks/whatsapp/" + botID, []byte(`{"object":"whatsapp_business_account"}`)},
					{"GET", "/healthz", nil},
					{"GET", "/readyz", nil},
					{"PUT", "/webhooks/twilio/" + botID, []byte("x")},
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

	resp, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if status := resp.StatusCode; status != 200 {
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
