//go:build race

package traceroute

// raceEnabled: the race detector slows parsing about tenfold.
const raceEnabled = true
