package channels_test

import (
	"strings"
	"testing"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/channels"
)

func TestProviderText(t *testing.T) {
	upper := baton.RedactFunc(strings.ToUpper) // shows that the redactor ran
	tests := []struct {
		name   string
		redact baton.Redactor
		in     string
		want   string
	}{
		{"no redactor: withheld", nil, "No matching user found for 1254459154682919", ""},
		{"ids and numbers", upper, "(#100) no user 1254459154682919, wa_id 16505551234", "(#100) NO USER [NUMBER], WA_ID [NUMBER]"},
		{"codes and short numbers kept", upper, "error 131026 after 3 tries (subcode 2018278)", "ERROR 131026 AFTER 3 TRIES (SUBCODE 2018278)"},
		{"empty", upper, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := channels.ProviderText(tc.redact, tc.in); got != tc.want {
				t.Errorf("ProviderText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
