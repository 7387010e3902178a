package channels_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bots"
	"github.com/batonhq/baton/channels"
	"github.com/batonhq/baton/channels/channeltest"
	"github.com/batonhq/baton/channels/messenger"
	"github.com/batonhq/baton/channels/twilio"
	"github.com/batonhq/baton/channels/whatsapp"
	"github.com/batonhq/baton/jobs"
	"github.com/batonhq/baton/store/postgres"
	"github.com/batonhq/baton/store/postgres/pgtest"
	"github.com/batonhq/baton/store/sqlite"
)

// Secrets of the test bot; the Meta one is the known-answer vector's.
const (
	botID       = "acme"
	metaSecret  = "test_app_secret"
	verifyToken = "verify-me"
	twilioToken = "12345"
	twilioSID   = "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
	publicBase  = "https://baton.example.com"
	ackText     = "Thanks, we got your message."
)

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type storeCase struct {
	name string
	open func(t *testing.T, clock baton.Clock) baton.Store
}

// stores is every real store the tests run against: SQLite in a temp dir
// always; PostgreSQL, in a schema of its own per test, when
// BATON_TEST_DATABASE_URL is set.
func stores() []storeCase {
	out := []storeCase{{"sqlite", func(t *testing.T, clock baton.Clock) baton.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "baton.db"), sqlite.Options{Clock: clock})
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}}}
	if pgtest.Available() {
		out = append(out, storeCase{"postgres", openPostgres})
	}
	return out
}

// openPostgres gives the test a schema of its own, so that its job workers
// never claim another test's jobs in the shared database.
func openPostgres(t *testing.T, clock baton.Clock) baton.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.Schema(t), postgres.Options{MaxConns: 8, Clock: clock})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// env is the whole channel path wired as the server wires it, with fakes
// only at the providers' APIs.
type env struct {
	t        *testing.T
	st       baton.Store
	clock    *channeltest.Clock
	graph    *channeltest.Provider // WhatsApp and Messenger Graph API
	twilio   *channeltest.Provider
	ing      *channels.Ingester
	handlers map[string]baton.WebhookHandler
	wa       *whatsapp.Sender
	deliver  *channels.Deliverer
	turn     *bots.Acknowledger
	bot      baton.Bot
	logs     *lockedBuffer // every log line of the handlers, the outbox and the pool

	mu      sync.Mutex
	foreign map[string]int // baton_webhook_foreign_recipients_total by provider
}

type envOptions struct {
	graphScript  []channeltest.Reply
	twilioScript []channeltest.Reply
	template     *whatsapp.WindowTemplate
	reopenAfter  time.Duration
	others       []otherBot // more bots on the same server
}

// otherBot is another configured bot with its own number, Page and SMS
// sender; secrets left empty are the test bot's (one Meta app, one Twilio
// account for both).
type otherBot struct {
	id, metaSecret, phoneNumberID, pageID string
	twilioSID, twilioToken, twilioFrom    string
}

// testRedactor stands in for the PII redactor (nlu/pii, which channels must
// not import): it replaces e-mail addresses, the one kind of personal data
// the provider fakes here echo that ProviderText's own digit rule does not
// cover.
var testRedactor = baton.RedactFunc(func(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if strings.Contains(w, "@") {
			words[i] = "[EMAIL]"
		}
	}
	return strings.Join(words, " ")
})

func graphOK(r channeltest.Request) channeltest.Reply {
	if strings.Contains(r.Path, "/PAGE") {
		return channeltest.Reply{Body: `{"recipient_id":"PSID1","message_id":"m_` + randID() + `"}`}
	}
	return channeltest.Reply{Body: `{"messaging_product":"whatsapp","messages":[{"id":"wamid.out` + randID() + `"}]}`}
}

func twilioOK(channeltest.Request) channeltest.Reply {
	return channeltest.Reply{Status: 201, Body: `{"sid":"SM` + randID() + `","status":"queued"}`}
}

