package slack

import (
	"regexp"
	"strings"
)

// slackEntity is a Slack formatting entity in a message's text: <url>,
// <url|label>, <@U…>, <#C…|name>, <!here>.
var slackEntity = regexp.MustCompile(`<([^<>|]*)(?:\|([^<>]*))?>`)

// plainText turns the text of a Slack message into what a customer on
// another channel should read. Slack escapes &, < and > in what people
// type and wraps links and mentions in <…>; sent on as they are, "Tom &
// Jerry" would reach a WhatsApp customer as "Tom &amp; Jerry". A link
// keeps its URL (and its label when it has one of its own), a mailto its
// address, a mention or channel its name.
func plainText(s string) string {
	s = slackEntity.ReplaceAllStringFunc(s, func(m string) string {
		sub := slackEntity.FindStringSubmatch(m)
		target, label := sub[1], sub[2]
		switch {
		case strings.HasPrefix(target, "mailto:"):
			return strings.TrimPrefix(target, "mailto:")
		case strings.HasPrefix(target, "@"), strings.HasPrefix(target, "#"):
			if label != "" {
				return target[:1] + label
			}
			return target
		case strings.HasPrefix(target, "!"):
			if label != "" {
				return label
			}
			return "@" + strings.TrimPrefix(target, "!")
		case label == "" || label == target || strings.TrimPrefix(strings.TrimPrefix(target, "https://"), "http://") == label:
			return target
		}
		return label + " (" + target + ")"
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}
