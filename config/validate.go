package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/batonhq/baton"
)

// isoLanguages is every ISO 639-1 code, space-separated and padded so that a
// lookup is a substring test of " xx ".
const isoLanguages = " aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy" +
	" da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie" +
	" ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk" +
	" ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se" +
	" sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa" +
	" wo xh yi yo za zh zu "

// PriorityLevel maps a priority name used in the file to its domain level.
func PriorityLevel(name string) (int, bool) { return baton.ParsePriority(name) }

func validLanguage(code string) bool {
	return len(code) == 2 && strings.Contains(isoLanguages, " "+code+" ")
}

// Validate checks the whole configuration and returns every problem found.
// It never stops at the first one.
func (c *Config) Validate() Problems {
	v := validator{
		cfg:       c,
		idPattern: regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`),
		sender:    regexp.MustCompile(`^(\+[1-9][0-9]{6,14}|MG[0-9a-fA-F]{32})$`),
	}
	v.server()
	v.openai()
	v.slack()
	bots := v.bots()
	queues := v.queues(bots)
	v.escalationQueues(bots, queues)
	v.agents(bots, queues)
	v.apiBases()
	v.channelOwners()
	return v.problems
}

// channelOwners checks that no two bots share a WhatsApp number, a Page or
// a Twilio sender: webhooks are routed to the bot configured with the
// number or Page they are addressed to, so each must have one owner.
func (v *validator) channelOwners() {
	type owner struct{ kind, key string }
	seen := map[owner]int{}
	claim := func(i int, kind, field, key string) {
		if key == "" {
			return
		}
		o := owner{kind, key}
		if j, dup := seen[o]; dup {
			v.add(fmt.Sprintf("bots[%d].channels.%s.%s", i, kind, field), "is bots[%d]'s too: webhooks are routed by it, so it can belong to one bot only", j)
			return
		}
		seen[o] = i
	}
	for i, b := range v.cfg.Bots {
		ch := b.Channels
		if w := ch.WhatsApp; w != nil {
			claim(i, "whatsapp", "phone_number_id", strings.TrimSpace(w.PhoneNumberID))
		}
		if m := ch.Messenger; m != nil {
			claim(i, "messenger", "page_id", strings.TrimSpace(m.PageID))
		}
		if t := ch.Twilio; t != nil {
			claim(i, "twilio", "from", strings.TrimSpace(t.From))
		}
	}
}

// apiBases checks that bots overriding a provider's API base agree: the
// server has one sender per channel kind.
func (v *validator) apiBases() {
	seen := map[string]string{}
	for i, b := range v.cfg.Bots {
		for _, c := range []struct{ name, base string }{
			{"whatsapp", apiBaseOf(b.Channels.WhatsApp)},
			{"messenger", apiBaseOf(b.Channels.Messenger)},
			{"twilio", apiBaseOf(b.Channels.Twilio)},
		} {
			if c.base == "" {
				continue
			}
			path := fmt.Sprintf("bots[%d].channels.%s.api_base", i, c.name)
			if prev, ok := seen[c.name]; ok && prev != c.base {
				v.add(path, "differs from another bot's (%s): all bots share one %s API base", prev, c.name)
				continue
			}
			seen[c.name] = c.base
		}
	}
}

func apiBaseOf(ch interface{ apiBase() string }) string {
	if ch == nil {
		return ""
	}
	return ch.apiBase()
}

type validator struct {
	cfg       *Config
	problems  Problems
	idPattern *regexp.Regexp
	sender    *regexp.Regexp // Twilio "from": a phone number or a messaging service
}

func (v *validator) add(path, format string, args ...any) {
	v.problems.add(path, format, args...)
}

func (v *validator) required(path, value string) bool {
	if strings.TrimSpace(value) == "" {
		v.add(path, "required")
		return false
	}
	return true
}

func (v *validator) url(path, value string) {
	if value == "" {
		return
	}
	// The value is not repeated: a URL may carry credentials.
	u, err := url.Parse(value)
	switch {
	case err != nil:
		v.add(path, "must be an absolute http(s) URL; this one does not parse")
	case u.Scheme != "http" && u.Scheme != "https":
		v.add(path, "must be an absolute http(s) URL, not %s:", u.Scheme)
	case u.Host == "":
		v.add(path, "must be an absolute http(s) URL; this one has no host")
	}
}

func (v *validator) duration(path string, d Duration, required bool) {
	if d == "" {
		if required {
			v.add(path, "required")
		}
		return
	}
	n, err := parseDuration(string(d))
	if err != nil {
		v.add(path, "not a duration (%q); use e.g. 90s, 15m, 4h or 7d", string(d))
		return
	}
	if n <= 0 {
		v.add(path, "must be positive, got %s", string(d))
	}
}

func (v *validator) id(path, value string) bool {
	if !v.required(path, value) {
		return false
	}
	if !v.idPattern.MatchString(value) {
		v.add(path, "%q is not a valid id: use lower-case letters, digits, - and _ (at most 64)", value)
		return false
	}
	return true
}

func (v *validator) server() {
	s := v.cfg.Server
	if _, port, err := net.SplitHostPort(s.Addr); err != nil || port == "" {
		v.add("server.addr", "must be host:port, got %q", s.Addr)
	}
	v.url("server.public_url", s.PublicURL)
	if s.DatabaseURL != "" && !v.cfg.UsesPostgres() {
		v.add("server.database_url", "must be a postgres:// URL (leave it unset for the embedded SQLite database)")
	}
	if s.AdminToken != "" && len(s.AdminToken) < MinAdminTokenLen {
		v.add("server.admin_token", "too short: use at least %d characters", MinAdminTokenLen)
	}
	v.duration("server.keep_done_jobs", s.KeepDoneJobs, false)
	v.duration("server.keep_dead_jobs", s.KeepDeadJobs, false)
	v.limits()
}

func (v *validator) openai() {
	v.url("openai.base_url", v.cfg.OpenAI.BaseURL)
	v.duration("openai.timeout", v.cfg.OpenAI.Timeout, false)
}

// slack checks that a configured console can both post (bot token) and
// receive: over Socket Mode (app token) or over HTTP (signing secret, which
// authenticates every request Slack sends).
func (v *validator) slack() {
	s := v.cfg.Slack
	if s.BotToken == "" && s.AppToken == "" && s.SigningSecret == "" {
		return
	}
	if s.BotToken == "" {
		v.add("slack.bot_token", "required when the Slack console is configured (SLACK_BOT_TOKEN)")
	} else if !strings.HasPrefix(s.BotToken, "xoxb-") {
		v.add("slack.bot_token", "must be a bot token (xoxb-...)")
	}
	if s.AppToken != "" && !strings.HasPrefix(s.AppToken, "xapp-") {
		v.add("slack.app_token", "must be an app-level token (xapp-...)")
	}
	if s.AppToken == "" && s.SigningSecret == "" {
		v.add("slack.signing_secret", "required unless slack.app_token selects Socket Mode (SLACK_SIGNING_SECRET)")
	}
}

// bots validates every bot and returns the valid ids with their index.
func (v *validator) bots() map[string]int {
	ids := map[string]int{}
	for i, b := range v.cfg.Bots {
		p := fmt.Sprintf("bots[%d]", i)
		if v.id(p+".id", b.ID) {
			if j, dup := ids[b.ID]; dup {
				v.add(p+".id", "%q is already used by bots[%d]", b.ID, j)
			} else {
				ids[b.ID] = i
			}
		}
		if len(b.Languages) == 0 {
			v.add(p+".languages", "required: list at least one ISO 639-1 code, the default first")
		}
		for j, l := range b.Languages {
			if !validLanguage(l) {
				v.add(fmt.Sprintf("%s.languages[%d]", p, j), "%q is not an ISO 639-1 language code", l)
			} else if slices.Index(b.Languages, l) != j {
				v.add(fmt.Sprintf("%s.languages[%d]", p, j), "%q is listed twice", l)
			}
		}
		v.path(p+".kb.dir", b.KB.Dir, true)
		if t := b.KB.AnswerThreshold; t != nil && (*t < 0 || *t > 1) {
			v.add(p+".kb.answer_threshold", "must be between 0 and 1, got %g", *t)
		}
		v.path(p+".nlu.intents", b.NLU.Intents, false)
		v.channels(p+".channels", b.Channels)
		v.escalation(p+".escalation", b.Escalation)
		v.behaviour(p, b)
		v.csat(p+".csat", b)
		v.duration(p+".reopen_window", b.ReopenWindow, false)
	}
	return ids
}

// path checks that a referenced file or directory exists, so that a typo is
// reported before start rather than as an empty knowledge base later.
func (v *validator) path(path, value string, dir bool) {
	if value == "" {
		return
	}
	fi, err := os.Stat(v.cfg.Resolve(value))
	switch {
	case err != nil:
		v.add(path, "%s does not exist", value)
	case dir && !fi.IsDir():
		v.add(path, "%s is not a directory", value)
	case !dir && fi.IsDir():
		v.add(path, "%s is a directory, expected a file", value)
	}
}

func (v *validator) channels(p string, ch Channels) {
	if w := ch.WhatsApp; w != nil {
		q := p + ".whatsapp"
		v.required(q+".phone_number_id", w.PhoneNumberID)
		v.required(q+".access_token", w.AccessToken)
		v.required(q+".app_secret", w.AppSecret)
		v.required(q+".verify_token", w.VerifyToken)
		v.url(q+".api_base", w.APIBase)
		if (w.Template.Name == "") != (w.Template.Language == "") {
			v.add(q+".template", "name and language go together")
		}
	}
	if m := ch.Messenger; m != nil {
		q := p + ".messenger"
		if v.required(q+".page_id", m.PageID) && !digitsOnly(m.PageID) {
			v.add(q+".page_id", "must be the Page's numeric id (not \"me\"): webhooks are matched on it")
		}
		v.required(q+".page_access_token", m.PageAccessToken)
		v.required(q+".app_secret", m.AppSecret)
		v.required(q+".verify_token", m.VerifyToken)
		v.url(q+".api_base", m.APIBase)
	}
	if t := ch.Twilio; t != nil {
		q := p + ".twilio"
		v.required(q+".account_sid", t.AccountSID)
		v.required(q+".auth_token", t.AuthToken)
		if v.required(q+".from", t.From) && !v.sender.MatchString(t.From) {
			v.add(q+".from", "must be an E.164 number (+15005550006) or a messaging service SID (MG...)")
		}
		v.url(q+".public_url", t.PublicURL)
		v.url(q+".api_base", t.APIBase)
	}
	if w := ch.WebChat; w != nil && w.IdentitySecret != "" && len(w.IdentitySecret) < 16 {
		v.add(p+".webchat.identity_secret", "too short: use at least 16 characters")
	}
}

// queues validates every queue and returns the valid ids with their index.
func (v *validator) queues(bots map[string]int) map[string]int {
	ids := map[string]int{}
	for i, q := range v.cfg.Queues {
		p := fmt.Sprintf("queues[%d]", i)
		if v.id(p+".id", q.ID) {
			if j, dup := ids[q.ID]; dup {
				v.add(p+".id", "%q is already used by queues[%d]", q.ID, j)
			} else {
				ids[q.ID] = i
			}
		}
		if v.required(p+".bot", q.Bot) {
			if _, ok := bots[q.Bot]; !ok {
				v.add(p+".bot", "no bot with id %q", q.Bot)
			}
		}
		if _, ok := PriorityLevel(q.Priority); !ok {
			v.add(p+".priority", "must be one of low, normal, high, urgent; got %q", q.Priority)
		}
		v.sla(p+".sla", q.SLA)
		if _, err := baton.ParseHours(q.Hours.Timezone, q.Hours.Days); err != nil {
			v.add(p+".hours", "%s", baton.ErrorMessage(err))
		}
	}
	// Fallbacks are checked once every id is known, so that order in the
	// file does not matter.
	for i, q := range v.cfg.Queues {
		f := q.SLA.FallbackQueue
		p := fmt.Sprintf("queues[%d].sla.fallback_queue", i)
		switch {
		case f == "" && q.SLA.BreachAction == "reroute":
			v.add(p, "required when breach_action is reroute")
		case f == "":
		case f == q.ID:
			v.add(p, "a queue cannot fall back to itself")
		default:
			if _, ok := ids[f]; !ok {
				v.add(p, "no queue with id %q", f)
			}
		}
	}
	return ids
}

func (v *validator) sla(p string, s SLA) {
	for _, part := range []struct {
		name    string
		targets map[string]Duration
	}{{"first_response", s.FirstResponse}, {"next_response", s.NextResponse}} {
		for _, prio := range sortedKeys(part.targets) {
			q := p + "." + part.name + "." + prio
			if _, ok := PriorityLevel(prio); !ok {
				v.add(q, "unknown priority: use low, normal, high or urgent")
				continue
			}
			v.duration(q, part.targets[prio], true)
		}
	}
	if r := s.WarnRatio; r != nil && (*r <= 0 || *r >= 1) {
		v.add(p+".warn_ratio", "must be between 0 and 1 (exclusive), got %g", *r)
	}
	switch s.BreachAction {
	case "", "notify", "escalate_priority", "reroute":
	default:
		v.add(p+".breach_action", "must be notify, escalate_priority or reroute; got %q", s.BreachAction)
	}
}

// escalationQueues checks that every queue an escalation may go to exists
// and is the bot's.
func (v *validator) escalationQueues(bots, queues map[string]int) {
	for i, b := range v.cfg.Bots {
		for _, ref := range b.Escalation.queueRefs(fmt.Sprintf("bots[%d].escalation", i)) {
			if ref.queue == "" {
				continue
			}
			j, ok := queues[ref.queue]
			switch {
			case !ok:
				v.add(ref.path, "no queue with id %q", ref.queue)
			case v.cfg.Queues[j].Bot != b.ID:
				v.add(ref.path, "queue %q belongs to bot %q", ref.queue, v.cfg.Queues[j].Bot)
			}
		}
	}
}

func (v *validator) agents(bots, queues map[string]int) {
	ids := map[string]int{}
	skills := map[string]bool{} // every skill some queue needs
	for _, q := range v.cfg.Queues {
		for _, s := range q.Skills {
			skills[s] = true
		}
	}
	for i, a := range v.cfg.Agents {
		p := fmt.Sprintf("agents[%d]", i)
		if v.id(p+".id", a.ID) {
			if j, dup := ids[a.ID]; dup {
				v.add(p+".id", "%q is already used by agents[%d]", a.ID, j)
			} else {
				ids[a.ID] = i
			}
		}
		v.required(p+".name", a.Name)
		if a.Bot != "" {
			if _, ok := bots[a.Bot]; !ok {
				v.add(p+".bot", "no bot with id %q", a.Bot)
			}
		}
		if a.Email != "" {
			if addr, err := mail.ParseAddress(a.Email); err != nil || addr.Address != a.Email {
				v.add(p+".email", "not an e-mail address")
			}
		}
		for j, s := range a.Skills {
			if !skills[s] {
				v.add(fmt.Sprintf("%s.skills[%d]", p, j), "%q is not a skill of any queue", s)
			}
		}
		for _, k := range sortedKeys(a.Capacity) {
			q := p + ".capacity." + k
			if !baton.ChannelKind(k).Valid() {
				v.add(q, "unknown channel kind: use whatsapp, messenger, sms or webchat")
			} else if a.Capacity[k] < 0 {
				v.add(q, "must not be negative")
			}
		}
	}
}

// Warnings are what is valid but likely wrong: a queue whose skills no
// configured agent has. Not an error, as agents are also defined through
// the agent API (PUT /api/v1/agents/{id}); but when the file's agents are
// all there are, every escalation routed to it waits for nobody.
func (c *Config) Warnings() []string {
	var out []string
	if len(c.Agents) == 0 {
		return nil
	}
	for i, q := range c.Queues {
		served := false
		for _, a := range c.Agents {
			ag := baton.Agent{Skills: a.Skills}
			if (a.Bot == "" || a.Bot == q.Bot) && ag.HasSkills(q.Skills) {
				served = true
				break
			}
		}
		if !served {
			out = append(out, fmt.Sprintf("queues[%d].skills: no configured agent has all of %v; its escalations wait until an agent who has them is defined through the agent API", i, q.Skills))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
