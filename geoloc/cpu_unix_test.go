//go:build unix

package geoloc_test

import "syscall"

// cpuSeconds is the CPU time (user + system) this process has used: on a
// shared machine, work per CPU-second is a steadier figure than wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
