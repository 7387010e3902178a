package bots

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name  string
		texts []string
		want  string
	}{
		{"one statement", []string{"hi", "My running shoes arrived with a torn sole", "yes"}, "My running shoes arrived with a torn sole"},
		{"first and latest, repeats left out", []string{"My order 12345 has not arrived", "where is my order 12345??", "My order 12345 has not arrived", "I need it before Saturday's race"},
			"My order 12345 has not arrived / where is my order 12345?? / I need it before Saturday's race"},
		{"only short messages: the latest", []string{"hi", "help"}, "help"},
		{"nothing", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Summarize(tc.texts); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("bounded", func(t *testing.T) {
		long := strings.Repeat("the parcel never came and nobody answers ", 30)
		texts := []string{long, "second statement about the refund", "third statement about the invoice"}
		got := Summarize(texts)
		if n := utf8.RuneCountInString(got); n > MaxSummary+10 {
			t.Fatalf("summary of %d characters", n)
		}
	})
}
