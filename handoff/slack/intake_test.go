package slack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/store/storecase"
)

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// sign is Slack's v0 signature, written out from the protocol so that the
// known-answer vectors check it and it can sign fresh test requests.
func sign(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signed is a request for body signed at at with secret.
func signed(secret string, at time.Time, body []byte) *baton.WebhookRequest {
	ts := strconv.FormatInt(at.Unix(), 10)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", sign(secret, ts, body))
	return &baton.WebhookRequest{Method: http.MethodPost, Header: h, Body: body}
}

type signatureVector struct {
	Cases []struct {
		Name          string `json:"name"`
		SigningSecret string `json:"signing_secret"`
		Timestamp     string `json:"timestamp"`
		Body          string `json:"body"`
		Expected      string `json:"expected"`
	} `json:"cases"`
}

// TestSignatureVectors checks the signing scheme against Slack's published
// vectors, then the intake's window on them with a clock it controls. The
// vectors are from 2018 and slack-go's SecretsVerifier checks the window
// against the wall clock with no way to inject time, so at the vectors'
// time the HMAC is checked by sign (proved equal to Slack's scheme above);
// the production path, SecretsVerifier, must reject them as stale.
func TestSignatureVectors(t *testing.T) {
	var v signatureVector
	if err := json.Unmarshal(fixture(t, "slack_signature.json"), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) == 0 {
		t.Fatal("no vectors")
	}
	hmacOnly := func(h http.Header, body []byte, secret string) error {
		if !hmac.Equal([]byte(h.Get("X-Slack-Signature")), []byte(sign(secret, h.Get("X-Slack-Request-Timestamp"), body))) {
			return baton.Errorf(baton.EUNAUTHORIZED, "signature mismatch")
		}
		return nil
	}
	for _, c := range v.Cases {
		t.Run(c.Name, func(t *testing.T) {
			if got := sign(c.SigningSecret, c.Timestamp, []byte(c.Body)); got != c.Expected {
				t.Fatalf("sign = %s, want %s", got, c.Expected)
			}
			sec, _ := strconv.ParseInt(c.Timestamp, 10, 64)
			at := time.Unix(sec, 0)
			h := http.Header{}
			h.Set("X-Slack-Request-Timestamp", c.Timestamp)
			h.Set("X-Slack-Signature", c.Expected)
			r := &baton.WebhookRequest{Header: h, Body: []byte(c.Body)}
			clk := &baton.ManualClock{}
			in := &Intake{SigningSecret: c.SigningSecret, Clock: clk, verify: hmacOnly}
			for _, tc := range []struct {
				name string
				now  time.Time
				ok   bool
			}{
				{"at its time", at, true},
				{"4m59s later", at.Add(SignatureWindow - time.Second), true},
				{"5m01s later", at.Add(SignatureWindow + time.Second), false},
				{"5m01s before", at.Add(-SignatureWindow - time.Second), false},
			} {
				clk.Set(tc.now)
				err := in.authenticate("vector", r)
				if (err == nil) != tc.ok {
					t.Errorf("%s: authenticate = %v, want ok %v", tc.name, err, tc.ok)
				}
			}
			wrong := &Intake{SigningSecret: c.SigningSecret + "x", Clock: clk, verify: hmacOnly}
			clk.Set(at)
			if err := wrong.authenticate("vector", r); baton.ErrorCode(err) != baton.EUNAUTHORIZED {
				t.Errorf("wrong secret: %v, want unauthorized", err)
			}
			prod := &Intake{SigningSecret: c.SigningSecret, Clock: clk}
			if err := prod.authenticate("vector", r); baton.ErrorCode(err) != baton.EUNAUTHORIZED || !strings.Contains(err.Error(), "window") {
				t.Errorf("SecretsVerifier on a 2018 request: %v, want unauthorized (stale)", err)
			}
		})
	}
}

// intakeRig is an Intake on a real store with the system clock (the
// production verifier checks the wall clock).
type intakeRig struct {
	in *Intake
	st baton.Store
}

func newIntakeRig(t *testing.T, sc storecase.Case) *intakeRig {
	st := sc.Open(t, baton.SystemClock{})
	return &intakeRig{in: &Intake{SigningSecret: testSecret, Store: st, BotUserID: "U0BOTUSER"}, st: st}
}

func (r *intakeRig) jobs(t *testing.T) []*baton.Job {
	t.Helper()
	js, err := r.st.ListJobs(context.Background(), baton.JobFilter{Kind: baton.JobSlack})
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// botMessageEvent wraps the bot_message fixture in an event_callback.
func botMessageEvent(t *testing.T) []byte {
	var env map[string]any
	if err := json.Unmarshal(fixture(t, "CONSTRUCTED_event_callback_thread_reply.json"), &env); err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(fixture(t, "message_bot_message_slackgo_test.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev["channel"] = "C0ESCALATE"
	env["event"] = ev
	env["event_id"] = "Ev0BOTMESSAGE"
	b, _ := json.Marshal(env)
	return b
}

// ownMessageEvent is the thread reply fixture as written by our bot user.
func ownMessageEvent(t *testing.T) []byte {
	var env map[string]any
	if err := json.Unmarshal(fixture(t, "CONSTRUCTED_event_callback_thread_reply.json"), &env); err != nil {
		t.Fatal(err)
	}
	env["event"].(map[string]any)["user"] = "U0BOTUSER"
	env["event_id"] = "Ev0OWNMESSAGE"
	b, _ := json.Marshal(env)
	return b
}

func TestIntakeRejects(t *testing.T) {
	body := fixture(t, "CONSTRUCTED_event_callback_thread_reply.json")
	now := time.Now()
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			rig := newIntakeRig(t, sc)
			for _, tc := range []struct {
				name string
				req  *baton.WebhookRequest
				h    baton.WebhookHandler
			}{
				{"stale timestamp", signed(testSecret, now.Add(-SignatureWindow-time.Minute), body), rig.in.Events()},
				{"future timestamp", signed(testSecret, now.Add(SignatureWindow+time.Minute), body), rig.in.Events()},
				{"wrong signature", signed("another-secret", now, body), rig.in.Events()},
				{"body changed after signing", func() *baton.WebhookRequest {
					r := signed(testSecret, now, body)
					r.Body = []byte(strings.Replace(string(body), "looking into", "ignoring", 1))
					return r
				}(), rig.in.Events()},
				{"no signature", func() *baton.WebhookRequest {
					r := signed(testSecret, now, body)
					r.Header.Del("X-Slack-Signature")
					return r
				}(), rig.in.Events()},
				{"interaction wrong signature", signed("another-secret", now, fixture(t, "CONSTRUCTED_block_actions_button.form")), rig.in.Interactions()},
				{"command stale", signed(testSecret, now.Add(-time.Hour), []byte("command=%2Fbaton&text=mine")), rig.in.Commands()},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res, err := tc.h.ServeWebhook(context.Background(), tc.req)
					if baton.ErrorCode(err) != baton.EUNAUTHORIZED {
						t.Fatalf("got %+v, %v; want unauthorized", res, err)
					}
				})
			}
			if js := rig.jobs(t); len(js) != 0 {
				t.Fatalf("rejected requests enqueued %d jobs", len(js))
			}
			// Nothing was marked either: the genuine event still acts.
			if first, err := rig.st.MarkSlackEvent(context.Background(), "T0TEAM", "Ev0AGENTREPLY", time.Time{}); err != nil || !first {
				t.Fatalf("mark after rejections = %v, %v; want first", first, err)
			}
		})
	}
}

