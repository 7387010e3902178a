// Package channeltest has the test doubles for the edges Baton cannot reach
// in tests: an HTTP server that plays a provider API, records every request
// and answers from a script; and a clock that tests move by hand.
package channeltest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Request is one request the provider fake received.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// Reply is one scripted answer.
type Reply struct {
	Status int
	Header map[string]string
	Body   string
	Delay  time.Duration
}

// Provider is a fake provider API on loopback.
type Provider struct {
	URL string

	mu       sync.Mutex
	reqs     []Request
	script   []Reply
	fallback func(r Request) Reply
}

// NewProvider starts a fake that answers with script in order and then with
// fallback (called with the request) for every request after.
func NewProvider(t testing.TB, fallback func(r Request) Reply, script ...Reply) *Provider {
	p := &Provider{script: script, fallback: fallback}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *Provider) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	p.mu.Lock()
	p.reqs = append(p.reqs, req)
	var rep Reply
	if len(p.script) > 0 {
		rep, p.script = p.script[0], p.script[1:]
	} else if p.fallback != nil {
		rep = p.fallback(req)
	} else {
		rep = Reply{Status: http.StatusNotImplemented}
	}
	p.mu.Unlock()
	if rep.Delay > 0 {
		select {
		case <-time.After(rep.Delay):
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	if rep.Status == 0 {
		rep.Status = http.StatusOK
	}
	w.WriteHeader(rep.Status)
	_, _ = io.WriteString(w, rep.Body)
}

// Requests returns what the fake received so far.
func (p *Provider) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.reqs...)
}
