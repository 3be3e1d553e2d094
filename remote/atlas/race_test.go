//go:build race

package atlas_test

// raceEnabled shrinks the memory tests under the race detector, which
// slows them tenfold; the full size runs in the plain `go test`.
const raceEnabled = true