func randID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newEnv opens a fresh store from sc, on the env's clock, and wires the
// channel path over it.
func newEnv(t *testing.T, sc storeCase, o envOptions) *env {
	clock := channeltest.NewClock(start)
	st := sc.open(t, clock)
	e := &env{t: t, st: st, clock: clock}
	e.graph = channeltest.NewProvider(t, graphOK, o.graphScript...)
	e.twilio = channeltest.NewProvider(t, twilioOK, o.twilioScript...)
	e.bot = baton.Bot{ID: botID, Name: "Acme", Languages: []string{"en"}, ReopenAfter: o.reopenAfter}
	e.logs = &lockedBuffer{}
	e.foreign = map[string]int{}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	botsByID := map[string]baton.Bot{botID: e.bot}
	e.ing = &channels.Ingester{
		Store: st,
		Bots: func(id string) (baton.Bot, bool) {
			b, ok := botsByID[id]
			return b, ok
		},
		Clock:  e.clock,
		Logger: log,
	}
	waAccts := map[string]whatsapp.Account{botID: {AppSecret: metaSecret, VerifyToken: verifyToken, AccessToken: "wa-token", PhoneNumberID: "106540352242922", Template: o.template}}
	pages := map[string]messenger.Page{botID: {AppSecret: metaSecret, VerifyToken: verifyToken, AccessToken: "page-token", PageID: "PAGE1"}}
	sms := map[string]twilio.Account{botID: {AccountSID: twilioSID, AuthToken: twilioToken, From: "+14155550199", StatusCallback: publicBase + "/webhooks/twilio/" + botID}}
	for _, b := range o.others {
		botsByID[b.id] = baton.Bot{ID: b.id, Name: b.id, Languages: []string{"en"}}
		waAccts[b.id] = whatsapp.Account{AppSecret: or(b.metaSecret, metaSecret), VerifyToken: verifyToken, AccessToken: "wa-token-" + b.id, PhoneNumberID: b.phoneNumberID}
		pages[b.id] = messenger.Page{AppSecret: or(b.metaSecret, metaSecret), VerifyToken: verifyToken, AccessToken: "page-token-" + b.id, PageID: b.pageID}
		sms[b.id] = twilio.Account{AccountSID: or(b.twilioSID, twilioSID), AuthToken: or(b.twilioToken, twilioToken), From: b.twilioFrom,
			StatusCallback: publicBase + "/webhooks/twilio/" + b.id}
	}
	foreign := channels.Foreign{Logger: log, Count: func(provider string, n int) {
		e.mu.Lock()
		e.foreign[provider] += n
		e.mu.Unlock()
	}}
	e.handlers = map[string]baton.WebhookHandler{
		"whatsapp":  &whatsapp.Handler{Accounts: waAccts, Ingester: e.ing, Foreign: foreign, Redact: testRedactor},
		"messenger": &messenger.Handler{Pages: pages, Ingester: e.ing, Foreign: foreign},
		"twilio":    &twilio.Handler{Accounts: sms, Ingester: e.ing, Foreign: foreign, Redact: testRedactor},
	}
	client := &http.Client{Timeout: 5 * time.Second}
	e.wa = &whatsapp.Sender{Accounts: waAccts, BaseURL: e.graph.URL + "/v23.0", Client: client, Clock: e.clock, Redact: testRedactor}
	e.deliver = &channels.Deliverer{
		Store: st,
		Senders: map[baton.ChannelKind]baton.Sender{
			baton.ChannelWhatsApp:  e.wa,
			baton.ChannelMessenger: &messenger.Sender{Pages: pages, BaseURL: e.graph.URL + "/v23.0", Client: client, Clock: e.clock, Redact: testRedactor},
			baton.ChannelSMS:       &twilio.Sender{Accounts: sms, BaseURL: e.twilio.URL, Client: client, Clock: e.clock, Redact: testRedactor},
		},
		Clock:  e.clock,
		Logger: log,
	}
	e.turn = &bots.Acknowledger{Store: st, Text: ackText}
	return e
}

// webhook builds a request the way the web layer hands it over.
func (e *env) webhook(provider string, body []byte, sign bool) *baton.WebhookRequest {
	r := e.unsigned(provider, botID, body)
	if sign {
		e.sign(r, provider, metaSecret, twilioToken)
	}
	return r
}

func (e *env) unsigned(provider, bot string, body []byte) *baton.WebhookRequest {
	return &baton.WebhookRequest{
		BotID:     bot,
		Method:    http.MethodPost,
		PublicURL: publicBase + "/webhooks/" + provider + "/" + bot,
		Query:     url.Values{},
		Header:    http.Header{},
		Body:      body,
	}
}

