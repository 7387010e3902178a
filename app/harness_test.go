package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/app"
	"github.com/batonhq/baton/bots"
	"github.com/batonhq/baton/channels"
	"github.com/batonhq/baton/channels/channeltest"
	"github.com/batonhq/baton/channels/twilio"
	"github.com/batonhq/baton/channels/webchat"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/jobs"
	"github.com/batonhq/baton/store/storecase"
)

// The test bot's numbers, Page and secrets; the Meta secret is the
// known-answer vector's.
const (
	botID         = "acme"
	metaSecret    = "test_app_secret"
	verifyToken   = "verify-me"
	twilioToken   = "12345"
	twilioSID     = "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
	twilioFrom    = "+14155550199"
	phoneNumberID = "106540352242922"
	pageID        = "107000000000001"
	publicBase    = "https://baton.example.com"
	chatSecret    = "host-app-secret-0123"
	chatTitle     = "Acme help"
	adminToken    = "admin-token-0123456789"
)

// ackText is what the bot answers a message it cannot place (the test bot
// has no intents and no KB): every message of the channel tests.
const ackText = "I'm not sure I understood. Could you tell me a bit more about what you need?"

// TestAckTextIsTheBots keeps ackText the bot's own out-of-scope text.
func TestAckTextIsTheBots(t *testing.T) {
	texts, err := bots.NewTexts([]string{"en"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := texts.Say("en", bots.TextOutOfScope); got != ackText {
		t.Fatalf("the bot says %q, ackText is %q", got, ackText)
	}
}

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// stores is every real store the tests run against: SQLite in a temp dir
// always; PostgreSQL, in a schema of its own per test, when
// BATON_TEST_DATABASE_URL is set.
func stores() []storecase.Case { return storecase.All() }

// env is the whole pipeline as app.New assembles it from a configuration,
// over a real store, with fakes only at the providers' APIs.
type env struct {
	t      *testing.T
	st     baton.Store
	clock  *baton.ManualClock // nil with envOptions.realClock
	graph  *channeltest.Provider
	twilio *channeltest.Provider
	app    *app.App
	logs   *lockedBuffer // every log line of the app: handlers, outbox, pool, web
}

type envOptions struct {
	graphScript  []channeltest.Reply
	twilioScript []channeltest.Reply
	// graph answers the Graph API's requests once its script is spent
	// [graphOK].
	graph       func(channeltest.Request) channeltest.Reply
	template    config.Template
	reopenAfter config.Duration
	others      []otherBot // more bots on the same server
	// limits override the default of the tests: every limit off.
	limits func(*config.Limits)
	// realClock runs the store and the app on the system clock (signed
	// tokens carry real expiry times) instead of a clock the test moves.
	realClock bool
	// redactor replaces the app's PII redactor.
	redactor baton.Redactor
}

// otherBot is another configured bot with its own number, Page and SMS
// sender; secrets left empty are the test bot's (one Meta app, one Twilio
// account for both).
type otherBot struct {
	id, metaSecret, phoneNumberID, pageID string
	twilioSID, twilioToken, twilioFrom    string
}

// graphOK answers a send as the Graph API does: Messenger for a body with a
// recipient, else WhatsApp.
func graphOK(r channeltest.Request) channeltest.Reply {
	if !bytes.Contains(r.Body, []byte(`"messaging_product"`)) {
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

// testConfig is the configuration of the tests' server: the test bot on
// WhatsApp, Messenger, Twilio and the web chat, and o's other bots, with
// every provider API at its fake.
func testConfig(t testing.TB, graphURL, twilioURL string, o envOptions) *config.Config {
	t.Helper()
	limits := offLimits()
	if o.limits != nil {
		o.limits(&limits)
	}
	channels := func(id, appSecret, number, page, sid, token, from string) config.Channels {
		ch := config.Channels{
			WhatsApp: &config.WhatsApp{PhoneNumberID: number, AccessToken: "wa-token", AppSecret: appSecret, VerifyToken: verifyToken,
				APIBase: graphURL + "/v23.0"},
			Messenger: &config.Messenger{PageID: page, PageAccessToken: "page-token", AppSecret: appSecret, VerifyToken: verifyToken,
				APIBase: graphURL + "/v23.0"},
			Twilio: &config.Twilio{AccountSID: sid, AuthToken: token, From: from, APIBase: twilioURL},
		}
		if id != botID {
			ch.WhatsApp.AccessToken += "-" + id
			ch.Messenger.PageAccessToken += "-" + id
		}
		return ch
	}
	// The channel tests send the bot messages it cannot place, one after
	// another: each is answered alike, none is escalated for it, and no
	// follow-up job joins the queue.
	quiet := config.Escalation{RepeatedFailure: config.Trigger{Off: true}}
	test := config.Bot{ID: botID, Name: chatTitle, Languages: []string{"en"}, ReopenWindow: o.reopenAfter,
		Channels:   channels(botID, metaSecret, phoneNumberID, pageID, twilioSID, twilioToken, twilioFrom),
		Escalation: quiet, FollowUp: "off"}
	test.Channels.WhatsApp.Template = o.template
	test.Channels.WebChat = &config.WebChat{Enabled: true, IdentitySecret: chatSecret}
	cfg := &config.Config{
		Server: config.Server{Addr: "127.0.0.1:0", PublicURL: publicBase, AdminToken: adminToken, Limits: limits},
		Bots:   []config.Bot{test},
		Dir:    t.TempDir(),
	}
	for _, b := range o.others {
		cfg.Bots = append(cfg.Bots, config.Bot{ID: b.id, Name: b.id, Languages: []string{"en"}, Escalation: quiet, FollowUp: "off",
			Channels: channels(b.id, or(b.metaSecret, metaSecret), b.phoneNumberID, b.pageID, or(b.twilioSID, twilioSID), or(b.twilioToken, twilioToken), b.twilioFrom)})
	}
	if problems := cfg.Validate(); len(problems) > 0 {
		t.Fatalf("test configuration: %v", problems)
	}
	return cfg
}

// offLimits turns every limit off: tests that need one set it.
func offLimits() config.Limits {
	off := config.Rate("off")
	return config.Limits{WebChatPostsPerVisitor: off, WebChatPostsPerAddress: off, FailedAuthPerAddress: off, BotTurnsPerConversation: off,
		WebChatStreamsPerVisitor: "off", WebChatStreamsTotal: "off"}
}

// fastJobs are pool settings that let retries come due within a test.
func fastJobs() jobs.Options {
	return jobs.Options{Workers: 2, Lease: 5 * time.Second, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		IdleMin: 2 * time.Millisecond, IdleMax: 10 * time.Millisecond, CancelWait: 5 * time.Second}
}

// newEnv opens a fresh store from sc, on the env's clock, and assembles
// the app over it.
func newEnv(t *testing.T, sc storecase.Case, o envOptions) *env {
	t.Helper()
	var clock baton.Clock = baton.SystemClock{}
	e := &env{t: t, logs: &lockedBuffer{}}
	if !o.realClock {
		e.clock = baton.NewManualClock(start)
		clock = e.clock
	}
	e.st = sc.Open(t, clock)
	if o.graph == nil {
		o.graph = graphOK
	}
	e.graph = channeltest.NewProvider(t, o.graph, o.graphScript...)
	e.twilio = channeltest.NewProvider(t, twilioOK, o.twilioScript...)
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(context.Background(), testConfig(t, e.graph.URL, e.twilio.URL, o), app.Options{
		Store: e.st, Logger: log, Clock: clock, Jobs: fastJobs(), Redactor: o.redactor,
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	e.app = a
	t.Cleanup(func() {
		// A test that stopped the app itself, or left a reply stream
		// waiting on a long poll, gets an error here that says nothing
		// about what it tests.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Logf("shutdown: %v", err)
		}
	})
	return e
}

// serve runs the app's HTTP server on a loopback port and returns its base
// URL; the env's cleanup stops it.
func (e *env) serve() string {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	go func() { _ = e.app.Serve(ln) }()
	return "http://" + ln.Addr().String()
}

// handler is the app's webhook handler of provider.
func (e *env) handler(provider string) baton.WebhookHandler {
	e.t.Helper()
	h := e.app.Webhook(provider)
	if h == nil {
		e.t.Fatalf("the app has no %s webhook", provider)
	}
	return h
}

// ingester is the Ingester the app gave its channel handlers.
func (e *env) ingester() *channels.Ingester {
	return e.handler("twilio").(*twilio.Handler).Ingester
}

// deliverer is the app's outbox.
func (e *env) deliverer() *channels.Deliverer {
	return e.app.JobHandler(baton.JobDeliver).(*channels.Deliverer)
}

// webChat is the app's web chat handler.
func (e *env) webChat() *webchat.Handler {
	return e.app.WebChat().(*webchat.Handler)
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
	resp, err := e.handler(provider).ServeWebhook(context.Background(), e.webhook(provider, body, true))
	if err != nil {
		e.t.Fatalf("%s webhook: %v", provider, err)
	}
	if resp.Status != http.StatusOK {
		e.t.Fatalf("%s webhook: status %d", provider, resp.Status)
	}
}

// runJobs runs the due jobs with the app's synchronous drain until done
// reports true (or fails the test after a while), moving the test clock
// between rounds so that retries and leases come due.
func (e *env) runJobs(done func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := e.app.RunJobs(context.Background()); err != nil {
			e.t.Fatalf("run jobs: %v", err)
		}
		if done() {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatal("jobs did not reach the expected state in 15 s")
		}
		e.clock.Advance(50 * time.Millisecond)
	}
}

// idle reports whether no job is pending or running. It reads every job in
// one query: two queries (pending, then running) could miss a turn job that
// finished in between, after it enqueued its deliver job, and call a busy
// queue idle.
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

// foreignCount is baton_webhook_foreign_recipients_total of provider.
func (e *env) foreignCount(provider string) int {
	e.t.Helper()
	return int(app.Labelled(e.t, e.app.Registry(), "baton_webhook_foreign_recipients_total", "provider", provider))
}

// inDoubt is baton_deliveries_in_doubt_total of channel ch.
func (e *env) inDoubt(ch baton.ChannelKind) int {
	e.t.Helper()
	return int(app.Labelled(e.t, e.app.Registry(), "baton_deliveries_in_doubt_total", "channel", string(ch)))
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

// logLines returns the JSON log lines whose message starts with msg.
func (e *env) logLines(msg string) []string {
	e.t.Helper()
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		if l == "" {
			continue
		}
		var rec struct {
			Msg string `json:"msg"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			e.t.Fatalf("log line %q: %v", l, err)
		}
		if strings.HasPrefix(rec.Msg, msg) {
			out = append(out, l)
		}
	}
	return out
}
