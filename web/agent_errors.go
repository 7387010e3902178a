package web

import (
	"errors"

	"github.com/batonhq/baton"
)

// detailed is an error whose body carries fields a client acts on, next
// to its code and message: a console offers the templates when the window
// is closed without parsing a message.
type detailed struct {
	error
	fields map[string]any
}

func (d detailed) Unwrap() error { return d.error }

// windowClosed is the answer to free text the channel's window does not
// allow now: 409, reason "window_closed", and the window with the
// templates that may be sent. The request was well formed; the
// conversation's state is what refuses it, and a template resolves that.
func windowClosed(cause error, w baton.Window) error {
	return detailed{
		error:  baton.WrapError(baton.ECONFLICT, cause, ""),
		fields: map[string]any{"reason": "window_closed", "window": toWindowJSON(w)},
	}
}

// refusalJSON is why an assignment was refused (baton.AssignRefused).
type refusalJSON struct {
	ConversationID int64  `json:"conversation_id"`
	Agent          string `json:"agent"`
	Reason         string `json:"reason"`
	State          string `json:"state"`
	Owner          string `json:"owner,omitempty"`
	Status         string `json:"status,omitempty"`
	Channel        string `json:"channel,omitempty"`
	Load           int    `json:"load"`
	Capacity       int    `json:"capacity"`
}

// errorDetails are the fields err adds to its error body: a refused
// assignment says who has the conversation or what the agent's load is
// (reason: taken, moved, unavailable or full); a detailed error its own.
func errorDetails(err error) map[string]any {
	var d detailed
	if errors.As(err, &d) {
		return d.fields
	}
	if r, ok := baton.AsAssignRefused(err); ok && baton.ErrorCode(err) == baton.ECONFLICT {
		return map[string]any{"reason": r.Reason, "refused": refusalJSON{
			ConversationID: r.ConversationID, Agent: r.AgentID, Reason: r.Reason, State: string(r.State),
			Owner: r.Owner, Status: string(r.Status), Channel: string(r.Channel), Load: r.Load, Capacity: r.Capacity,
		}}
	}
	return nil
}
