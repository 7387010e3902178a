package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/postgres"
	"github.com/batonhq/baton/store/postgres/pgtest"
)

// TestTwoServeProcesses runs two `baton serve` processes of the real binary
// over one PostgreSQL and has agents claim, resolve and change status
// through both at once, as two replicas behind a load balancer would see
// it. A sampler reads every agent's load all along: nobody ever carries
// more than their capacity, and no conversation is ever given to a second
// agent while a first owns it.
func TestTwoServeProcesses(t *testing.T) {
	url := pgtest.Schema(t)
	const token = "two-servers-admin-token"
	env := cleanEnv("BATON_DATABASE_URL="+url, "BATON_DATA_DIR="+t.TempDir(), "TEST_ADMIN_TOKEN="+token)
	cfg := "testdata/two_servers.yaml"
	a := start(t, ".", env, "serve", "--config", cfg, "--addr", "127.0.0.1:0")
	b := start(t, ".", env, "serve", "--config", cfg, "--addr", "127.0.0.1:0")
	servers := []string{a.url, b.url}
	call := func(base, method, path, agent string, body any) int {
		var rd io.Reader
		if body != nil {
			raw, _ := json.Marshal(body)
			rd = bytes.NewReader(raw)
		}
		req, err := http.NewRequest(method, base+path, rd)
		if err != nil {
			t.Error(err)
			return 0
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		if agent != "" {
			req.Header.Set("X-Baton-Agent", agent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	// Customers who ask for a person, half through each server.
	const customers = 16
	for i := range customers {
		msg := map[string]any{"visitor_id": fmt.Sprintf("visitor-two-servers-%02d", i), "client_message_id": fmt.Sprintf("message-%02d", i),
			"text": "I want to talk to a person please"}
		raw, _ := json.Marshal(msg)
		resp, err := http.Post(servers[i%2]+"/chat/shop/messages", "application/json", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
			t.Fatalf("web chat post: %d", resp.StatusCode)
		}
	}
	st, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		queued, err := st.ListConversations(ctx, baton.ConversationFilter{States: []baton.State{baton.StateQueued}})
		if err != nil {
			t.Fatal(err)
		}
		if len(queued) == customers {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d conversations escalated in 30 s", len(queued), customers)
		}
		time.Sleep(50 * time.Millisecond)
	}

	agents := []string{"ann", "bob", "cy"}
	capacity := map[string]int{"ann": 2, "bob": 2, "cy": 3}
	var (
		stop       atomic.Bool
		violations []string
		mu         sync.Mutex
		samples    atomic.Int64
	)
	var sampler, workers sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		for !stop.Load() {
			loads, err := st.AgentLoads(ctx, "shop")
			if err != nil {
				continue
			}
			samples.Add(1)
			for _, l := range loads {
				if n := l.Open[baton.ChannelWebChat]; n > capacity[l.ID] {
					mu.Lock()
					violations = append(violations, fmt.Sprintf("%s carries %d, capacity %d", l.ID, n, capacity[l.ID]))
					mu.Unlock()
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var claims, refused atomic.Int64
	for w := range 6 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 11))
			for i := 0; i < 60 && !t.Failed(); i++ {
				base := servers[rng.IntN(2)]
				agent := agents[rng.IntN(len(agents))]
				id := int64(1 + rng.IntN(customers))
				switch r := rng.IntN(10); {
				case r < 5:
					switch call(base, "POST", fmt.Sprintf("/api/v1/conversations/%d/claim", id), agent, nil) {
					case http.StatusOK:
						claims.Add(1)
					case http.StatusConflict, http.StatusBadRequest:
						refused.Add(1)
					}
				case r < 7:
					// Resolve, then the customer writes again: a reopen
					// to the same agent or the queue keeps it in play.
					if call(base, "POST", fmt.Sprintf("/api/v1/conversations/%d/resolve", id), agent, nil) == http.StatusOK {
						raw, _ := json.Marshal(map[string]any{"visitor_id": fmt.Sprintf("visitor-two-servers-%02d", id-1),
							"client_message_id": fmt.Sprintf("again-%d-%d-%d", w, i, id), "text": "one more thing"})
						if resp, err := http.Post(servers[rng.IntN(2)]+"/chat/shop/messages", "application/json", bytes.NewReader(raw)); err == nil {
							resp.Body.Close()
						}
					}
				default:
					status := []string{"online", "online", "away"}[rng.IntN(3)]
					call(base, "PUT", "/api/v1/agents/me/status", agent, map[string]any{"status": status})
				}
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	for _, ag := range agents {
		call(servers[0], "PUT", "/api/v1/agents/me/status", ag, map[string]any{"status": "online"})
	}
	workers.Wait()
	// The routers place what the last resolves and status changes freed.
	time.Sleep(time.Second)
	stop.Store(true)
	sampler.Wait()

	if len(violations) > 0 {
		t.Fatalf("capacity exceeded %d times over %d samples, first: %s", len(violations), samples.Load(), violations[0])
	}
	if claims.Load() == 0 || refused.Load() == 0 || samples.Load() < 10 {
		t.Fatalf("claims %d, refused %d, samples %d: the test did not exercise the race", claims.Load(), refused.Load(), samples.Load())
	}
	convs, err := st.ListConversations(ctx, baton.ConversationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range convs {
		evs, err := st.ListEvents(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		owner := ""
		for _, e := range evs {
			if e.Type != "transition" {
				continue
			}
			switch e.To {
			case baton.StateAssigned:
				if from, _ := e.Data["from_agent"].(string); owner != "" && from != owner && e.From != baton.StateSnoozed {
					t.Errorf("conversation %d: given to %v while %s owned it (event %d)", c.ID, e.Data["agent"], owner, e.ID)
				}
				if ag, ok := e.Data["agent"].(string); ok {
					owner = ag
				}
			case baton.StateSnoozed:
			default:
				owner = ""
			}
		}
	}
	t.Logf("%d claims, %d refused, %d load samples, %d conversations", claims.Load(), refused.Load(), samples.Load(), len(convs))
	a.stop(t, syscall.SIGINT)
	b.stop(t, syscall.SIGINT)
}
