//go:build race

package e2e

// raceEnabled builds the binary under test with -race too, so that the
// end-to-end runs also look for data races in the CLI's concurrent paths.
const raceEnabled = true
