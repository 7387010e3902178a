package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/channels"
	"github.com/batonhq/baton/config"
)

const benchSecret = "bench_app_secret"

// BenchmarkWebhook measures verified WhatsApp webhooks through the app's
// server (its routes, metrics and limits) to a committed message and turn
// job, answered 200: throughput and latency percentiles, with a bare fiber
// hello-world measured the same way (same client, same concurrency, same
// machine) as the ceiling. The job workers are not started: the figure is
// the webhook path's.
//
//	go test -run '^$' -bench Webhook ./app/
//
// Postgres runs when BATON_TEST_DATABASE_URL is set.
func BenchmarkWebhook(b *testing.B) {
	b.Run("fiber-hello", func(b *testing.B) {
		f := fiber.New(fiber.Config{DisableStartupMessage: true})
		f.Post("/webhooks/:provider/:bot", func(c *fiber.Ctx) error { return c.SendString("ok") })
		ln := listen(b)
		go func() { _ = f.Listener(ln) }()
		b.Cleanup(func() { _ = f.ShutdownWithTimeout(5 * time.Second) })
		load(b, ln.Addr().String(), "/webhooks/whatsapp/acme", signedBodies(b.N))
	})
	for _, sc := range stores() {
		b.Run(sc.Name, func(b *testing.B) { benchStore(b, sc.Open(b, nil)) })
	}
}

func benchStore(b *testing.B, st baton.Store) {
	cfg := &config.Config{
		Server: config.Server{Addr: "127.0.0.1:0", Limits: offLimits()},
		Bots: []config.Bot{{ID: "acme", Languages: []string{"en"}, Channels: config.Channels{
			WhatsApp: &config.WhatsApp{PhoneNumberID: phoneNumberID, AccessToken: "wa-token", AppSecret: benchSecret, VerifyToken: "v"}}}},
	}
	if problems := cfg.Validate(); len(problems) > 0 {
		b.Fatalf("bench configuration: %v", problems)
	}
	a, err := app.New(context.Background(), cfg, app.Options{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	ln := listen(b)
	go func() { _ = a.Serve(ln) }()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	})
	addr := ln.Addr().String()
	bodies := signedBodies(b.N)
	load(b, addr, "/webhooks/whatsapp/acme", bodies)
	b.StopTimer()
	// Everything answered 200 must be durable: one turn job per webhook.
	jobs, err := st.ListJobs(context.Background(), baton.JobFilter{Kind: baton.JobTurn})
	if err != nil {
		b.Fatal(err)
	}
	if len(jobs) != b.N {
		b.Fatalf("%d turn jobs after %d webhooks", len(jobs), b.N)
	}
}

type signedBody struct {
	raw []byte
	sig string
}

// signedBodies builds n distinct webhooks from 500 customers, so that the
// load has both new and returning customers, as real traffic does.
func signedBodies(n int) []signedBody {
	run := make([]byte, 4)
	_, _ = rand.Read(run)
	out := make([]signedBody, n)
	for i := range out {
		from := fmt.Sprintf("1650555%04d", i%500)
		raw := []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Customer %d"},"wa_id":%q}],"messages":[{"from":%q,"id":"wamid.bench.%s.%d","timestamp":"%d","type":"text","text":{"body":"Where is my order %d?"}}]}}]}]}`,
			i%500, from, from, hex.EncodeToString(run), i, time.Now().Unix(), i))
		out[i] = signedBody{raw: raw, sig: "sha256=" + channels.HMACSHA256Hex([]byte(benchSecret), raw)}
	}
	return out
}

// load sends every body once from BATON_BENCH_CONNS keep-alive connections
// [16] and reports webhooks/s and latency percentiles.
func load(b *testing.B, addr, path string, bodies []signedBody) {
	conns := 16
	if n, err := strconv.Atoi(os.Getenv("BATON_BENCH_CONNS")); err == nil && n > 0 {
		conns = n
	}
	client := &fasthttp.HostClient{Addr: addr, MaxConns: conns}
	var next atomic.Int64
	lat := make([][]time.Duration, conns)
	var failed atomic.Int64
	var firstErr sync.Once
	var errMsg string
	var wg sync.WaitGroup
	b.ResetTimer()
	startAt := time.Now()
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				req.Reset()
				req.SetRequestURI("http://" + addr + path)
				req.Header.SetMethod(fasthttp.MethodPost)
				req.Header.SetContentType("application/json")
				req.Header.Set(channels.MetaSignatureHeader, bodies[i].sig)
				req.SetBodyRaw(bodies[i].raw)
				t0 := time.Now()
				err := client.DoTimeout(req, resp, 30*time.Second)
				lat[w] = append(lat[w], time.Since(t0))
				if err != nil || resp.StatusCode() != 200 {
					failed.Add(1)
					firstErr.Do(func() { errMsg = fmt.Sprintf("status %d err %v body %s", resp.StatusCode(), err, resp.Body()) })
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(startAt)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d webhooks failed; first: %s", n, len(bodies), errMsg)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(bodies))/elapsed.Seconds(), "webhooks/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(conns), "conns")
	b.ReportMetric(0, "ns/op") // per-op time is meaningless under concurrency; the rate is the figure
}

func listen(b *testing.B) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	return ln
}
