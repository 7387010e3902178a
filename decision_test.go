package baton_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func TestDecisionValidate(t *testing.T) {
	tests := []struct {
		name string
		d    baton.Decision
		want string // "" = valid; else a part of the message
	}{
		{"answer", baton.Decision{Action: baton.ActionAnswer, Took: time.Millisecond, State: json.RawMessage(`{"asked":"order"}`)}, ""},
		{"every action", baton.Decision{Action: baton.ActionNone}, ""},
		{"no state", baton.Decision{Action: baton.ActionWait, State: json.RawMessage{}}, ""},
		{"no action", baton.Decision{ConversationID: 7}, "decision on conversation 7: action is required; use answer, action, clarify"},
		{"unknown action", baton.Decision{ConversationID: 7, Action: "reply"}, `unknown action "reply"`},
		{"actions are lower case", baton.Decision{Action: "Escalate"}, "unknown action"},
		{"negative duration", baton.Decision{Action: baton.ActionAnswer, Took: -time.Second}, "cannot be negative"},
		{"state not JSON", baton.Decision{Action: baton.ActionAnswer, State: json.RawMessage(`{"asked"`)}, "state is not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.d.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if baton.ErrorCode(err) != baton.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v (code %q), want EINVALID containing %q", err, baton.ErrorCode(err), tc.want)
			}
		})
	}
	for _, a := range []string{baton.ActionAnswer, baton.ActionAction, baton.ActionClarify, baton.ActionEscalate, baton.ActionArchive, baton.ActionWait, baton.ActionNone} {
		if !baton.ValidAction(a) {
			t.Errorf("ValidAction(%q) = false", a)
		}
	}
}
