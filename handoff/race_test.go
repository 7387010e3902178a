//go:build race

package handoff_test

// raceDetector is on: the pure-Go SQLite runs some twenty times slower
// under it, so the long simulations take fewer steps.
const raceDetector = true
