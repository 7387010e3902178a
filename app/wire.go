package app

import (
	"log/slog"
	"maps"
	"net/http"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/bots"
	"github.com/batonhq/baton/channels"
	"github.com/batonhq/baton/channels/messenger"
	"github.com/batonhq/baton/channels/twilio"
	"github.com/batonhq/baton/channels/webchat"
	"github.com/batonhq/baton/channels/whatsapp"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/handoff"
	"github.com/batonhq/baton/nlu/pii"
	"github.com/batonhq/baton/web"
)

// components are what the capability packages contribute to a running
// server.
type components struct {
	webhooks map[string]baton.WebhookHandler // by provider: whatsapp, messenger, twilio
	slack    map[string]baton.WebhookHandler // by kind: events, interactions, commands
	webChat  web.WebChat
	chat     *webchat.Handler            // webChat's handler, for the posts that come without HTTP
	jobs     map[string]baton.JobHandler // by job kind; only these are ever claimed
	limits   *serverLimits
	desk     *handoff.Desk
	// services run beside the job pool, started after it (the Slack
	// console's Socket Mode connection).
	services []Service
}

// wiring is what the components share: the store, the logger and the
// clock; the client of the providers' APIs; redact, which cleans provider
// text before it is kept or logged; foreign, which counts webhook events
// addressed to a number or Page no bot has; and inDoubt, which counts
// deliveries that may have reached the customer twice.
type wiring struct {
	brains  map[string]*bots.Brain
	store   baton.Store
	log     *slog.Logger
	clock   baton.Clock
	client  *http.Client
	redact  baton.Redactor
	foreign func(provider string, n int)
	inDoubt func(baton.ChannelKind)
	// surveys asks customers for a rating when a conversation is resolved;
	// observer counts the human side's events for Prometheus.
	surveys  *handoff.Surveys
	observer handoff.Observer
	// notify tells the agent console (Slack) what happened; nil when it
	// is not configured.
	notify baton.Notifier
	// slack tunes the Slack console; wake tells the job pool that work
	// was enqueued outside a job.
	slack SlackOptions
	wake  func()
}

