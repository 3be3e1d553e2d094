//go:build !race

package atlas_test

const raceEnabled = false
