package handoff_test

import (
	"github.com/batonhq/baton/store/storecase"
)

// stores is SQLite in a temporary directory, always, and PostgreSQL, in a
// schema of its own, when the build has it and BATON_TEST_DATABASE_URL is
// set.
func stores() []storecase.Case { return storecase.All() }
