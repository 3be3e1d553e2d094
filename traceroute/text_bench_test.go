//go:build unix

package traceroute

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Benchmarks of the Linux traceroute text parser on generated output of
// realistic shape: 8-24 hops, 3 probes a hop, PTR names on most hops, some
// silent hops, ECMP address changes mid-line, the odd annotation and -A
// column. Run:
//
//	go test -run='^$' -bench='BenchmarkText' -benchmem ./traceroute
//	go test -run='^$' -bench='BenchmarkTextLinuxStreamMemory' ./traceroute -args -textlong   (adds 1 GB)

var textLong = flag.Bool("textlong", false, "run the 1 GB size of BenchmarkTextLinuxStreamMemory")

// txtLinuxGen writes Linux traceroute outputs, one after another, until
// limit bytes have been produced (the last trace is cut short at the limit
// only if it does not fit: it is then dropped, so the stream stays valid).
type txtLinuxGen struct {
	rng    *rand.Rand
	limit  int64
	out    int64
	buf    bytes.Buffer
	traces int
}

func newTxtLinuxGen(limit int64) *txtLinuxGen {
	return &txtLinuxGen{rng: rand.New(rand.NewPCG(1, 2)), limit: limit}
}

var txtBenchSites = []string{"fra", "ams", "lon", "par", "nyc", "sjc", "sin", "nrt", "syd", "gru"}

func (g *txtLinuxGen) trace(w *bytes.Buffer) {
	r := g.rng
	dst := fmt.Sprintf("203.0.%d.%d", r.IntN(256), 1+r.IntN(254))
	fmt.Fprintf(w, "traceroute to host%d.example.org (%s), 30 hops max, 60 byte packets\n", r.IntN(1000), dst)
	hops := 8 + r.IntN(17)
	base := 0.3 + r.Float64()
	asns := r.IntN(4) == 0
	for ttl := 1; ttl <= hops; ttl++ {
		fmt.Fprintf(w, "%2d ", ttl)
		if ttl < hops && r.IntN(8) == 0 {
			w.WriteString(" * * *\n")
			continue
		}
		base += r.Float64() * 6
		host := func() {
			a := fmt.Sprintf("198.51.%d.%d", r.IntN(256), 1+r.IntN(254))
			if ttl == hops {
				a = dst
			}
			if r.IntN(5) == 0 {
				fmt.Fprintf(w, " %s (%s)", a, a)
			} else {
				fmt.Fprintf(w, " ae-%d.r%02d.%s%02d.example.net (%s)", r.IntN(20), r.IntN(30), txtBenchSites[r.IntN(len(txtBenchSites))], r.IntN(10), a)
			}
			if asns {
				fmt.Fprintf(w, " [AS%d]", 64496+r.IntN(16))
			}
		}
		host()
		for p := 0; p < 3; p++ {
			switch {
			case r.IntN(25) == 0:
				w.WriteString(" *")
			case p > 0 && r.IntN(10) == 0:
				host() // ECMP: another address answers
				fallthrough
			default:
				w.WriteString("  ")
				w.WriteString(strconv.FormatFloat(base+r.Float64(), 'f', 3, 64))
				w.WriteString(" ms")
				if ttl == hops && r.IntN(50) == 0 {
					w.WriteString(" !H")
				}
			}
		}
		w.WriteByte('\n')
	}
}

func (g *txtLinuxGen) Read(p []byte) (int, error) {
	for g.buf.Len() == 0 {
		if g.out >= g.limit {
			return 0, io.EOF
		}
		g.trace(&g.buf)
		if g.out+int64(g.buf.Len()) > g.limit && g.traces > 0 {
			g.buf.Reset()
			g.out = g.limit
			return 0, io.EOF
		}
		g.out += int64(g.buf.Len())
		g.traces++
	}
	return g.buf.Read(p)
}

func txtLinuxData(b *testing.B, size int64) ([]byte, int) {
	b.Helper()
	g := newTxtLinuxGen(size)
	data, err := io.ReadAll(g)
	if err != nil {
		b.Fatal(err)
	}
	return data, g.traces
}

// BenchmarkTextLinuxRead: detection plus parsing of 16 MB held in memory.
func BenchmarkTextLinuxRead(b *testing.B) {
	data, want := txtLinuxData(b, 16<<20)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	traces := 0
	cpu0 := txtCPUTime()
	for b.Loop() {
		n := 0
		for _, err := range Read(bytes.NewReader(data), ReadOptions{}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != want {
			b.Fatalf("read %d traces, generated %d", n, want)
		}
		traces += n
	}
	b.ReportMetric(float64(traces)/b.Elapsed().Seconds(), "traces/s")
	// Wall-clock MB/s depends on what else runs on the machine; MB per
	// second of this process's CPU time (all threads, GC included) does not.
	if cpu := txtCPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(len(data))*float64(b.N)/(1<<20)/cpu.Seconds(), "MB/cpu-s")
	}
}

// txtCPUTime is the user+system CPU time used by this process so far.
func txtCPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTextLinuxStreamMemory streams generated output straight from the
// generator (never held whole) and reports the peak heap in use, sampled
// every 1000 traces: it stays flat as the input grows (1 GB with
// -textlong).
func BenchmarkTextLinuxStreamMemory(b *testing.B) {
	sizes := []int64{100 << 20}
	if *textLong {
		sizes = append(sizes, 1<<30)
	}
	for _, size := range sizes {
		b.Run(fmt.Sprintf("size=%dMB", size>>20), func(b *testing.B) {
			b.SetBytes(size)
			var peak uint64
			traces := 0
			for b.Loop() {
				p, n := txtPeakHeap(b, newTxtLinuxGen(size))
				peak = max(peak, p)
				traces += n
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(traces)/b.Elapsed().Seconds(), "traces/s")
		})
	}
}

func txtPeakHeap(b *testing.B, r io.Reader) (uint64, int) {
	runtime.GC()
	var ms runtime.MemStats
	var peak uint64
	n := 0
	for _, err := range Read(r, ReadOptions{}) {
		if err != nil {
			b.Fatal(err)
		}
		n++
		if n%1000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	return peak, n
}

// TestTextBenchGeneratorParses keeps the benchmark input honest: every
// generated trace parses without error and with its hops.
func TestTextBenchGeneratorParses(t *testing.T) {
	g := newTxtLinuxGen(256 << 10)
	n := 0
	for tr, err := range Read(g, ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Hops) < 8 || tr.Format != "linux-traceroute" {
			t.Fatalf("trace %d: %d hops, format %s", n, len(tr.Hops), tr.Format)
		}
		n++
	}
	if n != g.traces || n == 0 {
		t.Fatalf("read %d traces, generated %d", n, g.traces)
	}
}
