package hopstats_test

import (
	"math"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/hopstats"
	"github.com/geoloc-dev/geoloc/traceroute"
)

func TestRTT(t *testing.T) {
	tests := []struct {
		name                      string
		samples                   []float64
		best, worst, avg, stdev   float64
		last, jitter, jAvg, jWrst float64
	}{
		{name: "none"},
		{name: "one", samples: []float64{5}, best: 5, worst: 5, avg: 5, last: 5},
		{name: "two", samples: []float64{2, 4}, best: 2, worst: 4, avg: 3, stdev: 1, last: 4, jitter: 2, jAvg: 2, jWrst: 2},
		// mean 5, population variance (9+1+1+9+0)/5 = 4; jitters 4,0,2,4 -> mean 2.5
		{name: "five", samples: []float64{2, 6, 6, 4, 8}, best: 2, worst: 8, avg: 5.2, stdev: math.Sqrt(4.16), last: 8, jitter: 4, jAvg: 2.5, jWrst: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r hopstats.RTT
			for _, s := range tc.samples {
				r.Add(s)
			}
			assert.Equal(t, len(tc.samples), r.Count)
			assert.InDelta(t, tc.best, r.BestMs, 1e-9)
			assert.InDelta(t, tc.worst, r.WorstMs, 1e-9)
			assert.InDelta(t, tc.avg, r.AvgMs, 1e-9)
			assert.InDelta(t, tc.stdev, r.StdevMs(), 1e-9)
			assert.InDelta(t, tc.last, r.LastMs, 1e-9)
			assert.InDelta(t, tc.jitter, r.JitterMs, 1e-9)
			assert.InDelta(t, tc.jAvg, r.JitterAvgMs, 1e-9)
			assert.InDelta(t, tc.jWrst, r.JitterMaxMs, 1e-9)
		})
	}
}

// FuzzRTT checks the running statistics against the textbook formulas
// computed from the whole sample list.
func FuzzRTT(f *testing.F) {
	f.Add(1.0, 2.0, 3.0, 250.5)
	f.Add(0.01, 0.01, 0.02, 0.0)
	f.Fuzz(func(t *testing.T, a, b, c, d float64) {
		xs := []float64{a, b, c, d}
		for _, x := range xs {
			if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 || x > 1e5 {
				t.Skip()
			}
		}
		var r hopstats.RTT
		sum := 0.0
		for _, x := range xs {
			r.Add(x)
			sum += x
		}
		mean := sum / 4
		v := 0.0
		for _, x := range xs {
			v += (x - mean) * (x - mean)
		}
		tol := 1e-9 * max(1, mean)
		require.InDelta(t, mean, r.AvgMs, tol)
		require.InDelta(t, math.Sqrt(v/4), r.StdevMs(), 1e-6*max(1, mean))
		require.LessOrEqual(t, r.BestMs, r.AvgMs+tol)
		require.GreaterOrEqual(t, r.WorstMs, r.AvgMs-tol)
		require.LessOrEqual(t, r.JitterAvgMs, r.JitterMaxMs+tol)
	})
}

var (
	src = netip.MustParseAddr("192.0.2.1")
	dst = netip.MustParseAddr("203.0.113.9")
	r1  = netip.MustParseAddr("198.51.100.1")
	r2a = netip.MustParseAddr("198.51.100.2")
	r2b = netip.MustParseAddr("198.51.100.3")
)

func ok(a netip.Addr, ms float64, flags ...string) traceroute.Probe {
	return traceroute.Probe{Addr: a, RTTMs: ms, Flags: flags}
}

var lost = traceroute.Probe{Lost: true}

func round(hops ...[]traceroute.Probe) *traceroute.Trace {
	t := &traceroute.Trace{Source: traceroute.Endpoint{Addr: src}, Destination: traceroute.Endpoint{Addr: dst, Name: "example.org"}, Protocol: "icmp"}
	for i, ps := range hops {
		t.Hops = append(t.Hops, traceroute.Hop{TTL: i + 1, Probes: ps})
	}
	return t
}

