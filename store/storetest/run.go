// Package storetest is the conformance suite every baton.Store passes: the
// same behaviour, error codes and search order on SQLite and PostgreSQL.
package storetest

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/batonhq/baton"
)

// Opener returns a fresh, empty, migrated store that takes every "now" from
// clock. It registers its own cleanup with t.Cleanup.
type Opener func(t *testing.T, clock baton.Clock) baton.Store

// suiteStart is where every suite clock starts.
func suiteStart() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }

// Twin opens a second store on the database of st, with connections of
// its own, as another `baton serve` process would, taking every "now" from
// clock. It registers its own cleanup with t.Cleanup.
type Twin func(t *testing.T, st baton.Store, clock baton.Clock) baton.Store

// Option tunes Run.
type Option func(*suite)

// WithTwin lets the suite run its cross-process tests (concurrent
// assignments and timers from two stores on one database); without it
// they run on one store only.
func WithTwin(twin Twin) Option { return func(s *suite) { s.twin = twin } }

// Run runs the whole conformance suite against the stores open returns.
func Run(t *testing.T, open func(t *testing.T, clock baton.Clock) baton.Store, opts ...Option) {
	s := &suite{open: open}
	for _, o := range opts {
		o(s)
	}
	t.Run("Customers", s.testCustomers)
	t.Run("Conversations", s.testConversations)
	t.Run("Transitions", s.testTransitions)
	t.Run("Messages", s.testMessages)
	t.Run("MessageStatus", s.testMessageStatus)
	t.Run("Sending", s.testSending)
	t.Run("AppendInbound", s.testAppendInbound)
	t.Run("Decisions", s.testDecisions)
	t.Run("Packets", s.testPackets)
	t.Run("Agents", s.testAgents)
	t.Run("AgentLoads", s.testAgentLoads)
	t.Run("Assign", s.testAssign)
	t.Run("AssignConcurrently", s.testAssignConcurrently)
	t.Run("Clocks", s.testClocks)
	t.Run("ResponseClock", s.testResponseClock)
	t.Run("AgentTokens", s.testAgentTokens)
	t.Run("CSAT", s.testCSAT)
	t.Run("SlackThreads", s.testSlackThreads)
	t.Run("SlackThreadsConcurrently", s.testSlackThreadsConcurrently)
	t.Run("SlackEvents", s.testSlackEvents)
	t.Run("Tx", s.testTx)
	t.Run("Articles", s.testArticles)
	t.Run("Chunks", s.testChunks)
	t.Run("ArticleSources", s.testArticleSources)
	t.Run("SearchKeyword", s.testSearchKeyword)
	t.Run("SearchVector", s.testSearchVector)
	t.Run("Jobs", s.testJobs)
	t.Run("JobOrdering", s.testJobOrdering)
	t.Run("JobConcurrentClaims", s.testJobConcurrentClaims)
	t.Run("JobLanes", s.testJobLanes)
	t.Run("JobLanesConcurrently", s.testJobLanesConcurrently)
	t.Run("JobCrash", s.testJobCrash)
	t.Run("JobPurge", s.testJobPurge)
	t.Run("ScheduleJob", s.testScheduleJob)
	t.Run("ScheduleJobConcurrently", s.testScheduleJobConcurrently)
	t.Run("Concurrency", s.testConcurrency)
	t.Run("Gaps", s.testGaps)
	t.Run("Ping", s.testPing)
}

type suite struct {
	open Opener
	twin Twin // nil: no cross-process tests
}

// pair opens a fresh store and, when the suite has a Twin, a second store
// on the same database and clock (else the same store again), for tests
// that race two processes.
func (s *suite) pair(t *testing.T) (a, b baton.Store, clock *baton.ManualClock, ctx context.Context) {
	t.Helper()
	a, clock, ctx = s.fresh(t)
	b = a
	if s.twin != nil {
		b = s.twin(t, a, clock)
	}
	return a, b, clock, ctx
}

// fresh opens a new store on a new clock.
func (s *suite) fresh(t *testing.T) (baton.Store, *baton.ManualClock, context.Context) {
	t.Helper()
	clock := baton.NewManualClock(suiteStart())
	st := s.open(t, clock)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return st, clock, ctx
}

func wantCode(t *testing.T, err error, code string, what string) {
	t.Helper()
	if got := baton.ErrorCode(err); got != code {
		t.Fatalf("%s: error code = %q (err %v), want %q", what, got, err, code)
	}
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if got.Location() != time.UTC {
		t.Errorf("%s: location = %v, want UTC", what, got.Location())
	}
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func wantTimePtr(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", what, got, want)
	default:
		wantTime(t, what, *got, *want)
	}
}

func wantJSON(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if len(want) == 0 {
		if len(got) != 0 && string(got) != "null" {
			t.Errorf("%s = %s, want empty", what, got)
		}
		return
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s: stored JSON %q does not parse: %v", what, got, err)
		return
	}
	_ = json.Unmarshal(want, &w)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func ptr[T any](v T) *T { return &v }

// seedConversation creates a customer on WhatsApp and a conversation for it.
func seedConversation(t *testing.T, ctx context.Context, st baton.Store, botID, address string) *baton.Conversation {
	t.Helper()
	cust, err := st.UpsertCustomerByIdentity(ctx, baton.ChannelIdentity{BotID: botID, Channel: baton.ChannelWhatsApp, Address: address}, "")
	must(t, err, "UpsertCustomerByIdentity")
	c := &baton.Conversation{BotID: botID, CustomerID: cust.ID, Channel: baton.ChannelWhatsApp, Address: address, State: baton.StateBot}
	must(t, st.CreateConversation(ctx, c), "CreateConversation")
	return c
}
