// Package web is Baton's HTTP surface: one fiber app on which every route is
// registered (in routes, below), the error-to-status mapping, metrics, the
// bearer-token admin API and the webhook endpoints that hand raw requests to
// the channel and console adapters.
package web

import (
	"context"
	"html/template"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/kb"
	"github.com/batonhq/baton/limit"
)

// Store is what the web layer reads. baton.Store satisfies it.
type Store interface {
	Ping(ctx context.Context) error
	GetConversation(ctx context.Context, id int64) (*baton.Conversation, error)
	ListConversations(ctx context.Context, f baton.ConversationFilter) ([]*baton.Conversation, error)
	ListMessages(ctx context.Context, conversationID int64, afterID int64, limit int) ([]*baton.Message, error)
	ListEvents(ctx context.Context, conversationID int64) ([]*baton.Event, error)
	ListDecisions(ctx context.Context, conversationID int64, limit int) ([]*baton.Decision, error)
	GetPacket(ctx context.Context, conversationID int64) (*baton.HandoffPacket, error)
	// The agent API reads agents and authenticates their tokens.
	GetAgent(ctx context.Context, id string) (*baton.Agent, error)
	AgentLoads(ctx context.Context, botID string) ([]*baton.AgentLoad, error)
	AgentByToken(ctx context.Context, hash []byte) (*baton.Agent, *baton.AgentToken, error)
	// The admin defines agents through the API too.
	UpsertAgent(ctx context.Context, a *baton.Agent) error
}

// Config is everything the app serves. Handlers are passed in so that the
// adapters stay testable without a server and this package imports none of
// them.
type Config struct {
	Store Store
	// Webhooks by provider ("whatsapp", "messenger", "twilio"), mounted at
	// /webhooks/{provider}/{bot} for GET (verification) and POST.
	Webhooks map[string]baton.WebhookHandler
	// Slack by kind ("events", "interactions", "commands"), mounted at
	// POST /slack/{kind} when there is at least one.
	Slack map[string]baton.WebhookHandler
	// WebChat, when set, serves the browser chat: GET /chat/{bot} (the
	// page), POST /chat/{bot}/messages and GET /chat/{bot}/stream (server-
	// sent replies).
	WebChat WebChat
	// KB, when set, serves the article admin API under
	// /api/v1/bots/{bot}/articles and /api/v1/bots/{bot}/drafts.
	KB *kb.Manager
	// Bots are the configured bots; a webhook for any other bot id is 404.
	Bots []baton.Bot
	// PublicURL is the externally visible base URL (behind a proxy the
	// request's own host is not what the provider signed); "" means the
	// request's scheme and host.
	PublicURL string
	// AdminToken guards /api/v1; "" disables the admin API.
	AdminToken string
	// Desk, when set, serves the agent API under /api/v1 (queues,
	// conversations and every lifecycle action, agent status), which
	// agents reach with their own tokens and the admin token reaches for
	// any agent; nil keeps /api/v1 for the admin token only.
	Desk baton.Desk
	// Queues are the configured queues, which the agent API lists and
	// validates queue ids against.
	Queues []baton.Queue
	// Clock gives the agent API the time a relative snooze counts from
	// [baton.SystemClock].
	Clock baton.Clock
	// Streams bounds the agent API's open streams (GET /api/v1/stream),
	// per agent and in all; nil limits nothing.
	Streams *limit.Slots
	// StreamPoll is how often an open agent stream reads the store [1s];
	// StreamFor ends one after this long [5m] (EventSource reconnects and
	// resumes with Last-Event-ID).
	StreamPoll, StreamFor time.Duration
	// Metrics, when set, serves the support summary at GET /api/v1/metrics.
	Metrics baton.MetricsSource
	// Proxies says which peers' X-Forwarded-For names the client; nil
	// means the TCP peer is the client.
	Proxies *limit.Proxies
	// AuthGuard, when set, limits failed admin authentication per client
	// address and aggregates the warnings about it.
	AuthGuard *limit.Guard
	// Registry receives the HTTP metrics and is served at /metrics; nil
	// means no metrics.
	Registry *prometheus.Registry
	Logger   *slog.Logger
	Version  string
	// WebhookTimeout bounds one adapter call [15s].
	WebhookTimeout time.Duration
	// ReadyTimeout bounds the database check of /readyz [2s].
	ReadyTimeout time.Duration
}

