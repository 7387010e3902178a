//go:build !race

package handoff_test

const raceDetector = false
