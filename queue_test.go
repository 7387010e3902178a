package baton

import "testing"

func TestPriorityNames(t *testing.T) {
	for p, want := range map[int]string{PriorityLow: "low", PriorityNormal: "normal", PriorityHigh: "high", PriorityUrgent: "urgent", 7: "7", -1: "-1"} {
		t.Run(want, func(t *testing.T) {
			if got := PriorityName(p); got != want {
				t.Errorf("PriorityName(%d) = %q, want %q", p, got, want)
			}
			got, ok := ParsePriority(want)
			if inRange := p >= PriorityLow && p <= PriorityUrgent; ok != inRange || (ok && got != p) {
				t.Errorf("ParsePriority(%q) = %d, %v", want, got, ok)
			}
		})
	}
}
