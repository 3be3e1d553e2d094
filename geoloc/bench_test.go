package geoloc_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/accuracy"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// benchWorld is the accuracy benchmark's simulated world: RIPE-Atlas-shaped
// traces (three probes a hop, 10–20 hops, probe coordinates known), router
// names present, two city databases in two mmdb schemas and an ASN database.
func benchWorld(b *testing.B, traces int) (*accuracy.World, []candidates.Source) {
	b.Helper()
	w, err := accuracy.Build(accuracy.Config{Seed: 1, Traces: traces})
	require.NoError(b, err)
	var srcs []candidates.Source
	for _, d := range w.DBs {
		s, err := candidates.OpenMMDBBytes(d.Image, d.Name+".mmdb")
		require.NoError(b, err)
		srcs = append(srcs, s)
	}
	asn, err := candidates.OpenMMDBBytes(w.ASN, "asn.mmdb")
	require.NoError(b, err)
	return w, append(srcs, asn)
}

func hopsOf(ts []*traceroute.Trace) int {
	n := 0
	for _, t := range ts {
		for i := range t.Hops {
			n += len(t.Hops[i].Addrs())
		}
	}
	return n
}

// BenchmarkRegeo is `geoloc regeo` end to end: interchange JSON Lines with
// names and probe coordinates parsed by traceroute.Read, located by
// Engine.Stream on every core. hops/s counts located (address, hop) pairs.
//
//	go test -run '^$' -bench BenchmarkRegeo -benchtime 3x ./geoloc
func BenchmarkRegeo(b *testing.B) {
	w, srcs := benchWorld(b, 2000)
	var buf bytes.Buffer
	enc := traceroute.NewEncoder(&buf)
	for _, t := range w.Traces {
		require.NoError(b, enc.Encode(t))
	}
	require.NoError(b, enc.Flush())
	hops := hopsOf(w.Traces)
	for _, mode := range []string{"warm-cache", "no-cache", "fused"} {
		cold := mode == "no-cache"
		b.Run(mode, func(b *testing.B) {
			opts := geoloc.Options{Sources: srcs}
			if cold {
				opts.CacheSize = -1
			}
			e := geoloc.New(opts)
			if mode == "fused" { // the first pass of --fuse, untimed
				_, err := e.ObserveAll(context.Background(), traceroute.Read(bytes.NewReader(buf.Bytes()), traceroute.ReadOptions{}), nil)
				require.NoError(b, err)
			}
			// Warm the cache as a long regeo run would be warm.
			if !cold {
				for range e.Stream(context.Background(), traceroute.Read(bytes.NewReader(buf.Bytes()), traceroute.ReadOptions{}), 0) {
				}
			}
			b.SetBytes(int64(buf.Len()))
			b.ResetTimer()
			cpu0 := cpuSeconds()
			for b.Loop() {
				n := 0
				for r, err := range e.Stream(context.Background(), traceroute.Read(bytes.NewReader(buf.Bytes()), traceroute.ReadOptions{}), 0) {
					if err != nil {
						b.Fatal(err)
					}
					n += len(r.Hops)
				}
				if n != hops {
					b.Fatalf("located %d hops, want %d", n, hops)
				}
			}
			reportRates(b, hops*b.N, cpuSeconds()-cpu0)
		})
	}
}

// BenchmarkLocate is the engine alone on parsed traces, one goroutine.
func BenchmarkLocate(b *testing.B) {
	w, srcs := benchWorld(b, 500)
	benchLocate(b, srcs, w.Traces)
}

// BenchmarkLocateUnknownVantage is BenchmarkLocate on whole paths (access
// network, hosting destination) whose vantage points are withheld: the
// solver tries its vantage hypotheses.
//
//	go test -run '^$' -bench BenchmarkLocateUnknownVantage ./geoloc
func BenchmarkLocateUnknownVantage(b *testing.B) {
	w, err := accuracy.Build(accuracy.Config{Seed: 1, Traces: 500, Access: true})
	require.NoError(b, err)
	var srcs []candidates.Source
	for _, d := range w.DBs {
		s, err := candidates.OpenMMDBBytes(d.Image, d.Name+".mmdb")
		require.NoError(b, err)
		srcs = append(srcs, s)
	}
	var ts []*traceroute.Trace
	for _, t := range w.Traces {
		c := *t
		c.Source.Lat, c.Source.Lon = nil, nil
		ts = append(ts, &c)
	}
	benchLocate(b, srcs, ts)
}

