//go:build !pgstore

package handoff_test

// moreStores is empty until the PostgreSQL store implements the human
// queue's methods (agent tokens, CSAT, timers): build with -tags pgstore
// to run these tests on it, and drop this file and the tag once it does.
func moreStores() []storeCase { return nil }
