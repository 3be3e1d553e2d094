//go:build race

package output

// raceEnabled skips the memory-bound tests under the race detector, whose
// shadow memory and slowness make heap figures meaningless; .ci/run runs
// them without it.
const raceEnabled = true
