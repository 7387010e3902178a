package bots

import (
	"regexp"
	"strings"

	"github.com/batonhq/baton"
)

// Markdown the KB's articles use inside a passage, and what each channel
// shows of it: WhatsApp has its own bold and italics (*bold*, _italic_),
// the others show plain text.
var (
	mdBold   = regexp.MustCompile(`\*\*([^*\n]+)\*\*|__([^_\n]+)__`)
	mdItalic = regexp.MustCompile(`(^|[^*\w])\*([^*\n]+)\*([^*\w]|$)`)
	mdCode   = regexp.MustCompile("`([^`\n]+)`")
	mdLink   = regexp.MustCompile(`\[([^\]\n]+)\]\((https?://[^)\s]+)\)`)
	mdBullet = regexp.MustCompile(`(?m)^(\s*)[-*+] `)
)

// ForChannel renders a KB passage written in Markdown the way the channel
// shows text: links as "text (url)", list bullets as "•", bold and italics
// in WhatsApp's own marks or dropped elsewhere.
func ForChannel(ch baton.ChannelKind, md string) string {
	s := mdLink.ReplaceAllString(md, "$1 ($2)")
	s = mdCode.ReplaceAllString(s, "$1")
	s = mdBullet.ReplaceAllString(s, "${1}• ")
	if ch == baton.ChannelWhatsApp {
		s = mdItalic.ReplaceAllString(s, "${1}_${2}_${3}")
		s = mdBold.ReplaceAllString(s, "*$1$2*")
		return s
	}
	s = mdBold.ReplaceAllString(s, "$1$2")
	s = mdItalic.ReplaceAllString(s, "$1$2$3")
	return strings.TrimSpace(s)
}
