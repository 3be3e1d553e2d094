package candidates_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/internal/mmdbtest"
)

// benchWorld is a synthetic set of databases shaped like the real ones:
// two city databases (GeoIP2 nested and ip-location-db flat) over 20,000
// /24 networks with 2,000 distinct places, and an ASN CSV of 300,000
// ranges (the size of ip-location-db's asn-ipv4.csv is ~500,000).
type benchWorld struct {
	city1, city2, asnCSV string
	addrs                []netip.Addr
}

var benchWorldOnce = sync.OnceValues(func() (*benchWorld, error) {
	dir, err := os.MkdirTemp("", "geoloc-bench-")
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const nets, places = 20000, 2000
	type place struct {
		lat, lon float64
		city, cc string
	}
	ps := make([]place, places)
	ccs := []string{"DE", "US", "FR", "JP", "BR", "NL", "GB", "AU"}
	for i := range ps {
		ps[i] = place{lat: rng.Float64()*120 - 60, lon: rng.Float64()*340 - 170, city: fmt.Sprintf("City %d", i), cc: ccs[i%len(ccs)]}
	}
	recs := make([]mmdbtest.CityRecord, 0, nets)
	w := &benchWorld{}
	seen := map[netip.Prefix]bool{}
	for len(recs) < nets {
		a := netip.AddrFrom4([4]byte{byte(1 + rng.IntN(222)), byte(rng.IntN(256)), byte(rng.IntN(256)), 0})
		p := netip.PrefixFrom(a, 24)
		if seen[p] || !a.IsGlobalUnicast() || a.IsPrivate() {
			continue
		}
		seen[p] = true
		pl := ps[rng.IntN(places)]
		recs = append(recs, mmdbtest.CityRecord{Prefix: p.String(), Lat: pl.lat, Lon: pl.lon, AccuracyKm: 20,
			City: pl.city, Country: pl.cc, Region: "R"})
		if len(w.addrs) < 100000 {
			b := a.As4()
			b[3] = byte(rng.IntN(256))
			w.addrs = append(w.addrs, netip.AddrFrom4(b))
		}
	}
	b1, err := mmdbtest.BuildCity(recs)
	if err != nil {
		return nil, err
	}
	b2, err := mmdbtest.BuildFlatCity(4, recs)
	if err != nil {
		return nil, err
	}
	w.city1 = filepath.Join(dir, "GeoIP2-City.mmdb")
	w.city2 = filepath.Join(dir, "dbip-city-ipv4.mmdb")
	if err := os.WriteFile(w.city1, b1, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(w.city2, b2, 0o644); err != nil {
		return nil, err
	}
	w.asnCSV = filepath.Join(dir, "asn-ipv4.csv")
	f, err := os.Create(w.asnCSV)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriter(f)
	const ranges = 300000
	step := uint32((0xDF000000 - 0x01000000) / ranges)
	for i := range uint32(ranges) {
		s := 0x01000000 + i*step
		e := s + step - 1
		fmt.Fprintf(bw, "%d.%d.%d.%d,%d.%d.%d.%d,%d,\"Example Org %d, Inc.\"\n",
			s>>24, s>>16&255, s>>8&255, s&255, e>>24, e>>16&255, e>>8&255, e&255, 64512+i%1000, i%5000)
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return w, nil
})

// realBenchSources opens the databases fetched into GEOLOC_REAL_DB_DIR, if
// set: the three ip-location-db packages.
func benchSources(b *testing.B) ([]candidates.Source, []netip.Addr, string) {
	if dir := os.Getenv("GEOLOC_REAL_DB_DIR"); dir != "" {
		paths, err := candidates.Discover(dir)
		require.NoError(b, err)
		srcs, err := candidates.OpenAll(paths, candidates.OpenOptions{})
		require.NoError(b, err)
		// Random routed IPv4 addresses (ones an ASN source knows), as
		// router addresses are.
		rng := rand.New(rand.NewPCG(3, 4))
		addrs := make([]netip.Addr, 0, 100000)
		for tries := 0; len(addrs) < cap(addrs) && tries < 10_000_000; tries++ {
			a := netip.AddrFrom4([4]byte{byte(1 + rng.IntN(222)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
			for _, s := range srcs {
				if ans, _ := s.Lookup(candidates.Query{Addr: a}); ans.AS != nil {
					addrs = append(addrs, a)
					break
				}
			}
		}
		return srcs, addrs, "real"
	}
	w, err := benchWorldOnce()
	require.NoError(b, err)
	var srcs []candidates.Source
	for _, p := range []string{w.city1, w.city2, w.asnCSV} {
		s, err := candidates.Open(p)
		require.NoError(b, err)
		srcs = append(srcs, s)
	}
	return srcs, w.addrs, "synthetic"
}

// BenchmarkLookupAll asks every source (two city databases and one ASN
// table) about each address, as the engine does per hop address.
func BenchmarkLookupAll(b *testing.B) {
	srcs, addrs, kind := benchSources(b)
	defer func() {
		for _, s := range srcs {
			candidates.CloseSource(s)
		}
	}()
	b.Logf("%s databases: %d sources", kind, len(srcs))
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	n := 0
	for b.Loop() {
		q := candidates.Query{Addr: addrs[n%len(addrs)]}
		n++
		for _, s := range srcs {
			if _, err := s.Lookup(q); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "addrs/s")
	// The machine is shared: CPU time says what one core achieves.
	b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "addrs/cpu-s")
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLookupAllParallel is BenchmarkLookupAll from all cores.
func BenchmarkLookupAllParallel(b *testing.B) {
	srcs, addrs, _ := benchSources(b)
	defer func() {
		for _, s := range srcs {
			candidates.CloseSource(s)
		}
	}()
	b.ReportAllocs()
	start, cpu0 := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(len(addrs))
		for pb.Next() {
			q := candidates.Query{Addr: addrs[i%len(addrs)]}
			i++
			for _, s := range srcs {
				if _, err := s.Lookup(q); err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "addrs/s")
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu0).Seconds(), "addrs/cpu-s")
}

// BenchmarkOpenASNTable measures compiling the CSV ranges into a table,
// and the heap the table keeps.
func BenchmarkOpenASNTable(b *testing.B) {
	path := ""
	if dir := os.Getenv("GEOLOC_REAL_DB_DIR"); dir != "" {
		path = filepath.Join(dir, "asn-ipv4.csv")
	} else {
		w, err := benchWorldOnce()
		require.NoError(b, err)
		path = w.asnCSV
	}
	st, err := os.Stat(path)
	require.NoError(b, err)
	b.SetBytes(st.Size())
	var heap uint64
	var cpu time.Duration
	n := 0
	for b.Loop() {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		c0 := cpuTime()
		t, err := candidates.OpenASNTable(path)
		cpu += cpuTime() - c0
		n++
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		heap = m1.HeapAlloc - min(m0.HeapAlloc, m1.HeapAlloc)
		runtime.KeepAlive(t)
	}
	b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(cpu.Milliseconds())/float64(n), "cpu-ms/open")
}

// BenchmarkOpenAll measures opening the full set and the heap it keeps
// (MMDB files are memory-mapped and are not counted in the heap).
func BenchmarkOpenAll(b *testing.B) {
	var paths []string
	if dir := os.Getenv("GEOLOC_REAL_DB_DIR"); dir != "" {
		var err error
		paths, err = candidates.Discover(dir)
		require.NoError(b, err)
	} else {
		w, err := benchWorldOnce()
		require.NoError(b, err)
		paths = []string{w.city1, w.city2, w.asnCSV}
	}
	var heap uint64
	for b.Loop() {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		srcs, err := candidates.OpenAll(paths, candidates.OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		heap = m1.HeapAlloc - min(m0.HeapAlloc, m1.HeapAlloc)
		for _, s := range srcs {
			candidates.CloseSource(s)
		}
	}
	b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
}

// BenchmarkLookupEach measures each source alone.
func BenchmarkLookupEach(b *testing.B) {
	srcs, addrs, _ := benchSources(b)
	defer func() {
		for _, s := range srcs {
			candidates.CloseSource(s)
		}
	}()
	for _, s := range srcs {
		b.Run(s.Name(), func(b *testing.B) {
			b.ReportAllocs()
			start, cpu0 := time.Now(), cpuTime()
			n := 0
			for b.Loop() {
				if _, err := s.Lookup(candidates.Query{Addr: addrs[n%len(addrs)]}); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "addrs/s")
			b.ReportMetric(float64(n)/(cpuTime()-cpu0).Seconds(), "addrs/cpu-s")
		})
	}
}
