package slack

import "testing"

func TestPlainText(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"ampersand", "Tom &amp; Jerry", "Tom & Jerry"},
		{"angle brackets typed", "size &lt; 42 &gt; 40", "size < 42 > 40"},
		{"escaped entity stays literal once", "&amp;lt;", "&lt;"},
		{"bare link", "see <https://stride.example/returns>", "see https://stride.example/returns"},
		{"link shown as typed", "<https://stride.example|stride.example>", "https://stride.example"},
		{"link with a label", "<https://stride.example/r?a=1&amp;b=2|our returns page>", "our returns page (https://stride.example/r?a=1&b=2)"},
		{"mailto", "write <mailto:help@stride.example|help@stride.example>", "write help@stride.example"},
		{"user mention", "ask <@U024BE7LH>", "ask @U024BE7LH"},
		{"channel", "in <#C024BE7LR|general>", "in #general"},
		{"special mention", "<!here> look", "@here look"},
		{"plain", "Your order ships tomorrow.", "Your order ships tomorrow."},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := plainText(c.in); got != c.want {
				t.Errorf("plainText(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}
