//go:build race

package accuracy

// raceEnabled shrinks the benchmark under the race detector, which slows it
// tenfold; the full run is the plain `go test`.
const raceEnabled = true