func TestPath(t *testing.T) {
	var p hopstats.Path
	mpls := []traceroute.MPLSLabel{{Label: 24001, S: true, TTL: 1}}
	p.Add(round(
		[]traceroute.Probe{ok(r1, 1)},
		[]traceroute.Probe{ok(r2a, 10)},
		[]traceroute.Probe{lost},
		[]traceroute.Probe{ok(dst, 20)},
	))
	withMPLS := ok(r2b, 12, "!H")
	withMPLS.MPLS = mpls
	p.Add(round(
		[]traceroute.Probe{ok(r1, 3)},
		[]traceroute.Probe{withMPLS},
		[]traceroute.Probe{lost},
		[]traceroute.Probe{lost},
	))
	require.Equal(t, 2, p.Rounds)
	hops := p.Hops()
	require.Len(t, hops, 4)

	tests := []struct {
		ttl              int
		sent, received   int
		loss             float64
		responders       []netip.Addr
		avg, best, worst float64
		flags            []string
	}{
		{1, 2, 2, 0, []netip.Addr{r1}, 2, 1, 3, nil},
		{2, 2, 2, 0, []netip.Addr{r2a, r2b}, 11, 10, 12, []string{"!H"}},
		{3, 2, 0, 100, nil, 0, 0, 0, nil},
		{4, 2, 1, 50, []netip.Addr{dst}, 20, 20, 20, nil},
	}
	for _, tc := range tests {
		h := hops[tc.ttl-1]
		assert.Equal(t, tc.ttl, h.TTL)
		assert.Equal(t, tc.sent, h.Sent, "ttl %d sent", tc.ttl)
		assert.Equal(t, tc.received, h.Received, "ttl %d received", tc.ttl)
		assert.InDelta(t, tc.loss, h.LossPct(), 1e-9, "ttl %d loss", tc.ttl)
		var got []netip.Addr
		for _, r := range h.Responders {
			got = append(got, r.Addr)
		}
		assert.Equal(t, tc.responders, got, "ttl %d responders", tc.ttl)
		assert.InDelta(t, tc.avg, h.RTT.AvgMs, 1e-9)
		assert.InDelta(t, tc.best, h.RTT.BestMs, 1e-9)
		assert.InDelta(t, tc.worst, h.RTT.WorstMs, 1e-9)
		assert.Equal(t, tc.flags, h.Flags())
	}
	assert.Equal(t, mpls, hops[1].Responders[1].MPLS)
	assert.Equal(t, []hopstats.FlagCount{{Flag: "!H", Count: 1}}, hops[1].Responders[1].Flags)
	assert.True(t, hops[3].Responders[0].Destination)
	assert.Equal(t, 3, p.Answered(), "TTLs answered, not addresses")

	// The merged trace has one probe per responder at its best RTT.
	tr := p.Trace()
	require.Len(t, tr.Hops, 4)
	assert.Equal(t, src, tr.Source.Addr)
	assert.Equal(t, "example.org", tr.Destination.Name)
	assert.Equal(t, []netip.Addr{r2a, r2b}, tr.Hops[1].Addrs())
	assert.True(t, tr.Hops[2].Probes[0].Lost)
	best, found := tr.Hops[0].MinRTTMs(r1)
	assert.True(t, found)
	assert.InDelta(t, 1.0, best, 1e-9)

	// A shorter round (the destination moved nearer) shortens the path
	// shown; the far hop keeps its counts for when it comes back.
	p.Add(round([]traceroute.Probe{ok(r1, 2)}, []traceroute.Probe{ok(dst, 9)}))
	assert.Len(t, p.Hops(), 2)

	p.Reset()
	assert.Zero(t, p.Rounds)
	assert.Empty(t, p.Hops())
	assert.Equal(t, dst, p.Destination.Addr, "reset keeps what the path is to")
}

func TestPathMultiFlow(t *testing.T) {
	// Two flows, two probes each: every probe counts, loss is per TTL.
	var p hopstats.Path
	p.Add(round([]traceroute.Probe{ok(r2a, 1), lost, ok(r2b, 2), ok(r2b, 4)}))
	h := p.Hops()[0]
	assert.Equal(t, 4, h.Sent)
	assert.Equal(t, 3, h.Received)
	assert.InDelta(t, 25.0, h.LossPct(), 1e-9)
	require.Len(t, h.Responders, 2)
	assert.Equal(t, 2, h.Responders[1].RTT.Count)
	assert.InDelta(t, 3.0, h.Responders[1].RTT.AvgMs, 1e-9)
}

func TestPathNil(t *testing.T) {
	var p hopstats.Path
	p.Add(nil)
	assert.Zero(t, p.Rounds)
	assert.Empty(t, p.Hops())
	assert.Empty(t, p.Trace().Hops)
}
