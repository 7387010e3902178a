package baton

import (
	"context"
	"time"
)

// Customer is one person writing to one bot, possibly from several channels.
type Customer struct {
	ID         int64
	BotID      string
	Name       string
	Verified   bool              // identity vouched for by the host app (signed web chat id)
	ExternalID string            // the host app's user id, when verified
	Attributes map[string]string // plan, vip, locale, ... as sent by the app or set by agents
	ErasedAt   *time.Time        // set when the customer's data was erased on request
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ChannelIdentity is how a customer is addressed on one channel: a WhatsApp
// number, a Messenger page-scoped id, a phone number, a web visitor id.
type ChannelIdentity struct {
	CustomerID int64
	BotID      string
	Channel    ChannelKind
	Address    string
	OptedOut   bool // SMS STOP and the like: nothing may be sent until opt-in
	OptedOutAt *time.Time
	CreatedAt  time.Time
}

// CustomerStore keeps customers and their channel identities.
type CustomerStore interface {
	// UpsertCustomerByIdentity returns the customer owning the identity,
	// creating both when the identity is new. A non-empty name fills an empty
	// one; it never overwrites a name set before.
	UpsertCustomerByIdentity(ctx context.Context, id ChannelIdentity, name string) (*Customer, error)
	GetCustomer(ctx context.Context, id int64) (*Customer, error)
	UpdateCustomer(ctx context.Context, c *Customer) error
	GetIdentity(ctx context.Context, botID string, ch ChannelKind, address string) (*ChannelIdentity, error)
	// SetOptOut records an opt-out (true) or opt-in (false) for an identity.
	SetOptOut(ctx context.Context, botID string, ch ChannelKind, address string, optedOut bool, at time.Time) error
}
