//go:build race

package har

// raceEnabled: the race detector slows reading about tenfold.
const raceEnabled = true
