package limit

import (
	"net"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/batonhq/baton"
)

// Proxies says whose forwarding header to believe. By default (nil, or no
// trusted proxies) the client is the TCP peer and X-Forwarded-For is
// ignored: anyone can send it, and a limit keyed by it would be one fresh
// bucket per made-up address.
type Proxies struct {
	trusted []netip.Prefix
	header  string
}

// NewProxies trusts the forwarding header (X-Forwarded-For when "") of
// requests whose peer is in one of the prefixes.
func NewProxies(trusted []netip.Prefix, header string) *Proxies {
	if header == "" {
		header = fiber.HeaderXForwardedFor
	}
	return &Proxies{trusted: trusted, header: header}
}

// ParsePrefix reads a trusted proxy as written in configuration: an
// address (10.0.0.7, ::1) or a CIDR range (10.0.0.0/8).
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, baton.Errorf(baton.EINVALID, "not an address or CIDR range: %w", err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, baton.Errorf(baton.EINVALID, "not an address or CIDR range: %w", err)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func (p *Proxies) isTrusted(a netip.Addr) bool {
	for _, t := range p.trusted {
		if t.Contains(a) {
			return true
		}
	}
	return false
}

// Client returns the client's address. Behind trusted proxies it walks the
// forwarding header from the right, past every trusted proxy, to the first
// address a trusted proxy vouched for; entries further left were written
// by the client and prove nothing. The result is a new string that may
// outlive the request.
func (p *Proxies) Client(c *fiber.Ctx) string {
	peer := addrOf(c.Context().RemoteIP())
	if p == nil || len(p.trusted) == 0 || !p.isTrusted(peer) {
		return peer.String()
	}
	var hops []string
	for _, v := range c.Request().Header.PeekAll(p.header) {
		hops = append(hops, strings.Split(string(v), ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break // what a client wrote; the last trusted hop is the best we know
		}
		client = a
		if !p.isTrusted(a) {
			break
		}
	}
	return client.String()
}

func addrOf(ip net.IP) netip.Addr {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.IPv4Unspecified()
	}
	return a.Unmap()
}

// parseHop reads one forwarding entry: an address, possibly with a port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// AddressKey is the limiter key of a client address: the address for IPv4,
// its /64 for IPv6, since one subscriber usually holds a whole /64 and
// could otherwise take a new bucket with every address of it.
func AddressKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is6() {
		return addr
	}
	p, err := a.Prefix(64)
	if err != nil {
		return addr
	}
	return p.String()
}