// WebChat is the browser chat channel's HTTP side.
type WebChat interface {
	Page(c *fiber.Ctx) error
	Post(c *fiber.Ctx) error
	Stream(c *fiber.Ctx) error
}

type server struct {
	cfg     Config
	log     *slog.Logger
	bots    map[string]baton.Bot
	queues  map[string]baton.Queue
	metrics *httpMetrics
	index   *template.Template
	console *consoleAssets
}

// readLimit is the largest body the server reads; see fiber.Config below.
const readLimit = 4 * baton.MaxWebhookBody

// New builds the app. It does not listen; call Listener or Listen on the
// result, and ShutdownWithContext to stop.
func New(cfg Config) (*fiber.App, error) {
	if cfg.Store == nil {
		return nil, baton.Errorf(baton.EINVALID, "web: a store is required")
	}
	if cfg.KB != nil && (cfg.KB.Store == nil || cfg.KB.Embedder == nil) {
		return nil, baton.Errorf(baton.EINVALID, "web: the KB manager needs a store and an embedder")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.WebhookTimeout <= 0 {
		cfg.WebhookTimeout = 15 * time.Second
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 2 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = baton.SystemClock{}
	}
	if cfg.StreamPoll <= 0 {
		cfg.StreamPoll = time.Second
	}
	if cfg.StreamFor <= 0 {
		cfg.StreamFor = 5 * time.Minute
	}
	s := &server{cfg: cfg, log: cfg.Logger, bots: map[string]baton.Bot{}, queues: map[string]baton.Queue{}}
	for _, b := range cfg.Bots {
		s.bots[b.ID] = b
	}
	for _, q := range cfg.Queues {
		s.queues[q.ID] = q
	}
	if cfg.Registry != nil {
		m, err := newHTTPMetrics(cfg.Registry)
		if err != nil {
			return nil, err
		}
		s.metrics = m
	}
	tmpl, err := template.New("index").Parse(indexHTML)
	if err != nil {
		return nil, baton.Errorf(baton.EINTERNAL, "web: index template: %w", err)
	}
	s.index = tmpl
	if s.console, err = loadConsole(); err != nil {
		return nil, err
	}

	app := fiber.New(fiber.Config{
		AppName:               "baton",
		DisableStartupMessage: true,
		// Bodies up to readLimit are read whole, so a webhook over
		// MaxWebhookBody gets a clean 413 from serveRaw before any parser
		// sees it; fasthttp refuses larger ones from their headers alone,
		// but then closes with the body unread, which a client still
		// sending it may see as a reset instead of the 413.
		BodyLimit:   readLimit,
		ReadTimeout: 15 * time.Second,
		// Long enough for a web chat reply stream, which ends itself
		// after a few minutes and is resumed by the browser.
		WriteTimeout: 6 * time.Minute,
		IdleTimeout:  60 * time.Second,
		ErrorHandler: s.handleError,
	})
	// Parse errors then carry no request contents (a token among them).
	app.Server().SecureErrorLogMessage = true
	s.routes(app)
	return app, nil
}

// routes registers every route of the product. Keep it the only place.
func (s *server) routes(app *fiber.App) {
	if s.metrics != nil {
		app.Use(s.metrics.middleware)
	}
	app.Use(recover.New())

	app.Get("/", s.home)
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	if s.cfg.Registry != nil {
		app.Get("/metrics", metricsHandler(s.cfg.Registry))
	}

	app.Get("/webhooks/:provider/:bot", s.webhook)
	app.Post("/webhooks/:provider/:bot", s.webhook)
	if len(s.cfg.Slack) > 0 {
		app.Post("/slack/:kind", s.slack)
	}
	if s.cfg.WebChat != nil {
		app.Get("/chat/:bot", s.cfg.WebChat.Page)
		app.Post("/chat/:bot/messages", s.cfg.WebChat.Post)
		app.Get("/chat/:bot/stream", s.cfg.WebChat.Stream)
	}

	if s.cfg.Desk != nil {
		// The web inbox: a page and its assets; it acts through /api/v1.
		app.Get("/console", s.consolePage)
		app.Get("/console/assets/:name", s.consoleAsset)
		// Signing out needs no token (a revoked one must sign out too);
		// the stream takes its cookie for the Authorization header.
		app.Delete("/api/v1/session", s.endSession)
		app.Use(streamPath, s.streamCookieAuth)
	}

	// Without a desk only the admin token passes authenticate; with one,
	// agent tokens do too, and admin marks what stays the admin's.
	api := app.Group("/api/v1", s.authenticate)
	admin := s.adminOnly
	api.Get("/conversations", s.listConversations)
	if s.cfg.Desk == nil {
		api.Get("/conversations/:id", s.getConversation)
	} else {
		api.Get("/conversations/:id", s.viewConversation)
		api.Post("/conversations/:id/claim", s.claim)
		api.Post("/conversations/:id/assign", s.assign)
		api.Post("/conversations/:id/transfer", s.transfer)
		api.Post("/conversations/:id/snooze", s.snooze)
		api.Post("/conversations/:id/resolve", s.resolve)
		api.Post("/conversations/:id/archive", s.archive)
		api.Post("/conversations/:id/bot", s.toBot)
		api.Post("/conversations/:id/notes", s.note)
		api.Post("/conversations/:id/messages", s.reply)
		api.Get("/conversations/:id/kb-drafts/defaults", s.kbDraftDefaults)
		api.Post("/conversations/:id/kb-drafts", s.saveKBDraft)
		api.Get("/queues", s.listQueues)
		api.Get("/me", s.me)
		api.Get("/agents", admin, s.listAgents)
		api.Put("/agents/:id", admin, s.putAgent)
		api.Get("/agents/me/status", s.myStatus)
		api.Put("/agents/me/status", s.setMyStatus)
		api.Post("/session", s.startSession)
		api.Get("/stream", s.stream)
	}
	api.Get("/metrics", admin, s.metricsSummary)
	if s.cfg.KB != nil {
		api.Get("/bots/:bot/articles", admin, s.listArticles)
		api.Get("/bots/:bot/articles/:slug", admin, s.getArticle)
		api.Get("/bots/:bot/articles/:slug/versions", admin, s.listArticleVersions)
		api.Put("/bots/:bot/articles/:slug", admin, s.putArticle)
		api.Delete("/bots/:bot/articles/:slug", admin, s.unpublishArticle)
		api.Post("/bots/:bot/articles/:slug/publish", admin, s.publishArticle)
		api.Post("/bots/:bot/articles/:slug/unpublish", admin, s.unpublishArticle)
		api.Post("/bots/:bot/articles/:slug/restore", admin, s.restoreArticle)
		api.Post("/bots/:bot/drafts/from-reply", admin, s.draftFromReply)
	}
}

func (s *server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz answers 200 only when the database is reachable and migrated, so a
// load balancer sends no traffic to a replica that cannot store it.
func (s *server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.ReadyTimeout)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		return baton.WrapError(baton.EUNAVAILABLE, err, "database not ready")
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

func (s *server) home(c *fiber.Ctx) error {
	c.Type("html", "utf-8")
	return s.index.Execute(c.Response().BodyWriter(), map[string]any{
		"Version": s.cfg.Version,
		"Bots":    s.cfg.Bots,
		"Metrics": s.cfg.Registry != nil,
		"WebChat": s.cfg.WebChat != nil,
	})
}

const indexHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Baton</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:0 .2rem}</style>
</head><body>
<h1>Baton is running</h1>
<p>Version {{.Version}}.</p>
<h2>Bots</h2>
<ul>{{range .Bots}}<li><strong>{{.Name}}</strong> (<code>{{.ID}}</code>) — languages {{range $i, $l := .Languages}}{{if $i}}, {{end}}{{$l}}{{end}}{{if $.WebChat}} — <a href="/chat/{{.ID}}">open the web chat</a>{{end}}</li>{{else}}<li>No bot is configured.</li>{{end}}</ul>
<h2>Endpoints</h2>
<ul>
<li><a href="/healthz">/healthz</a> — the process is alive</li>
<li><a href="/readyz">/readyz</a> — the database is reachable and migrated</li>
{{if .Metrics}}<li><a href="/metrics">/metrics</a> — Prometheus metrics</li>{{end}}
<li><code>/webhooks/{whatsapp,messenger,twilio}/{bot}</code> — provider webhooks</li>
<li><code>/api/v1/conversations</code> — admin API (bearer token)</li>
</ul>
</body></html>
`
