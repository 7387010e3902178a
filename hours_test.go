package baton

import (
	"strings"
	"testing"
	"time"
)

func mustHours(t *testing.T, zone string, days map[string]string) Hours {
	t.Helper()
	h, err := ParseHours(zone, days)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParseHours(t *testing.T) {
	tests := []struct {
		zone string
		days map[string]string
		want string
	}{
		{"Mars/Olympus", map[string]string{"mon": "09:00-17:00"}, "not an IANA time zone"},
		{"Europe/London", nil, "no opening hours"},
		{"Europe/London", map[string]string{"someday": "09:00-17:00"}, "days.someday: not a day"},
		{"Europe/London", map[string]string{"mon-xyz": "09:00-17:00"}, "not a range of days"},
		{"Europe/London", map[string]string{"mon": "17:00-09:00"}, "ends after it starts"},
		{"Europe/London", map[string]string{"mon": "9 to 5"}, "not a span"},
		{"Europe/London", map[string]string{"mon-fri": "09:00-17:00", "fri": "10:00-12:00"}, "is also in"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if _, err := ParseHours(tc.zone, tc.days); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	if h, err := ParseHours("", nil); err != nil || !h.Always() {
		t.Fatalf("no hours: %v %v, want always open", h, err)
	}
}

func TestHours(t *testing.T) {
	london, _ := time.LoadLocation("Europe/London")
	h := mustHours(t, "Europe/London", map[string]string{"mon-fri": "09:00-17:00", "sat": "10:00-12:00"})
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, london)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// 2026-12-04 is a Friday.
	tests := []struct {
		name  string
		start string
		add   time.Duration
		open  bool
		next  string
		due   string
	}{
		{"inside the day", "2026-12-04 10:00", 2 * time.Hour, true, "2026-12-04 10:00", "2026-12-04 12:00"},
		{"across the close into saturday", "2026-12-04 16:00", 2 * time.Hour, true, "2026-12-04 16:00", "2026-12-05 11:00"},
		{"friday evening waits for saturday", "2026-12-04 19:00", 30 * time.Minute, false, "2026-12-05 10:00", "2026-12-05 10:30"},
		{"across the weekend", "2026-12-05 11:30", 4 * time.Hour, true, "2026-12-05 11:30", "2026-12-07 12:30"},
		{"sunday", "2026-12-06 12:00", time.Hour, false, "2026-12-07 09:00", "2026-12-07 10:00"},
		{"a working week and a saturday", "2026-12-07 09:00", 42 * time.Hour, true, "2026-12-07 09:00", "2026-12-12 12:00"},
		{"more than a working week", "2026-12-07 09:00", 43 * time.Hour, true, "2026-12-07 09:00", "2026-12-14 10:00"},
		{"before the clocks go forward", "2026-03-27 16:30", time.Hour, true, "2026-03-27 16:30", "2026-03-28 10:30"},
		{"across the clocks going forward, nine stays nine", "2026-03-27 16:30", 8 * time.Hour, true, "2026-03-27 16:30", "2026-03-30 14:30"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := at(tc.start)
			if got := h.Open(s); got != tc.open {
				t.Errorf("Open(%s) = %v", tc.start, got)
			}
			if got := h.NextOpen(s); !got.Equal(at(tc.next)) {
				t.Errorf("NextOpen(%s) = %s, want %s", tc.start, got.In(london), tc.next)
			}
			if got := h.Add(s, tc.add); !got.Equal(at(tc.due)) {
				t.Errorf("Add(%s, %s) = %s, want %s", tc.start, tc.add, got.In(london), tc.due)
			}
		})
	}
	if got := h.Describe(at("2026-12-04 19:00")); got != "Saturday 10:00 (Europe/London)" {
		t.Errorf("Describe = %q", got)
	}
	var always Hours
	if s := at("2026-12-06 03:00"); !always.Open(s) || !always.Add(s, time.Hour).Equal(s.Add(time.Hour)) || always.Describe(s) != "" {
		t.Error("the zero Hours are not always open")
	}
}
