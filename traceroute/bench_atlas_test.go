package traceroute

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
	"time"
)

var long = flag.Bool("long", false, "run the 1 GB streaming-memory benchmark sizes")

// atlasGen synthesises RIPE Atlas traceroute results of realistic shape (the
// fields and proportions of real firmware 4790+ results: 5-22 hops, three
// packets a hop, ~10 % timeouts, MPLS extensions on some core hops, a fifth
// IPv6, a trailing hop 255 on unfinished traces) as an io.Reader, on the
// fly, so a benchmark can stream gigabytes without holding them.
type atlasGen struct {
	rng     *rand.Rand
	limit   int64 // total bytes to produce; records are never cut
	written int64
	buf     []byte
	off     int
	n       int // records made
	array   bool
	started bool
}

func newAtlasGen(limit int64, array bool) *atlasGen {
	return &atlasGen{rng: rand.New(rand.NewPCG(1, 2)), limit: limit, array: array}
}

func (g *atlasGen) Read(p []byte) (int, error) {
	if g.off == len(g.buf) {
		g.buf, g.off = g.buf[:0], 0
		switch {
		case g.written >= g.limit && g.array && g.started:
			g.buf = append(g.buf, "]\n"...)
			g.started = false
			g.array = false
		case g.written >= g.limit:
			return 0, io.EOF
		default:
			if g.array {
				if !g.started {
					g.buf = append(g.buf, '[')
					g.started = true
				} else {
					g.buf = append(g.buf, ',')
				}
			}
			g.buf = g.record(g.buf)
			if !g.array {
				g.buf = append(g.buf, '\n')
			}
		}
		g.written += int64(len(g.buf))
	}
	n := copy(p, g.buf[g.off:])
	g.off += n
	return n, nil
}

func (g *atlasGen) addr(b []byte, v6 bool) []byte {
	r := g.rng
	if v6 {
		return fmt.Appendf(b, "2001:db8:%x:%x::%x", r.IntN(0xffff), r.IntN(0xffff), r.IntN(0xfff)+1)
	}
	return fmt.Appendf(b, "%d.%d.%d.%d", r.IntN(223)+1, r.IntN(256), r.IntN(256), r.IntN(254)+1)
}

func (g *atlasGen) record(b []byte) []byte {
	r := g.rng
	g.n++
	v6 := r.IntN(5) == 0
	af := 4
	if v6 {
		af = 6
	}
	ts := 1700000000 + g.n*7
	b = fmt.Appendf(b, `{"fw":5080,"lts":%d,"endtime":%d,"dst_name":"`, r.IntN(200), ts+11)
	dst := g.addr(nil, v6)
	b = append(b, dst...)
	b = append(b, `","dst_addr":"`...)
	b = append(b, dst...)
	b = append(b, `","src_addr":"`...)
	b = g.addr(b, v6)
	b = fmt.Appendf(b, `","proto":"ICMP","af":%d,"size":48,"paris_id":%d,"result":[`, af, r.IntN(16)+1)
	hops := 5 + r.IntN(18)
	rtt := 0.3 + r.Float64()*2
	for h := 1; h <= hops; h++ {
		if h > 1 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"hop":%d,"result":[`, h)
		rtt += r.Float64() * 9
		hopAddr := g.addr(nil, v6)
		mpls := h > 3 && h < hops-2 && r.IntN(6) == 0
		for p := 0; p < 3; p++ {
			if p > 0 {
				b = append(b, ',')
			}
			if r.IntN(10) == 0 {
				b = append(b, `{"x":"*"}`...)
				continue
			}
			b = append(b, `{"from":"`...)
			b = append(b, hopAddr...)
			b = fmt.Appendf(b, `","ttl":%d,"size":%d,`, 255-h-r.IntN(3), 28+r.IntN(2)*40)
			if mpls {
				b = fmt.Appendf(b, `"icmpext":{"version":2,"rfc4884":1,"obj":[{"class":1,"type":1,"mpls":[{"label":%d,"exp":0,"s":1,"ttl":1}]}]},`, 16+r.IntN(1<<20-16))
			}
			b = strconv.AppendFloat(append(b, `"rtt":`...), float64(int((rtt+r.Float64()*3)*1000))/1000, 'f', -1, 64)
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	if r.IntN(4) == 0 {
		b = append(b, `,{"hop":255,"result":[{"x":"*"},{"x":"*"},{"x":"*"}]}`...)
	}
	b = fmt.Appendf(b, `],"msm_id":%d,"prb_id":%d,"timestamp":%d,"msm_name":"Traceroute","from":"`, 5000+r.IntN(100), 1000+r.IntN(60000), ts)
	b = g.addr(b, v6)
	b = fmt.Appendf(b, `","type":"traceroute","group_id":%d,"stored_timestamp":%d}`, 5000+r.IntN(100), ts+30)
	return b
}

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