// sign signs r as its provider does: Meta with the app secret, Twilio with
// the account's auth token.
func (e *env) sign(r *baton.WebhookRequest, provider, appSecret, authToken string) {
	if provider == "twilio" {
		params, err := url.ParseQuery(string(r.Body))
		if err != nil {
			e.t.Fatal(err)
		}
		r.Header.Set(channels.TwilioSignatureHeader, channels.TwilioSignature(authToken, r.PublicURL, params))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return
	}
	r.Header.Set(channels.MetaSignatureHeader, "sha256="+channels.HMACSHA256Hex([]byte(appSecret), r.Body))
	r.Header.Set("Content-Type", "application/json")
}

func (e *env) post(provider string, body []byte) {
	e.t.Helper()
	resp, err := e.handlers[provider].ServeWebhook(context.Background(), e.webhook(provider, body, true))
	if err != nil {
		e.t.Fatalf("%s webhook: %v", provider, err)
	}
	if resp.Status != http.StatusOK {
		e.t.Fatalf("%s webhook: status %d", provider, resp.Status)
	}
}

// startPool runs turn and deliver jobs with the real worker pool until the
// returned stop is called.
func (e *env) startPool() (stop func()) {
	e.t.Helper()
	pool := jobs.New(e.st, jobs.Options{
		Workers: 2, Lease: 5 * time.Second, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		IdleMin: 2 * time.Millisecond, IdleMax: 10 * time.Millisecond, Clock: e.clock,
		Logger: slog.New(slog.NewJSONHandler(e.logs, nil)),
	})
	if err := pool.Register(baton.JobTurn, e.turn); err != nil {
		e.t.Fatal(err)
	}
	if err := pool.Register(baton.JobDeliver, e.deliver); err != nil {
		e.t.Fatal(err)
	}
	if err := pool.Start(); err != nil {
		e.t.Fatal(err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = pool.Shutdown(ctx)
	}
}

// runJobs runs turn and deliver jobs with the real worker pool until done
// reports true (or fails the test after a while).
func (e *env) runJobs(done func() bool) {
	e.t.Helper()
	stop := e.startPool()
	defer stop()
	deadline := time.Now().Add(15 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			e.t.Fatal("jobs did not reach the expected state in 15 s")
		}
		time.Sleep(5 * time.Millisecond)
		// The store, the pool and the senders share the test clock; let
		// it run so that retries and leases come due.
		e.clock.Advance(50 * time.Millisecond)
	}
}

// idle reports whether no turn or deliver job is pending or running. It
// reads every job in one query: two queries (pending, then running) could
// miss a turn job that finished in between, after it enqueued its deliver
// job, and call a busy queue idle.
func (e *env) idle() bool {
	js, err := e.st.ListJobs(context.Background(), baton.JobFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, j := range js {
		if j.Status == baton.JobPending || j.Status == baton.JobRunning {
			return false
		}
	}
	return true
}

func (e *env) conversations() []*baton.Conversation {
	e.t.Helper()
	return e.conversationsOf(botID)
}

func (e *env) conversationsOf(bot string) []*baton.Conversation {
	e.t.Helper()
	cs, err := e.st.ListConversations(context.Background(), baton.ConversationFilter{BotID: bot})
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
}

func (e *env) messages(convID int64) []*baton.Message {
	e.t.Helper()
	ms, err := e.st.ListMessages(context.Background(), convID, 0, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

func (e *env) jobs(kind string) []*baton.Job {
	e.t.Helper()
	js, err := e.st.ListJobs(context.Background(), baton.JobFilter{Kind: kind})
	if err != nil {
		e.t.Fatal(err)
	}
	return js
}

func (e *env) outbound(convID int64) []*baton.Message {
	var out []*baton.Message
	for _, m := range e.messages(convID) {
		if m.Direction == baton.DirectionOut {
			out = append(out, m)
		}
	}
	return out
}

// reply enqueues msg on the conversation the way the bot or an agent does.
func (e *env) reply(conv *baton.Conversation, msg *baton.Message) {
	e.t.Helper()
	err := e.st.Tx(context.Background(), func(tx baton.Store) error { return baton.EnqueueReply(context.Background(), tx, conv, msg) })
	if err != nil {
		e.t.Fatal(err)
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// concurrently runs fn n times at once and waits for all.
func concurrently(n int, fn func(i int)) {
	var wg sync.WaitGroup
	startGate := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startGate
			fn(i)
		}()
	}
	close(startGate)
	wg.Wait()
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// foreignCount is what the handlers added to the foreign-recipient counter
// for provider.
func (e *env) foreignCount(provider string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.foreign[provider]
}

// lockedBuffer is written by handlers and workers and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
