package geoloc

import (
	"context"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// FuzzLocate builds traces from arbitrary bytes (addresses from a pool that
// mixes public, private and CGNAT ones; names with and without hints; RTTs;
// a vantage point or none; fused observations) and checks the engine's
// promises: no panic, one result per (hop, address), confidences in [0,1],
// valid coordinates, no location that breaks the trace's latency bound, no
// two that break the bound between hops of one trace, and none outside an
// inferred vantage point's reach.
func FuzzLocate(f *testing.F) {
	f.Add([]byte{1, 10, 20, 3, 40, 5, 60, 7, 80, 9, 100})
	f.Add([]byte{0, 255, 0, 255, 1, 2, 3})
	f.Add([]byte("the quick brown fox jumps over the lazy dog"))
	pool := []string{"62.115.0.1", "62.115.0.2", "62.115.0.3", "62.115.0.9", "8.8.4.1", "10.0.0.1", "100.64.1.1", "192.168.1.1", "2001:db8::1", "2a00::1"}
	names := []string{"", "ae1.osl.example.net", "ae2.sto.example.net", "ae3.ham.example.net", "x.lon.example.net", "x.nyc.example.net", "x.fra.example.net"}
	vps := []latency.Point{{Lat: 59.9139, Lon: 10.7522}, {Lat: 35.6762, Lon: 139.6503}, {Lat: -33.87, Lon: 151.21}}
	f.Fuzz(func(t *testing.T, b []byte) {
		next := func() int {
			if len(b) == 0 {
				return 0
			}
			x := int(b[0])
			b = b[1:]
			return x
		}
		src := osloSources()
		src.m[netip.MustParseAddr("8.8.4.1")] = candidates.Answer{Candidates: []candidates.Candidate{geo("db1", 40.7128, -74.0060, "New York", "US")}}
		e := New(Options{Sources: []candidates.Source{src}, Hints: fakeHints})
		mk := func() (*traceroute.Trace, *latency.Point) {
			tr := &traceroute.Trace{}
			var v *latency.Point
			if k := next(); k%4 != 0 {
				p := vps[k%len(vps)]
				v = &p
				tr.Source.Lat, tr.Source.Lon = &p.Lat, &p.Lon
			}
			nh := next() % 8
			for i := 0; i < nh; i++ {
				h := traceroute.Hop{TTL: i + 1}
				for range 1 + next()%3 {
					a := netip.MustParseAddr(pool[next()%len(pool)])
					h.Probes = append(h.Probes, traceroute.Probe{Addr: a, Name: names[next()%len(names)], RTTMs: float64(next()) / 2, Lost: next()%9 == 0})
				}
				tr.Hops = append(tr.Hops, h)
			}
			return tr, v
		}
		for range next() % 3 {
			tr, _ := mk()
			e.Observe(tr)
		}
		tr, v := mk()
		r, err := e.Locate(context.Background(), tr)
		require.NoError(t, err)
		n := 0
		for i := range tr.Hops {
			n += len(tr.Hops[i].Addrs())
		}
		require.Len(t, r.Hops, n)
		for _, h := range r.Hops {
			require.GreaterOrEqual(t, h.Confidence, 0.0)
			require.LessOrEqual(t, h.Confidence, 1.0)
			if h.Location == nil {
				continue
			}
			p := latency.Point{Lat: h.Location.Lat, Lon: h.Location.Lon}
			require.True(t, p.Valid(), "%+v", h.Location)
			if v != nil && h.RTTMs > 0 {
				require.LessOrEqual(t, latency.DistanceKm(*v, p), latency.MaxDistanceKm(h.RTTMs, DefaultSlackKm)+1e-6, "%+v", h)
			}
		}
		requirePairwise(t, r)
		if r.Vantage != nil && r.Vantage.Inferred {
			// An inferred vantage point binds like a given one, with its
			// own radius added.
			vp := latency.Point{Lat: r.Vantage.Lat, Lon: r.Vantage.Lon}
			for _, h := range r.Hops {
				if h.Location != nil && h.RTTMs > 0 {
					p := latency.Point{Lat: h.Location.Lat, Lon: h.Location.Lon}
					require.LessOrEqual(t, latency.DistanceKm(vp, p), latency.MaxDistanceKm(h.RTTMs, DefaultSlackKm+r.Vantage.RadiusKm)+1, "%+v", h)
				}
			}
		}
	})
}