// wire builds the channel adapters, the agent console, the bots and their
// job handlers from the configuration. It is the one place a capability is
// plugged into the server.
func wire(cfg *config.Config, w wiring) (*components, error) {
	st, log, clock, redact := w.store, w.log, w.clock, w.redact
	botByID := map[string]baton.Bot{}
	for _, b := range cfg.DomainBots() {
		botByID[b.ID] = b
	}
	w.notify = slackNotifier(cfg, w)
	desk, err := newDesk(cfg, w)
	if err != nil {
		return nil, err
	}
	ing := &channels.Ingester{
		Store:  st,
		Bots:   func(id string) (baton.Bot, bool) { b, ok := botByID[id]; return b, ok },
		Clock:  clock,
		Logger: log,
		// A card number a customer pastes is kept with its last four
		// digits only, in the transcript and everything read from it.
		Mask: pii.MaskCards,
		// Who owns a conversation when its customer writes again, and the
		// response clock a customer's message starts.
		Ownership: handoff.Ownership{Desk: desk, Surveys: w.surveys},
		Responses: desk,
	}

	wa := map[string]whatsapp.Account{}
	pages := map[string]messenger.Page{}
	sms := map[string]twilio.Account{}
	sites := map[string]webchat.Site{}
	var waBase, fbBase, twBase apiBase
	for _, b := range cfg.Bots {
		ch := b.Channels
		if c := ch.WhatsApp; c != nil {
			acct := whatsapp.Account{AppSecret: c.AppSecret, VerifyToken: c.VerifyToken, AccessToken: c.AccessToken, PhoneNumberID: c.PhoneNumberID}
			if c.Template.Name != "" {
				acct.Template = &whatsapp.WindowTemplate{Name: c.Template.Name, Language: c.Template.Language}
			}
			wa[b.ID] = acct
			waBase.set(c.APIBase)
		}
		if c := ch.Messenger; c != nil {
			pages[b.ID] = messenger.Page{AppSecret: c.AppSecret, VerifyToken: c.VerifyToken, AccessToken: c.PageAccessToken, PageID: c.PageID}
			fbBase.set(c.APIBase)
		}
		if c := ch.Twilio; c != nil {
			acct := twilio.Account{AccountSID: c.AccountSID, AuthToken: c.AuthToken, From: c.From}
			if strings.HasPrefix(c.From, "MG") {
				// A Messaging Service picks the number itself; inbound
				// messages name it in MessagingServiceSid.
				acct = twilio.Account{AccountSID: c.AccountSID, AuthToken: c.AuthToken, MessagingServiceSID: c.From}
			}
			// Status callbacks come back to the bot's own webhook: the
			// handler tells them from inbound messages.
			if base := firstNonEmpty(c.PublicURL, cfg.Server.PublicURL); base != "" {
				acct.StatusCallback = strings.TrimRight(base, "/") + "/webhooks/twilio/" + b.ID
			}
			sms[b.ID] = acct
			twBase.set(c.APIBase)
		}
		if c := ch.WebChat; c != nil && c.Enabled {
			sites[b.ID] = webchat.Site{IdentitySecret: c.IdentitySecret, Title: botByID[b.ID].Name}
		}
	}

	comp := &components{
		webhooks: map[string]baton.WebhookHandler{},
		slack:    map[string]baton.WebhookHandler{},
		jobs:     desk.Jobs(),
		desk:     desk,
	}
	if w.surveys != nil {
		maps.Copy(comp.jobs, w.surveys.Jobs(st))
	}
	senders := map[baton.ChannelKind]baton.Sender{}
	drop := channels.Foreign{Logger: log, Count: w.foreign}
	if len(wa) > 0 {
		comp.webhooks["whatsapp"] = &whatsapp.Handler{Accounts: wa, Ingester: ing, Foreign: drop, Redact: redact}
		senders[baton.ChannelWhatsApp] = &whatsapp.Sender{Accounts: wa, BaseURL: waBase.url, Client: w.client, Clock: clock, Redact: redact}
	}
	if len(pages) > 0 {
		comp.webhooks["messenger"] = &messenger.Handler{Pages: pages, Ingester: ing, Foreign: drop}
		senders[baton.ChannelMessenger] = &messenger.Sender{Pages: pages, BaseURL: fbBase.url, Client: w.client, Clock: clock, Redact: redact}
	}
	if len(sms) > 0 {
		comp.webhooks["twilio"] = &twilio.Handler{Accounts: sms, Ingester: ing, Foreign: drop, Redact: redact}
		senders[baton.ChannelSMS] = &twilio.Sender{Accounts: sms, BaseURL: twBase.url, Client: w.client, Clock: clock, Redact: redact}
	}
	comp.limits = newServerLimits(cfg, log)
	if len(sites) > 0 {
		sig := &webchat.Signal{}
		comp.chat = &webchat.Handler{Sites: sites, Ingester: ing, Store: st, Clock: clock, Logger: log, Signal: sig,
			PostsPerAddress: comp.limits.postsPerAddress, PostsPerVisitor: comp.limits.postsPerVisitor,
			Streams: comp.limits.streams, Proxies: comp.limits.proxies}
		comp.webChat = comp.chat
		senders[baton.ChannelWebChat] = webchat.Sender{Signal: sig}
	}
	comp.jobs[baton.JobDeliver] = &channels.Deliverer{Store: st, Senders: senders, Clock: clock, Logger: log, InDoubt: w.inDoubt}
	// Until the triage bot lands, every turn is answered with an
	// acknowledgement through the real outbox.
	comp.jobs[baton.JobTurn] = &bots.Turns{Store: st, Brains: w.brains, Budget: comp.limits.turnBudget, Clock: clock, Logger: log, Queue: desk,
		Surveys: w.surveys, Escalated: w.observer.Escalated, Notifier: w.notify}
	comp.jobs[baton.JobFollowUp] = &bots.FollowUps{Store: st, Surveys: w.surveys}
	wireSlack(cfg, w, desk, comp)
	return comp, nil
}

// apiBase is the provider API base URL of one channel kind; validation
// made sure every bot that overrides it agrees.
type apiBase struct{ url string }

func (a *apiBase) set(url string) {
	if url != "" {
		a.url = url
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