// benchLocate locates ts over and over with a warm cache.
func benchLocate(b *testing.B, srcs []candidates.Source, ts []*traceroute.Trace) {
	e := geoloc.New(geoloc.Options{Sources: srcs})
	for _, t := range ts {
		_, _ = e.Locate(context.Background(), t)
	}
	hops := hopsOf(ts)
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for b.Loop() {
		for _, t := range ts {
			if _, err := e.Locate(context.Background(), t); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRates(b, hops*b.N, cpuSeconds()-cpu0)
}

// reportRates reports hops per wall-clock second and hops per CPU-second;
// on an idle machine with n cores, wall-clock throughput approaches n times
// the per-CPU-second figure when the work is parallel.
func reportRates(b *testing.B, hops int, cpuS float64) {
	b.ReportMetric(float64(hops)/b.Elapsed().Seconds(), "hops/s")
	if cpuS > 0 {
		b.ReportMetric(float64(hops)/cpuS, "hops/cpu-s")
	}
}

// freshTraces yields n traces whose public addresses are all new (drawn
// from a 2^32 space), so that only the engine's bounds keep memory flat.
func freshTraces(n int, seed uint64) func(func(*traceroute.Trace, error) bool) {
	return func(yield func(*traceroute.Trace, error) bool) {
		rng := rand.New(rand.NewPCG(seed, 1))
		lat, lon := 52.37, 4.89
		for i := 0; i < n; i++ {
			t := &traceroute.Trace{Source: traceroute.Endpoint{Lat: &lat, Lon: &lon, ProbeID: "1"}}
			for h := 1; h <= 12; h++ {
				a := netip.AddrFrom4([4]byte{byte(20 + rng.IntN(60)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(1 + rng.IntN(250))})
				var ps []traceroute.Probe
				for range 3 {
					ps = append(ps, traceroute.Probe{Addr: a, Name: fmt.Sprintf("be%d.ccr21.fra03.atlas.cogentco.com", h), RTTMs: float64(h) * 1.5})
				}
				t.Hops = append(t.Hops, traceroute.Hop{TTL: h, Probes: ps})
			}
			if !yield(t, nil) {
				return
			}
		}
	}
}

func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// BenchmarkStreamMemory streams 200,000 traces (2.4 million hops) with ever
// new addresses through an engine with a 50,000-address cache and reports
// the live heap after 20,000, 100,000 and 200,000 traces: flat means equal.
//
//	go test -run '^$' -bench BenchmarkStreamMemory -benchtime 1x ./geoloc
func BenchmarkStreamMemory(b *testing.B) {
	_, srcs := benchWorld(b, 10)
	for b.Loop() {
		e := geoloc.New(geoloc.Options{Sources: srcs, CacheSize: 50000})
		base := heapMB()
		at := map[int]float64{}
		n := 0
		for _, err := range e.Stream(context.Background(), freshTraces(200000, 1), 0) {
			if err != nil {
				b.Fatal(err)
			}
			n++
			if n == 20000 || n == 100000 || n == 200000 {
				at[n] = heapMB() - base
			}
		}
		b.ReportMetric(at[20000], "heapMB@240k-hops")
		b.ReportMetric(at[100000], "heapMB@1.2M-hops")
		b.ReportMetric(at[200000], "heapMB@2.4M-hops")
		runtime.KeepAlive(e)
	}
}

// BenchmarkFuseMemory measures the first pass of `regeo --fuse` at 10
// million hops: 833,334 traces of 12 hops from 200 vantage points over a
// pool of 2 million router addresses (so about 1.96 million distinct
// addresses are seen). It reports the live heap per distinct address.
//
//	go test -run '^$' -bench BenchmarkFuseMemory -benchtime 1x ./geoloc
func BenchmarkFuseMemory(b *testing.B) {
	const hops, perTrace, pool, vantages = 10_000_000, 12, 2_000_000, 200
	for b.Loop() {
		e := geoloc.New(geoloc.Options{})
		base := heapMB()
		rng := rand.New(rand.NewPCG(7, 7))
		lats := make([]float64, vantages)
		lons := make([]float64, vantages)
		for i := range lats {
			lats[i], lons[i] = rng.Float64()*120-60, rng.Float64()*360-180
		}
		t := &traceroute.Trace{Hops: make([]traceroute.Hop, perTrace)}
		for i := range t.Hops {
			t.Hops[i] = traceroute.Hop{TTL: i + 1, Probes: make([]traceroute.Probe, 1)}
		}
		for n := 0; n < hops; n += perTrace {
			v := rng.IntN(vantages)
			t.Source = traceroute.Endpoint{Lat: &lats[v], Lon: &lons[v], ProbeID: fmt.Sprint(v)}
			for i := range t.Hops {
				k := uint32(rng.IntN(pool))
				t.Hops[i].Probes[0] = traceroute.Probe{Addr: netip.AddrFrom4([4]byte{byte(20 + k>>24), byte(k >> 16), byte(k >> 8), byte(k)}), RTTMs: 1 + rng.Float64()*200}
			}
			e.Observe(t)
		}
		used := heapMB() - base
		distinct := e.FusedAddrs()
		b.ReportMetric(float64(distinct), "distinct-addrs")
		b.ReportMetric(used, "heapMB")
		b.ReportMetric(used*(1<<20)/float64(distinct), "B/addr")
		runtime.KeepAlive(e)
	}
}
