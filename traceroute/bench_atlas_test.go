package traceroute

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/geoloc-dev/geoloc/internal/atlasgen"
)

var long = flag.Bool("long", false, "run the 1 GB streaming-memory benchmark sizes")

// atlasGen is internal/atlasgen's generator under the name these tests
// have always used.
type atlasGen struct{ *atlasgen.Reader }

func newAtlasGen(limit int64, array bool) atlasGen { return atlasGen{atlasgen.New(limit, array)} }

func (g atlasGen) record(b []byte) []byte { return g.Record(b) }

func generated(b *testing.B, size int64, array bool) []byte {
	b.Helper()
	data, err := io.ReadAll(newAtlasGen(size, array))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func benchRead(b *testing.B, data []byte, opts ReadOptions) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	traces, loops := 0, 0
	cpu0 := processCPU()
	for b.Loop() {
		for _, err := range Read(bytes.NewReader(data), opts) {
			if err != nil {
				b.Fatal(err)
			}
			traces++
		}
		loops++
	}
	reportRates(b, traces, int64(loops)*int64(len(data)), processCPU()-cpu0)
}

// reportRates adds traces/s (wall clock) and, where the CPU time is known,
// MB/cpu-s and traces/cpu-s: the throughput of one core.
func reportRates(b *testing.B, traces int, bytes int64, cpu time.Duration) {
	b.ReportMetric(float64(traces)/b.Elapsed().Seconds(), "traces/s")
	if cpu > 0 {
		b.ReportMetric(float64(bytes)/1e6/cpu.Seconds(), "MB/cpu-s")
		b.ReportMetric(float64(traces)/cpu.Seconds(), "traces/cpu-s")
	}
}

// BenchmarkReadRIPEAtlasJSONL: throughput on 16 MB of results, one a line.
func BenchmarkReadRIPEAtlasJSONL(b *testing.B) {
	benchRead(b, generated(b, 16<<20, false), ReadOptions{})
}

// BenchmarkReadRIPEAtlasArray: the same, as one JSON array (API download).
func BenchmarkReadRIPEAtlasArray(b *testing.B) {
	benchRead(b, generated(b, 16<<20, true), ReadOptions{})
}

// BenchmarkReadInterchange: the interchange JSON Lines of the same traces.
func BenchmarkReadInterchange(b *testing.B) {
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	for t, err := range Read(bytes.NewReader(generated(b, 16<<20, false)), ReadOptions{}) {
		if err != nil {
			b.Fatal(err)
		}
		if err := enc.Encode(t); err != nil {
			b.Fatal(err)
		}
	}
	if err := enc.Flush(); err != nil {
		b.Fatal(err)
	}
	benchRead(b, buf.Bytes(), ReadOptions{})
}

// BenchmarkAtlasEncodingJSONBaseline decodes the same lines with
// encoding/json into a typed struct (no Trace built): the cost the
// hand-written decoder avoids.
func BenchmarkAtlasEncodingJSONBaseline(b *testing.B) {
	data := generated(b, 16<<20, false)
	type packet struct {
		From    string          `json:"from"`
		RTT     *float64        `json:"rtt"`
		TTL     int             `json:"ttl"`
		Err     json.RawMessage `json:"err"`
		ICMPExt json.RawMessage `json:"icmpext"`
	}
	type result struct {
		From     string `json:"from"`
		DstAddr  string `json:"dst_addr"`
		DstName  string `json:"dst_name"`
		PrbID    int    `json:"prb_id"`
		Proto    string `json:"proto"`
		Time     int64  `json:"timestamp"`
		Type     string `json:"type"`
		SrcAddr  string `json:"src_addr"`
		HopsList []struct {
			Hop    int      `json:"hop"`
			Result []packet `json:"result"`
		} `json:"result"`
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	traces, loops := 0, 0
	cpu0 := processCPU()
	for b.Loop() {
		for line := range bytes.Lines(data) {
			var r result
			if err := json.Unmarshal(line, &r); err != nil {
				b.Fatal(err)
			}
			traces++
		}
		loops++
	}
	reportRates(b, traces, int64(loops)*int64(len(data)), processCPU()-cpu0)
}

// BenchmarkReadRIPEAtlasStreamMemory streams generated results straight
// from the generator (never held in memory) and reports the peak heap in
// use, sampled every 1000 traces: it stays flat from 100 MB to 1 GB (run
// with -long for the 1 GB sizes).
func BenchmarkReadRIPEAtlasStreamMemory(b *testing.B) {
	sizes := []int64{100 << 20}
	if *long {
		sizes = append(sizes, 1<<30)
	}
	for _, size := range sizes {
		for _, array := range []bool{false, true} {
			name := fmt.Sprintf("size=%dMB/jsonl", size>>20)
			if array {
				name = fmt.Sprintf("size=%dMB/array", size>>20)
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(size)
				var peak uint64
				traces, loops := 0, 0
				cpu0 := processCPU()
				for b.Loop() {
					p, n := streamPeakHeap(b, newAtlasGen(size, array))
					peak = max(peak, p)
					traces += n
					loops++
				}
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
				reportRates(b, traces, int64(loops)*size, processCPU()-cpu0)
			})
		}
	}
}

// streamPeakHeap reads every trace of r and returns the largest HeapInuse
// seen and the number of traces.
func streamPeakHeap(tb testing.TB, r io.Reader) (uint64, int) {
	runtime.GC()
	var ms runtime.MemStats
	var peak uint64
	n := 0
	for _, err := range Read(r, ReadOptions{}) {
		if err != nil {
			tb.Fatal(err)
		}
		n++
		if n%1000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	return peak, n
}

// BenchmarkEncodeInterchange writes the traces of 16 MB of RIPE Atlas
// results as interchange JSON Lines (what geoloc parse does after reading).
func BenchmarkEncodeInterchange(b *testing.B) {
	var traces []*Trace
	for t, err := range Read(bytes.NewReader(generated(b, 16<<20, false)), ReadOptions{}) {
		if err != nil {
			b.Fatal(err)
		}
		traces = append(traces, t)
	}
	var out int64
	b.ReportAllocs()
	loops := 0
	cpu0 := processCPU()
	for b.Loop() {
		cw := &countWriter{}
		enc := NewEncoder(cw)
		for _, t := range traces {
			if err := enc.Encode(t); err != nil {
				b.Fatal(err)
			}
		}
		if err := enc.Flush(); err != nil {
			b.Fatal(err)
		}
		out = cw.n
		loops++
	}
	b.SetBytes(out)
	reportRates(b, loops*len(traces), int64(loops)*out, processCPU()-cpu0)
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }
