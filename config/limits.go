package config

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/batonhq/baton/limit"
)

// Limits are what one client (or one conversation) may make the server do.
// Every value may be "off" or 0; unset takes the default below.
type Limits struct {
	// WebChatPostsPerVisitor and WebChatPostsPerAddress bound web chat
	// messages per visitor (or signed-in user) and per client address.
	WebChatPostsPerVisitor Rate `yaml:"webchat_posts_per_visitor"`
	WebChatPostsPerAddress Rate `yaml:"webchat_posts_per_address"`
	// WebChatStreamsPerVisitor and WebChatStreamsTotal bound open reply
	// streams: each holds a connection and polls the database.
	WebChatStreamsPerVisitor Count `yaml:"webchat_streams_per_visitor"`
	WebChatStreamsTotal      Count `yaml:"webchat_streams_total"`
	// FailedAuthPerAddress bounds failed admin (and agent) sign-ins per
	// client address; past it, the address is refused before any check.
	FailedAuthPerAddress Rate `yaml:"failed_auth_per_address"`
	// BotTurnsPerConversation bounds the bot's turns in one conversation,
	// the cost guard once a paid language model answers.
	BotTurnsPerConversation Rate `yaml:"bot_turns_per_conversation"`
}

// DefaultLimits are the limits the file leaves unset.
func DefaultLimits() Limits {
	return Limits{
		WebChatPostsPerVisitor:   "20/1m",
		WebChatPostsPerAddress:   "60/1m",
		WebChatStreamsPerVisitor: "3",
		WebChatStreamsTotal:      "500",
		FailedAuthPerAddress:     "10/1m",
		BotTurnsPerConversation:  "6/1m",
	}
}

func (l *Limits) applyDefaults() {
	def := DefaultLimits()
	for _, p := range []struct{ dst, def *Rate }{
		{&l.WebChatPostsPerVisitor, &def.WebChatPostsPerVisitor},
		{&l.WebChatPostsPerAddress, &def.WebChatPostsPerAddress},
		{&l.FailedAuthPerAddress, &def.FailedAuthPerAddress},
		{&l.BotTurnsPerConversation, &def.BotTurnsPerConversation},
	} {
		if *p.dst == "" {
			*p.dst = *p.def
		}
	}
	for _, p := range []struct{ dst, def *Count }{
		{&l.WebChatStreamsPerVisitor, &def.WebChatStreamsPerVisitor},
		{&l.WebChatStreamsTotal, &def.WebChatStreamsTotal},
	} {
		if *p.dst == "" {
			*p.dst = *p.def
		}
	}
}

// Rate is a rate written "<count>/<duration>" ("20/1m", "100/1h",
// "1000/7d"), or "off" / "0".
type Rate string

// Value returns the parsed rate (zero: off); call it only on a validated
// Config.
func (r Rate) Value() limit.Rate {
	v, _ := parseRate(string(r))
	return v
}

func parseRate(s string) (limit.Rate, bool) {
	s = strings.TrimSpace(s)
	if isOff(s) {
		return limit.Rate{}, true
	}
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return limit.Rate{}, false
	}
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || count < 1 || count > maxLimit {
		return limit.Rate{}, false
	}
	d, err := parseDuration(per)
	if err != nil || d <= 0 {
		return limit.Rate{}, false
	}
	return limit.Rate{N: count, Per: d}, true
}

// Count is a whole number, or "off" / "0".
type Count string

// Value returns the parsed count (0: off); call it only on a validated
// Config.
func (c Count) Value() int {
	v, _ := parseCount(string(c))
	return v
}

func parseCount(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if isOff(s) {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > maxLimit {
		return 0, false
	}
	return n, true
}

func isOff(s string) bool { return s == "off" || s == "0" }

// maxLimit bounds counts: a larger one is a typo, not a limit.
const maxLimit = 1_000_000

func (v *validator) limits() {
	l := v.cfg.Server.Limits
	for _, r := range []struct {
		name string
		rate Rate
	}{
		{"webchat_posts_per_visitor", l.WebChatPostsPerVisitor},
		{"webchat_posts_per_address", l.WebChatPostsPerAddress},
		{"failed_auth_per_address", l.FailedAuthPerAddress},
		{"bot_turns_per_conversation", l.BotTurnsPerConversation},
	} {
		if _, ok := parseRate(string(r.rate)); !ok {
			v.add("server.limits."+r.name, "not a rate (%q); write <count>/<duration> such as 20/1m or 100/1h (count 1 to %d), or off", string(r.rate), maxLimit)
		}
	}
	for _, c := range []struct {
		name  string
		count Count
	}{
		{"webchat_streams_per_visitor", l.WebChatStreamsPerVisitor},
		{"webchat_streams_total", l.WebChatStreamsTotal},
	} {
		if _, ok := parseCount(string(c.count)); !ok {
			v.add("server.limits."+c.name, "not a count (%q); write a whole number up to %d, or off", string(c.count), maxLimit)
		}
	}
	s := v.cfg.Server
	for i, p := range s.TrustedProxies {
		if _, err := limit.ParsePrefix(p); err != nil {
			v.add("server.trusted_proxies["+strconv.Itoa(i)+"]", "%q is not an IP address or CIDR range (10.0.0.0/8)", p)
		}
	}
	if s.ProxyHeader != "" {
		switch {
		case len(s.TrustedProxies) == 0:
			v.add("server.proxy_header", "has no effect without server.trusted_proxies: the header is only read from trusted proxies")
		case !validHeaderName(s.ProxyHeader):
			v.add("server.proxy_header", "%q is not an HTTP header name", s.ProxyHeader)
		}
	}
}

func validHeaderName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Proxies is who the server believes about the client's address: the
// trusted proxies' forwarding header, or nobody's (nil). Call it only on a
// validated Config.
func (s Server) Proxies() *limit.Proxies {
	if len(s.TrustedProxies) == 0 {
		return nil
	}
	prefixes := make([]netip.Prefix, 0, len(s.TrustedProxies))
	for _, p := range s.TrustedProxies {
		if pf, err := limit.ParsePrefix(p); err == nil {
			prefixes = append(prefixes, pf)
		}
	}
	return limit.NewProxies(prefixes, s.ProxyHeader)
}
