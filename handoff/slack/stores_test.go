package slack

import (
	"github.com/batonhq/baton/store/storecase"
)

// stores is SQLite in a temporary directory, always, and PostgreSQL when
// the build has it and BATON_TEST_DATABASE_URL is set.
func stores() []storecase.Case { return storecase.All() }
