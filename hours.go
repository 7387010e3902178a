package baton

import (
	"fmt"
	"strings"
	"time"
)

// Hours are when a queue's people work: per weekday, one opening span in
// the queue's time zone. SLA targets count working time only, and a
// customer escalated while the queue is closed is told when a person will
// answer. The zero Hours are always open.
type Hours struct {
	loc  *time.Location
	days [7]span // by time.Weekday
	set  bool
}

// span is an opening time within a day, as offsets from midnight; a zero
// span is a closed day.
type span struct{ open, close time.Duration }

func (s span) closed() bool { return s.close <= s.open }

// ParseHours reads a queue's hours: a time zone (IANA name) and, for each
// day that is open, "HH:MM-HH:MM" by day name (mon … sun), with "mon-fri"
// style ranges allowed as keys. Days not listed are closed.
func ParseHours(zone string, days map[string]string) (Hours, error) {
	if zone == "" && len(days) == 0 {
		return Hours{}, nil
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" {
		return Hours{}, Errorf(EINVALID, "timezone: %q is not an IANA time zone (e.g. Europe/London)", zone)
	}
	h := Hours{loc: loc, set: true}
	if len(days) == 0 {
		return Hours{}, Errorf(EINVALID, "days: no opening hours: list the days the queue is open")
	}
	seen := map[time.Weekday]string{}
	for key, val := range days {
		wds, err := weekdays(key)
		if err != nil {
			return Hours{}, err
		}
		sp, err := parseSpan(val)
		if err != nil {
			return Hours{}, Errorf(EINVALID, "days.%s: %w", key, err)
		}
		for _, d := range wds {
			if other, dup := seen[d]; dup {
				return Hours{}, Errorf(EINVALID, "days.%s: %s is also in days.%s", key, d, other)
			}
			seen[d] = key
			h.days[d] = sp
		}
	}
	return h, nil
}

// weekdays reads a day name or a range of them ("mon-fri").
func weekdays(key string) ([]time.Weekday, error) {
	names := [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	index := func(name string) (int, bool) {
		for i, d := range names {
			if d == strings.ToLower(strings.TrimSpace(name)) {
				return i, true
			}
		}
		return 0, false
	}
	from, to, isRange := strings.Cut(key, "-")
	a, ok := index(from)
	if !ok {
		return nil, Errorf(EINVALID, "days.%s: not a day (mon, tue, wed, thu, fri, sat, sun, or a range like mon-fri)", key)
	}
	if !isRange {
		return []time.Weekday{time.Weekday(a)}, nil
	}
	b, ok := index(to)
	if !ok {
		return nil, Errorf(EINVALID, "days.%s: not a range of days (like mon-fri)", key)
	}
	var out []time.Weekday
	for i := a; ; i = (i + 1) % 7 {
		out = append(out, time.Weekday(i))
		if i == b {
			return out, nil
		}
	}
}

func parseSpan(v string) (span, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(v), "-")
	if !ok {
		return span{}, fmt.Errorf("%q is not a span like 09:00-18:00", v)
	}
	clock := func(s string) (time.Duration, bool) {
		t, err := time.Parse("15:04", strings.TrimSpace(s))
		if err != nil {
			if strings.TrimSpace(s) == "24:00" {
				return 24 * time.Hour, true
			}
			return 0, false
		}
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, true
	}
	o, ok1 := clock(from)
	c, ok2 := clock(to)
	if !ok1 || !ok2 || c <= o {
		return span{}, fmt.Errorf("%q is not a span like 09:00-18:00 that ends after it starts", v)
	}
	return span{o, c}, nil
}

// Always reports whether the queue is open around the clock.
func (h Hours) Always() bool { return !h.set }

// Open reports whether the queue is open at t.
func (h Hours) Open(t time.Time) bool {
	if !h.set {
		return true
	}
	l := t.In(h.loc)
	sp := h.days[l.Weekday()]
	off := sinceMidnight(l)
	return !sp.closed() && off >= sp.open && off < sp.close
}

// NextOpen is t when the queue is open then, else when it next opens.
func (h Hours) NextOpen(t time.Time) time.Time {
	if !h.set || h.Open(t) {
		return t
	}
	l := t.In(h.loc)
	for i := 0; i < 8; i++ {
		day := midnight(l).AddDate(0, 0, i)
		sp := h.days[day.Weekday()]
		if sp.closed() {
			continue
		}
		open := atOffset(day, sp.open)
		if open.After(l) || open.Equal(l) {
			return open.In(t.Location())
		}
	}
	return t // a queue with no open day never opens; callers validate that
}

// Add is start plus d of working time: the moment d of open hours have
// passed since start. SLA targets are working time.
func (h Hours) Add(start time.Time, d time.Duration) time.Time {
	if !h.set {
		return start.Add(d)
	}
	t := h.NextOpen(start).In(h.loc)
	for i := 0; i < 400*7 && d > 0; i++ {
		sp := h.days[t.Weekday()]
		end := atOffset(midnight(t), sp.close)
		if left := end.Sub(t); d <= left {
			return t.Add(d).In(start.Location())
		} else if left > 0 {
			d -= left
		}
		t = h.NextOpen(end.Add(time.Nanosecond)).In(h.loc)
	}
	return t.In(start.Location())
}

// Describe says when a closed queue opens, for the customer: "Monday
// 09:00 (Europe/London)".
func (h Hours) Describe(t time.Time) string {
	if !h.set {
		return ""
	}
	n := h.NextOpen(t).In(h.loc)
	return fmt.Sprintf("%s %s (%s)", n.Weekday(), n.Format("15:04"), h.loc)
}

func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// atOffset is the wall-clock time off after day's midnight (so that a
// daylight-saving change keeps "09:00" at nine).
func atOffset(day time.Time, off time.Duration) time.Time {
	h, m := int(off/time.Hour), int(off%time.Hour/time.Minute)
	return time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, day.Location())
}

func sinceMidnight(t time.Time) time.Duration {
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second +
		time.Duration(t.Nanosecond())
}
