package storetest

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

func (s *suite) testAgents(t *testing.T) {
	st, clock, ctx := s.fresh(t)
	ada := &baton.Agent{ID: "ada", Name: "Ada", Email: "ada@example.com", Skills: []string{"billing", "tr"},
		Capacity: map[baton.ChannelKind]int{baton.ChannelWhatsApp: 3, baton.ChannelWebChat: 5}, Status: baton.AgentOnline, SlackUserID: "U1"}
	bob := &baton.Agent{ID: "bob", BotID: "shop", Name: "Bob", SlackUserID: "U2"}
	must(t, st.UpsertAgent(ctx, ada), "upsert ada")
	must(t, st.UpsertAgent(ctx, bob), "upsert bob")

	t.Run("get", func(t *testing.T) {
		got, err := st.GetAgent(ctx, "ada")
		must(t, err, "GetAgent")
		if got.Name != "Ada" || got.Email != ada.Email || !reflect.DeepEqual(got.Skills, ada.Skills) ||
			!reflect.DeepEqual(got.Capacity, ada.Capacity) || got.Status != baton.AgentOnline || got.SlackUserID != "U1" || got.BotID != "" {
			t.Fatalf("got %+v, want %+v", got, ada)
		}
		wantTime(t, "UpdatedAt", got.UpdatedAt, clock.Now())
		b, err := st.GetAgent(ctx, "bob")
		must(t, err, "GetAgent bob")
		if b.Status != baton.AgentOffline || b.BotID != "shop" {
			t.Fatalf("new agent without status = %q bot %q, want offline, shop", b.Status, b.BotID)
		}
		bySlack, err := st.GetAgentBySlackUser(ctx, "U2")
		must(t, err, "GetAgentBySlackUser")
		if bySlack.ID != "bob" {
			t.Fatalf("by slack = %s, want bob", bySlack.ID)
		}
	})

	t.Run("upsert updates the definition and keeps the status", func(t *testing.T) {
		now := clock.Advance(time.Hour)
		changed := &baton.Agent{ID: "ada", Name: "Ada L.", Skills: []string{"billing"}, SlackUserID: "U1"}
		must(t, st.UpsertAgent(ctx, changed), "upsert")
		got, err := st.GetAgent(ctx, "ada")
		must(t, err, "GetAgent")
		if got.Name != "Ada L." || !reflect.DeepEqual(got.Skills, []string{"billing"}) || got.Status != baton.AgentOnline {
			t.Fatalf("got %+v, want new name and skills, status online kept", got)
		}
		wantTime(t, "UpdatedAt", got.UpdatedAt, now)
	})

	t.Run("status", func(t *testing.T) {
		must(t, st.SetAgentStatus(ctx, "bob", baton.AgentAway), "SetAgentStatus")
		got, err := st.GetAgent(ctx, "bob")
		must(t, err, "GetAgent")
		if got.Status != baton.AgentAway {
			t.Fatalf("status = %q, want away", got.Status)
		}
		wantCode(t, st.SetAgentStatus(ctx, "bob", "asleep"), baton.EINVALID, "bad status")
		wantCode(t, st.SetAgentStatus(ctx, "nobody", baton.AgentOnline), baton.ENOTFOUND, "unknown agent")
	})

	t.Run("list and errors", func(t *testing.T) {
		all, err := st.ListAgents(ctx)
		must(t, err, "ListAgents")
		if len(all) != 2 || all[0].ID != "ada" || all[1].ID != "bob" {
			t.Fatalf("agents = %v, want ada, bob", all)
		}
		_, err = st.GetAgent(ctx, "nobody")
		wantCode(t, err, baton.ENOTFOUND, "GetAgent unknown")
		if msg := baton.ErrorMessage(err); !strings.Contains(msg, "nobody") {
			t.Errorf("GetAgent unknown: message %q does not name the agent", msg)
		}
		_, err = st.GetAgentBySlackUser(ctx, "U404")
		wantCode(t, err, baton.ENOTFOUND, "GetAgentBySlackUser unknown")
		wantCode(t, st.UpsertAgent(ctx, &baton.Agent{Name: "no id"}), baton.EINVALID, "upsert without id")
		wantCode(t, st.UpsertAgent(ctx, &baton.Agent{ID: "eve", Status: "asleep"}), baton.EINVALID, "upsert bad status")
	})
}
