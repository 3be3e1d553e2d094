//go:build !unix

package geoloc_test

func cpuSeconds() float64 { return 0 }
