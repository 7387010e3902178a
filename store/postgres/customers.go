package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton"
)

const customerCols = `id, bot_id, name, verified, external_id, attributes, erased_at, created_at, updated_at`

func scanCustomer(row pgx.Row) (*baton.Customer, error) {
	c := &baton.Customer{}
	err := row.Scan(&c.ID, &c.BotID, &c.Name, &c.Verified, &c.ExternalID, &c.Attributes, &c.ErasedAt, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return nil, err
	}
	c.ErasedAt = utcPtr(c.ErasedAt)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

func validIdentity(id baton.ChannelIdentity) error {
	switch {
	case id.BotID == "":
		return baton.Errorf(baton.EINVALID, "channel identity: bot id is empty")
	case !id.Channel.Valid():
		return baton.Errorf(baton.EINVALID, "channel identity: unknown channel %q", id.Channel)
	case id.Address == "":
		return baton.Errorf(baton.EINVALID, "channel identity on %s: address is empty", id.Channel)
	}
	return nil
}

// UpsertCustomerByIdentity returns the identity's customer, creating both
// when the identity is new. A per-identity advisory lock makes concurrent
// first messages from one address create one customer, not two.
func (s *Store) UpsertCustomerByIdentity(ctx context.Context, id baton.ChannelIdentity, name string) (*baton.Customer, error) {
	if err := validIdentity(id); err != nil {
		return nil, err
	}
	now := s.now()
	var cust *baton.Customer
	err := s.inTx(ctx, func(q querier) error {
		find := func() (*baton.Customer, error) {
			c, err := scanCustomer(q.QueryRow(ctx, `
				SELECT `+customerColsPrefixed("c.")+` FROM channel_identities i JOIN customers c ON c.id = i.customer_id
				WHERE i.bot_id = $1 AND i.channel = $2 AND i.address = $3`, id.BotID, string(id.Channel), id.Address))
			if err == pgx.ErrNoRows {
				return nil, nil
			}
			return c, err
		}
		c, err := find()
		if err == nil && c == nil {
			// New identity: serialise its creation, then look again, since
			// another transaction may have created it meanwhile.
			if _, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockAreaIdent, id.BotID+"\x1f"+string(id.Channel)+"\x1f"+id.Address); err != nil {
				return wrapErr(err, "upsert customer: lock identity")
			}
			c, err = find()
		}
		if err != nil {
			return wrapErr(err, "upsert customer")
		}
		if c != nil {
			if c.Name == "" && name != "" {
				// Fill an empty name, never overwrite one.
				if _, err := q.Exec(ctx, `UPDATE customers SET name = $2, updated_at = $3 WHERE id = $1 AND name = ''`, c.ID, name, now); err != nil {
					return wrapErr(err, "upsert customer: set name")
				}
				c.Name, c.UpdatedAt = name, now
			}
			cust = c
			return nil
		}
		c, err = scanCustomer(q.QueryRow(ctx, `
			WITH c AS (
				INSERT INTO customers (bot_id, name, created_at, updated_at) VALUES ($1, $4, $5, $5)
				RETURNING `+customerCols+`
			), i AS (
				INSERT INTO channel_identities (bot_id, channel, address, customer_id, created_at)
				SELECT $1, $2, $3, c.id, $5 FROM c
			)
			SELECT `+customerCols+` FROM c`, id.BotID, string(id.Channel), id.Address, name, now))
		if err != nil {
			return wrapErr(err, "upsert customer: create")
		}
		cust = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cust, nil
}

func customerColsPrefixed(p string) string {
	return p + "id, " + p + "bot_id, " + p + "name, " + p + "verified, " + p + "external_id, " + p + "attributes, " +
		p + "erased_at, " + p + "created_at, " + p + "updated_at"
}

func (s *Store) GetCustomer(ctx context.Context, id int64) (*baton.Customer, error) {
	c, err := scanCustomer(s.q().QueryRow(ctx, `SELECT `+customerCols+` FROM customers WHERE id = $1`, id))
	if err != nil {
		return nil, wrapErr(err, "customer "+strconv.FormatInt(id, 10))
	}
	return c, nil
}

// UpdateCustomer saves the customer's editable fields (name, verification,
// attributes, erasure) and stamps UpdatedAt.
func (s *Store) UpdateCustomer(ctx context.Context, c *baton.Customer) error {
	now := s.now()
	tag, err := s.q().Exec(ctx, `
		UPDATE customers SET name = $2, verified = $3, external_id = $4, attributes = $5, erased_at = $6, updated_at = $7
		WHERE id = $1`, c.ID, c.Name, c.Verified, c.ExternalID, c.Attributes, truncPtr(c.ErasedAt), now)
	if err != nil {
		return wrapErr(err, "update customer")
	}
	if tag.RowsAffected() == 0 {
		return baton.Errorf(baton.ENOTFOUND, "customer %d not found", c.ID)
	}
	c.UpdatedAt = now
	return nil
}

func (s *Store) GetIdentity(ctx context.Context, botID string, ch baton.ChannelKind, address string) (*baton.ChannelIdentity, error) {
	id := &baton.ChannelIdentity{}
	err := s.q().QueryRow(ctx, `
		SELECT customer_id, bot_id, channel, address, opted_out, opted_out_at, created_at
		FROM channel_identities WHERE bot_id = $1 AND channel = $2 AND address = $3`, botID, string(ch), address).
		Scan(&id.CustomerID, &id.BotID, &id.Channel, &id.Address, &id.OptedOut, &id.OptedOutAt, &id.CreatedAt)
	if err != nil {
		return nil, wrapErr(err, "get channel identity")
	}
	id.OptedOutAt = utcPtr(id.OptedOutAt)
	id.CreatedAt = id.CreatedAt.UTC()
	return id, nil
}

func (s *Store) SetOptOut(ctx context.Context, botID string, ch baton.ChannelKind, address string, optedOut bool, at time.Time) error {
	var when *time.Time
	if optedOut {
		t := at.UTC().Truncate(time.Microsecond)
		when = &t
	}
	tag, err := s.q().Exec(ctx, `
		UPDATE channel_identities SET opted_out = $4, opted_out_at = $5
		WHERE bot_id = $1 AND channel = $2 AND address = $3`, botID, string(ch), address, optedOut, when)
	if err != nil {
		return wrapErr(err, "set opt-out")
	}
	if tag.RowsAffected() == 0 {
		return baton.Errorf(baton.ENOTFOUND, "no such %s identity for bot %q", ch, botID)
	}
	return nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func truncPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}
