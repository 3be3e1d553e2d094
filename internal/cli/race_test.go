//go:build race

package cli

// raceEnabled shrinks the streaming memory test under the race detector,
// which slows it tenfold; the full run is the plain `go test`.
const raceEnabled = true
