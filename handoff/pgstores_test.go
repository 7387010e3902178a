package handoff_test

import "testing"

// morestores are the stores beyond SQLite the tests run on.
func morestores() []storeCase { return nil }

var _ = testing.Short
