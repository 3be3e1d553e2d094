//go:build race

package countries

const raceEnabled = true
