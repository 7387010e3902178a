package baton

import (
	"strconv"
	"time"
)

// Priority levels used by SLA policies; higher is more urgent.
const (
	PriorityLow    = 0
	PriorityNormal = 1
	PriorityHigh   = 2
	PriorityUrgent = 3
)

// PriorityName names priority level p (low, normal, high, urgent), as
// configuration, metrics and people say it, or gives its number when it is
// none of them.
func PriorityName(p int) string {
	switch p {
	case PriorityLow:
		return "low"
	case PriorityNormal:
		return "normal"
	case PriorityHigh:
		return "high"
	case PriorityUrgent:
		return "urgent"
	}
	return strconv.Itoa(p)
}

// ParsePriority reads a priority level's name.
func ParsePriority(name string) (int, bool) {
	for p := PriorityLow; p <= PriorityUrgent; p++ {
		if PriorityName(p) == name {
			return p, true
		}
	}
	return 0, false
}

// Queue is where escalated conversations wait for an agent. Queues come from
// configuration.
type Queue struct {
	ID           string
	BotID        string
	Name         string
	Skills       []string // an agent needs all of them
	Priority     int      // default priority of conversations routed here
	SLA          SLAPolicy
	SlackChannel string
	Fallback     string // queue to re-route to on breach
	Hours        Hours  // when its people work; the zero Hours are always open
}

// SLAPolicy says how fast a queue must answer and what happens when it does
// not.
type SLAPolicy struct {
	FirstResponse map[int]time.Duration // by priority
	NextResponse  map[int]time.Duration // by priority
	WarnRatio     float64               // warn when this share of the target has passed (e.g. 0.8)
	BreachAction  string                // "notify", "escalate_priority", "reroute"
}
