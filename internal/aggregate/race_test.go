//go:build race

package aggregate_test

// raceEnabled skips the memory-bound test under the race detector, whose
// shadow memory makes heap figures meaningless.
const raceEnabled = true
