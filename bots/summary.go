package bots

import (
	"strings"
	"unicode/utf8"

	"github.com/batonhq/baton/nlu/words"
)

// MaxSummary bounds an extractive summary, in characters.
const MaxSummary = 400

// Summarize is the offline summary of a customer's problem, in their own
// words: the first message that states something (three words or more, not
// a greeting or a yes/no), then the latest ones that add to it, newest last,
// until MaxSummary characters. Messages that repeat an earlier one are left
// out. Texts should be redacted by the caller.
func Summarize(customerTexts []string) string {
	var kept []string
	for _, t := range customerTexts {
		t = strings.Join(strings.Fields(t), " ")
		if len(words.Split(t)) < 3 || ParseYesNo(t, "") != Neither {
			continue
		}
		dup := false
		for _, k := range kept {
			if LoopSimilarity(t, []string{k}) >= 0.75 {
				dup = true
				break
			}
		}
		if !dup {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		for i := len(customerTexts) - 1; i >= 0; i-- {
			if t := strings.TrimSpace(customerTexts[i]); t != "" {
				return clipRunes(t, MaxSummary)
			}
		}
		return ""
	}
	// The first statement, then as many of the latest as fit.
	out := []string{clipRunes(kept[0], MaxSummary)}
	used := utf8.RuneCountInString(out[0])
	var tail []string
	for i := len(kept) - 1; i >= 1; i-- {
		n := utf8.RuneCountInString(kept[i]) + 3
		if used+n > MaxSummary {
			break
		}
		used += n
		tail = append([]string{kept[i]}, tail...)
	}
	if len(tail) > 0 && len(tail) < len(kept)-1 {
		out = append(out, "…")
	}
	return strings.Join(append(out, tail...), " / ")
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
