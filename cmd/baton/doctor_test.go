package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/handoff"
	"github.com/batonhq/baton/store/postgres"
	"github.com/batonhq/baton/store/postgres/pgtest"
	"github.com/batonhq/baton/store/sqlite"
)

// TestDoctor: baton doctor finds each deliberately broken row, says what
// is wrong with it, and exits 1; a healthy database exits 0.
func TestDoctor(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testDoctor(t, "") })
	t.Run("postgres", func(t *testing.T) { testDoctor(t, pgtest.Schema(t)) })
}

func testDoctor(t *testing.T, databaseURL string) {
	ctx := context.Background()
	dir := t.TempDir()
	vars := map[string]string{"BATON_DATA_DIR": dir}
	if databaseURL != "" {
		vars["BATON_DATABASE_URL"] = databaseURL
	}
	doctor := func() (string, int) {
		t.Helper()
		var out, errOut bytes.Buffer
		e := &env{stdout: &out, stderr: &errOut, lookupEnv: config.MapEnv(vars)}
		code := run(ctx, []string{"doctor", "--log-level", "error"}, e)
		return out.String() + errOut.String(), code
	}
	var st baton.Store
	if databaseURL == "" {
		if out, code := doctor(); code != exitOK || !strings.Contains(out, "nothing to check") {
			t.Fatalf("no database: exit %d\n%s", code, out)
		}
		s, err := sqlite.Open(ctx, filepath.Join(dir, sqliteFile), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		st = s
	} else {
		s, err := postgres.Open(ctx, databaseURL, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		st = s
	}
	defer st.Close()
	if err := st.UpsertAgent(ctx, &baton.Agent{ID: "maya", Skills: []string{"en"}}); err != nil {
		t.Fatal(err)
	}
	open := func(addr string, moves ...baton.Transition) *baton.Conversation {
		cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: "shop", Channel: baton.ChannelSMS, Address: addr}, "")
		if err != nil {
			t.Fatal(err)
		}
		c := &baton.Conversation{BotID: "shop", CustomerID: cust.ID, Channel: baton.ChannelSMS, Address: addr}
		if err := st.CreateConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		for _, m := range moves {
			if c, _, err = st.TransitionConversation(ctx, c.ID, m); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	q, maya, ghost := "general", "maya", "ghost"
	open("+1001") // the bot's: fine
	queued := open("+1002", baton.Transition{To: baton.StateQueued, Actor: "bot", QueueID: &q})
	orphan := open("+1003", baton.Transition{To: baton.StateAssigned, Actor: "admin", AgentID: &ghost})
	open("+1004", baton.Transition{To: baton.StateAssigned, Actor: "agent:maya", AgentID: &maya}) // fine
	out, code := doctor()
	if code != exitFailure {
		t.Fatalf("broken rows: exit %d, want %d\n%s", code, exitFailure, out)
	}
	for _, want := range []string{
		"conversation " + strconv.FormatInt(queued.ID, 10) + " (queued): queued without a live SLA timer",
		"conversation " + strconv.FormatInt(orphan.ID, 10) + " (assigned): owned by agent \"ghost\", who does not exist",
		"2 open conversation(s) nobody is looking after",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor says\n%s\nwant %q", out, want)
		}
	}
	// Repaired: a timer for the queued one, the orphan back in the queue
	// with one too.
	for _, id := range []int64{queued.ID, orphan.ID} {
		if _, err := st.Enqueue(ctx, &baton.Job{Kind: baton.JobSLA, ConversationID: id, Key: handoff.SLAKey(id), RunAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	empty := ""
	if _, _, err := st.TransitionConversation(ctx, orphan.ID, baton.Transition{To: baton.StateQueued, Actor: "admin", AgentID: &empty}); err != nil {
		t.Fatal(err)
	}
	if out, code := doctor(); code != exitOK || !strings.Contains(out, "every open conversation is looked after") {
		t.Fatalf("repaired: exit %d\n%s", code, out)
	}
}
