//go:build linux

package tracer_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/hopstats"
	"github.com/geoloc-dev/geoloc/internal/liveview"
	"github.com/geoloc-dev/geoloc/tracer"
	"github.com/geoloc-dev/geoloc/tracer/internal/netemu"
	"github.com/geoloc-dev/geoloc/tracer/internal/probe"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// TestRoundsStatistics runs the live view's rounds (as `geoloc trace` and
// --report do) with the real tracer against an emulated path in a test
// namespace, and checks the per-hop statistics: an ECMP hop with its
// branches under one TTL, MPLS labels, a silent hop at 100% loss, a !H
// hop, every TTL sent once per round.
func TestRoundsStatistics(t *testing.T) {
	labels := []probe.Label{{Label: 24015, S: true, TTL: 1}}
	r := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}) }
	dst := addr("203.0.113.30")
	p := netemu.Path{
		Dst: netip.PrefixFrom(dst, 32),
		Hops: []netemu.Hop{
			{{Addr: r(1), DelayMs: 1}},
			{{Addr: r(21), DelayMs: 1}, {Addr: r(22), DelayMs: 1}}, // ECMP
			{{Addr: r(3), DelayMs: 1, MPLS: labels}},
			{{Addr: r(4), DelayMs: 1, Silent: true}},
			{{Addr: r(5), DelayMs: 1}},
		},
		DestDelayMs: 1,
	}
	hostUnreach := netemu.Path{
		Dst:  netip.MustParsePrefix("203.0.113.31/32"),
		Hops: []netemu.Hop{{{Addr: r(1), DelayMs: 1}}, {{Addr: r(9), DelayMs: 1, Unreachable: true, Code: 1}}},
	}
	tr, _ := newEmuTracer(t, &netemu.Network{Paths: []netemu.Path{p, hostUnreach}}, tracer.Options{})
	const rounds = 4
	targets := []liveview.Target{{Addr: dst}, {Addr: addr("203.0.113.31")}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	paths := liveview.Collect(ctx, tr, targets, tracer.TraceOptions{Queries: 1, Flows: 8, Timeout: 2 * time.Second, MinWait: lenient}, 10*time.Millisecond, rounds)
	require.Len(t, paths, 2)

	hops := paths[0].Hops()
	require.Len(t, hops, 6)
	assert.Equal(t, rounds, paths[0].Rounds)
	for _, h := range hops {
		assert.Equal(t, rounds*8, h.Sent, "TTL %d: one probe per flow and round", h.TTL)
	}
	addrsOf := func(h hopstats.Hop) []netip.Addr {
		var out []netip.Addr
		for _, r := range h.Responders {
			out = append(out, r.Addr)
		}
		return out
	}
	assert.ElementsMatch(t, []netip.Addr{r(21), r(22)}, addrsOf(hops[1]), "both ECMP branches under TTL 2")
	require.Len(t, hops[2].Responders, 1)
	assert.Equal(t, []traceroute.MPLSLabel{{Label: 24015, S: true, TTL: 1}}, hops[2].Responders[0].MPLS)
	assert.InDelta(t, 100.0, hops[3].LossPct(), 1e-9, "the silent hop")
	assert.Empty(t, hops[3].Responders)
	assert.Equal(t, []netip.Addr{dst}, addrsOf(hops[5]))
	assert.True(t, hops[5].Responders[0].Destination)
	assert.Equal(t, 5, paths[0].Answered())
	// RTTs grow with the emulated distance: 2 ms per hop at least.
	assert.GreaterOrEqual(t, hops[4].RTT.BestMs, 9.0)

	uh := paths[1].Hops()
	require.Len(t, uh, 2)
	require.Len(t, uh[1].Responders, 1)
	assert.Equal(t, r(9), uh[1].Responders[0].Addr)
	assert.Equal(t, []string{"!H"}, uh[1].Flags())
}
