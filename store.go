package baton

import "context"

// Store is everything Baton keeps. Two implementations pass one conformance
// suite: store/sqlite (embedded default) and store/postgres (production).
type Store interface {
	CustomerStore
	ConversationStore
	MessageStore
	InboundStore
	AgentStore
	AgentTokenStore
	ArticleStore
	JobStore
	DecisionStore
	CSATStore
	SlackStore

	// Tx runs fn in one transaction: every call on the Store passed to fn is
	// part of it, and it commits only if fn returns nil. Tx on that Store
	// runs fn inside the same transaction.
	Tx(ctx context.Context, fn func(tx Store) error) error
	// Ping reports whether the database is reachable and migrated.
	Ping(ctx context.Context) error
	// Migrate applies pending migrations; it is also run on open.
	Migrate(ctx context.Context) error
	Close() error
}