func TestIntakeEvents(t *testing.T) {
	ctx := context.Background()
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			t.Run("url_verification answered", func(t *testing.T) {
				rig := newIntakeRig(t, sc)
				res, err := rig.in.Events().ServeWebhook(ctx, signed(testSecret, time.Now(), fixture(t, "url_verification.json")))
				if err != nil || res.Status != http.StatusOK || string(res.Body) != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
					t.Fatalf("got %+v, %v", res, err)
				}
				if js := rig.jobs(t); len(js) != 0 {
					t.Fatalf("url_verification enqueued %d jobs", len(js))
				}
			})
			t.Run("event enqueued once, replay and retries ignored", func(t *testing.T) {
				rig := newIntakeRig(t, sc)
				body := fixture(t, "CONSTRUCTED_event_callback_thread_reply.json")
				for try := 0; try <= 3; try++ {
					r := signed(testSecret, time.Now(), body)
					if try > 0 {
						r.Header.Set("X-Slack-Retry-Num", strconv.Itoa(try))
						r.Header.Set("X-Slack-Retry-Reason", "http_timeout")
					}
					res, err := rig.in.Events().ServeWebhook(ctx, r)
					if err != nil || res.Status != http.StatusOK {
						t.Fatalf("try %d: %+v, %v", try, res, err)
					}
				}
				js := rig.jobs(t)
				if len(js) != 1 {
					t.Fatalf("%d jobs, want 1", len(js))
				}
				var p payload
				if err := json.Unmarshal(js[0].Payload, &p); err != nil || p.Op != opEvent || p.EventID != "Ev0AGENTREPLY" || p.TeamID != "T0TEAM" {
					t.Fatalf("payload %s (%v)", js[0].Payload, err)
				}
				var env envelope
				if err := json.Unmarshal(p.Body, &env); err != nil || env.Event.User != "U0AGENT01" {
					t.Fatalf("job body %s (%v)", p.Body, err)
				}
			})
			t.Run("a new event clears marks older than a day", func(t *testing.T) {
				rig := newIntakeRig(t, sc)
				if _, err := rig.st.MarkSlackEvent(ctx, "T0TEAM", "Ev0OLD", time.Now().Add(-25*time.Hour)); err != nil {
					t.Fatal(err)
				}
				if _, err := rig.st.MarkSlackEvent(ctx, "T0TEAM", "Ev0RECENT", time.Now().Add(-time.Hour)); err != nil {
					t.Fatal(err)
				}
				res, err := rig.in.Events().ServeWebhook(ctx, signed(testSecret, time.Now(), fixture(t, "CONSTRUCTED_event_callback_thread_reply.json")))
				if err != nil || res.Status != http.StatusOK {
					t.Fatalf("%+v, %v", res, err)
				}
				for id, wantFirst := range map[string]bool{"Ev0OLD": true, "Ev0RECENT": false} {
					if first, err := rig.st.MarkSlackEvent(ctx, "T0TEAM", id, time.Now()); err != nil || first != wantFirst {
						t.Errorf("%s marked again: first %v (%v), want %v", id, first, err, wantFirst)
					}
				}
			})
			for _, tc := range []struct {
				name string
				body func(*testing.T) []byte
			}{
				{"bot message ignored", botMessageEvent},
				{"own message ignored", ownMessageEvent},
			} {
				t.Run(tc.name, func(t *testing.T) {
					rig := newIntakeRig(t, sc)
					res, err := rig.in.Events().ServeWebhook(ctx, signed(testSecret, time.Now(), tc.body(t)))
					if err != nil || res.Status != http.StatusOK {
						t.Fatalf("got %+v, %v; want 200", res, err)
					}
					if js := rig.jobs(t); len(js) != 0 {
						t.Fatalf("ignored message enqueued %d jobs", len(js))
					}
				})
			}
			t.Run("event without event_id", func(t *testing.T) {
				rig := newIntakeRig(t, sc)
				body := []byte(`{"type":"event_callback","team_id":"T0TEAM","event":{"type":"message","user":"U1","text":"hi"}}`)
				if _, err := rig.in.Events().ServeWebhook(ctx, signed(testSecret, time.Now(), body)); baton.ErrorCode(err) != baton.EINVALID {
					t.Fatalf("got %v, want invalid", err)
				}
			})
		})
	}
}

