package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

const customerCols = `id, bot_id, name, verified, external_id, attributes, erased_at, created_at, updated_at`

func scanCustomer(r scanner) (*baton.Customer, error) {
	var (
		c                baton.Customer
		verified         int
		attrs            sql.NullString
		erased           sql.NullInt64
		created, updated int64
	)
	if err := r.Scan(&c.ID, &c.BotID, &c.Name, &verified, &c.ExternalID, &attrs, &erased, &created, &updated); err != nil {
		return nil, err
	}
	c.Verified = verified != 0
	c.ErasedAt = fromTSPtr(erased)
	c.CreatedAt, c.UpdatedAt = fromTS(created), fromTS(updated)
	if err := decodeJSON(attrs, &c.Attributes, "customer attributes"); err != nil {
		return nil, err
	}
	return &c, nil
}

func validIdentity(id baton.ChannelIdentity) error {
	switch {
	case strings.TrimSpace(id.BotID) == "":
		return baton.Errorf(baton.EINVALID, "channel identity: bot id is required")
	case !id.Channel.Valid():
		return baton.Errorf(baton.EINVALID, "channel identity: unknown channel %q", id.Channel)
	case strings.TrimSpace(id.Address) == "":
		return baton.Errorf(baton.EINVALID, "channel identity on %s: address is required", id.Channel)
	}
	return nil
}

// UpsertCustomerByIdentity returns the identity's customer, creating both
// when the identity is new.
func (s *Store) UpsertCustomerByIdentity(ctx context.Context, id baton.ChannelIdentity, name string) (*baton.Customer, error) {
	if err := validIdentity(id); err != nil {
		return nil, err
	}
	var out *baton.Customer
	err := s.writeTx(ctx, "upsert customer", func(q querier) error {
		now := ts(s.now())
		var custID int64
		err := q.QueryRowContext(ctx, `SELECT customer_id FROM channel_identities WHERE bot_id = ? AND channel = ? AND address = ?`,
			id.BotID, string(id.Channel), id.Address).Scan(&custID)
		switch err {
		case nil:
			if name != "" {
				if _, err := q.ExecContext(ctx, `UPDATE customers SET name = ?, updated_at = ? WHERE id = ? AND name = ''`, name, now, custID); err != nil {
					return err
				}
			}
		case sql.ErrNoRows:
			// The write lock is held from BEGIN IMMEDIATE, so nobody can
			// insert the identity between the lookup and here.
			if err := q.QueryRowContext(ctx, `INSERT INTO customers (bot_id, name, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`,
				id.BotID, name, now, now).Scan(&custID); err != nil {
				return err
			}
			if _, err := q.ExecContext(ctx, `INSERT INTO channel_identities (bot_id, channel, address, customer_id, created_at) VALUES (?, ?, ?, ?, ?)`,
				id.BotID, string(id.Channel), id.Address, custID, now); err != nil {
				return err
			}
		default:
			return err
		}
		c, err := scanCustomer(q.QueryRowContext(ctx, `SELECT `+customerCols+` FROM customers WHERE id = ?`, custID))
		out = c
		return err
	})
	return out, err
}

// GetCustomer returns a customer by id.
func (s *Store) GetCustomer(ctx context.Context, id int64) (*baton.Customer, error) {
	c, err := scanCustomer(s.reader().QueryRowContext(ctx, `SELECT `+customerCols+` FROM customers WHERE id = ?`, id))
	if err != nil {
		return nil, translate(err, "customer "+itoa(id))
	}
	return c, nil
}

// UpdateCustomer saves the customer's profile fields.
func (s *Store) UpdateCustomer(ctx context.Context, c *baton.Customer) error {
	attrs, err := mapCol(c.Attributes)
	if err != nil {
		return err
	}
	now := s.now()
	return s.writeOne(ctx, "update customer "+itoa(c.ID), func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE customers SET name = ?, verified = ?, external_id = ?, attributes = ?, erased_at = ?, updated_at = ? WHERE id = ?`,
			c.Name, boolInt(c.Verified), c.ExternalID, attrs, tsPtr(c.ErasedAt), ts(now), c.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sql.ErrNoRows
		}
		c.UpdatedAt = now
		return nil
	})
}

const identityCols = `customer_id, bot_id, channel, address, opted_out, opted_out_at, created_at`

// GetIdentity returns one channel identity.
func (s *Store) GetIdentity(ctx context.Context, botID string, ch baton.ChannelKind, address string) (*baton.ChannelIdentity, error) {
	var (
		id      baton.ChannelIdentity
		channel string
		opted   int
		optedAt sql.NullInt64
		created int64
	)
	err := s.reader().QueryRowContext(ctx, `SELECT `+identityCols+` FROM channel_identities WHERE bot_id = ? AND channel = ? AND address = ?`,
		botID, string(ch), address).Scan(&id.CustomerID, &id.BotID, &channel, &id.Address, &opted, &optedAt, &created)
	if err != nil {
		return nil, translate(err, "identity on "+string(ch))
	}
	id.Channel = baton.ChannelKind(channel)
	id.OptedOut = opted != 0
	id.OptedOutAt = fromTSPtr(optedAt)
	id.CreatedAt = fromTS(created)
	return &id, nil
}

// SetOptOut records an opt-out or opt-in.
func (s *Store) SetOptOut(ctx context.Context, botID string, ch baton.ChannelKind, address string, optedOut bool, at time.Time) error {
	var optedAt sql.NullInt64
	if optedOut {
		optedAt = sql.NullInt64{Int64: ts(at), Valid: true}
	}
	return s.writeOne(ctx, "opt-out on "+string(ch), func(q querier) error {
		res, err := q.ExecContext(ctx, `UPDATE channel_identities SET opted_out = ?, opted_out_at = ? WHERE bot_id = ? AND channel = ? AND address = ?`,
			boolInt(optedOut), optedAt, botID, string(ch), address)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sql.ErrNoRows
		}
		return nil
	})
}
