package rdns

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the user+system CPU time of this process: on a shared machine
// wall time overstates the cost, so the benchmarks also report work per
// CPU-second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHints measures extraction over the labelled names (the
// dictionaries and the embedded conventions are loaded before the timer
// starts).
func BenchmarkHints(b *testing.B) {
	set := readLabelled(b)
	names := make([]string, len(set))
	for i, l := range set {
		names[i] = l.name
	}
	defaultReader()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		Hints(names[n%len(names)])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "names/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "names/cpu-s")
	}
}

// BenchmarkDictLoad measures the first-use cost: decompressing and indexing
// the embedded dictionaries (what the first Hints call pays once), including
// the UN/LOCODE table that is otherwise loaded on its first use.
func BenchmarkDictLoad(b *testing.B) {
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		d, err := parseDict()
		if err != nil {
			b.Fatal(err)
		}
		d.locodes()
		n++
	}
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(cpu.Seconds()*1000/float64(n), "cpu-ms/load")
	}
}