func TestIntakeInteractionsAndCommands(t *testing.T) {
	ctx := context.Background()
	for _, sc := range stores() {
		t.Run(sc.Name, func(t *testing.T) {
			rig := newIntakeRig(t, sc)
			form := fixture(t, "CONSTRUCTED_block_actions_button.form")
			for range 2 {
				res, err := rig.in.Interactions().ServeWebhook(ctx, signed(testSecret, time.Now(), form))
				if err != nil || res.Status != http.StatusOK {
					t.Fatalf("interaction: %+v, %v", res, err)
				}
			}
			js := rig.jobs(t)
			if len(js) != 1 {
				t.Fatalf("%d jobs for one interaction delivered twice, want 1", len(js))
			}
			var p payload
			if err := json.Unmarshal(js[0].Payload, &p); err != nil || p.Op != opInteraction || p.TeamID != "T0TEAM" || !strings.Contains(string(p.Body), "claim_conversation") {
				t.Fatalf("payload %s (%v)", js[0].Payload, err)
			}
			if _, err := rig.in.Interactions().ServeWebhook(ctx, signed(testSecret, time.Now(), []byte("nothing=here"))); baton.ErrorCode(err) != baton.EINVALID {
				t.Fatalf("form without payload: %v, want invalid", err)
			}

			res, err := rig.in.Commands().ServeWebhook(ctx, signed(testSecret, time.Now(), []byte("command=%2Fbaton&text=mine&user_id=U0AGENT01")))
			if err != nil || res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"response_type":"ephemeral"`) || !strings.Contains(string(res.Body), "/baton") {
				t.Fatalf("command: %+v, %v", res, err)
			}
		})
	}
}
