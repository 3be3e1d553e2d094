//go:build linux

package tracer_test

import (
	"bytes"
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/tracer"
	"github.com/geoloc-dev/geoloc/tracer/internal/netemu"
	"github.com/geoloc-dev/geoloc/tracer/internal/probe"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// newEmuTracer starts n behind a TUN device in a fresh namespace and opens
// a tracer inside it.
func newEmuTracer(t *testing.T, n *netemu.Network, opts tracer.Options) (*tracer.Tracer, *netemu.Emulator) {
	t.Helper()
	ns := netemu.NewNS(t)
	emu := netemu.StartTUN(t, ns, n)
	var tr *tracer.Tracer
	require.NoError(t, ns.Do(func() (err error) {
		tr, err = tracer.New(opts)
		return err
	}))
	t.Cleanup(func() { tr.Close() })
	return tr, emu
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// lenient is the adaptive give-up floor for tests that expect every
// non-silent hop to answer: the emulator runs in the test process, and on
// a loaded machine (or under -race) its answers may lag by far more than
// the default 100 ms.
const lenient = time.Second

// linePath is a path of routers 198.51.100.1.. (or 2001:db8:1::1..), each
// link delayMs one way.
func linePath(dst string, hops int, delayMs float64) netemu.Path {
	d := addr(dst)
	p := netemu.Path{Dst: netip.PrefixFrom(d, d.BitLen()), DestDelayMs: delayMs}
	for i := range hops {
		var a netip.Addr
		if d.Is4() {
			a = netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)})
		} else {
			a = addr("2001:db8:1::").Next()
			for range i {
				a = a.Next()
			}
		}
		p.Hops = append(p.Hops, netemu.Hop{{Addr: a, DelayMs: delayMs}})
	}
	return p
}

func TestTracerEmulatedPath(t *testing.T) {
	const hops, delayMs = 6, 10.0
	for _, dst := range []string{"203.0.113.9", "2001:db8:9::9"} {
		for _, proto := range []string{"icmp", "udp", "tcp"} {
			t.Run(dst+"/"+proto, func(t *testing.T) {
				p := linePath(dst, hops, delayMs)
				p.Hops[2][0].Silent = true
				tr, emu := newEmuTracer(t, &netemu.Network{Paths: []netemu.Path{p}}, tracer.Options{})
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				got, err := tr.Trace(ctx, addr(dst), tracer.TraceOptions{Protocol: proto, Timeout: 2 * time.Second, MinWait: lenient})
				require.NoError(t, err)
				require.Equalf(t, hops+1, len(got.Hops), "hops; emulator %+v", emu.Net.Stats())
				assert.Equal(t, "geoloc", got.Format)
				assert.Equal(t, proto, got.Protocol)
				assert.Equal(t, addr(dst), got.Destination.Addr)
				for i, h := range got.Hops {
					assert.Equal(t, i+1, h.TTL)
					require.Len(t, h.Probes, 3)
					want := addr(dst)
					if i < hops {
						want = p.Hops[i][0].Addr
					}
					for _, pr := range h.Probes {
						if i == 2 {
							assert.True(t, pr.Lost, "silent hop")
							continue
						}
						require.False(t, pr.Lost, "hop %d", i+1)
						assert.Equal(t, want, pr.Addr)
						assert.NotZero(t, pr.ReplyTTL)
					}
					assertHopRTT(t, 2*delayMs*float64(i+1), h)
				}
			})
		}
	}
}

// assertHopRTT checks every answered probe of a hop against the lower
// bound and the best of them against the upper one: an emulator stall
// on a loaded machine delays some answers, rarely all.
func assertHopRTT(t *testing.T, wantMs float64, h traceroute.Hop) {
	t.Helper()
	best, ok := 0.0, false
	for _, p := range h.Probes {
		if p.Lost {
			continue
		}
		assert.GreaterOrEqualf(t, p.RTTMs, wantMs-0.5, "ttl %d", h.TTL)
		if !ok || p.RTTMs < best {
			best, ok = p.RTTMs, true
		}
	}
	if ok {
		assert.LessOrEqualf(t, best, wantMs*2+150, "ttl %d best rtt", h.TTL)
	}
}

func TestTracerEmulatedFeatures(t *testing.T) {
	labels := []probe.Label{{Label: 24015, TC: 0, S: false, TTL: 1}, {Label: 3012, TC: 0, S: true, TTL: 1}}
	for _, fam := range []string{"v4", "v6"} {
		t.Run(fam, func(t *testing.T) {
			dst := "203.0.113.20"
			r := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}) }
			if fam == "v6" {
				dst = "2001:db8:20::20"
				r = func(i int) netip.Addr { return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 15: byte(i)}) }
			}
			d := addr(dst)
			p := netemu.Path{
				Dst: netip.PrefixFrom(d, d.BitLen()),
				Hops: []netemu.Hop{
					{{Addr: r(1), DelayMs: 2}},
					{{Addr: r(21), DelayMs: 2}, {Addr: r(22), DelayMs: 2}, {Addr: r(23), DelayMs: 2}}, // ECMP
					{{Addr: r(3), DelayMs: 2, MPLS: labels}},
					{{Addr: r(4), DelayMs: 2, Silent: true}},
					{{Addr: r(5), DelayMs: 2}},
				},
				DestDelayMs: 2,
			}
			tr, emu := newEmuTracer(t, &netemu.Network{Paths: []netemu.Path{p}, Forge: true, ForgeSource: true}, tracer.Options{})
			ctx := context.Background()
			var progress int
			got, err := tr.Trace(ctx, d, tracer.TraceOptions{
				Flows: 16, Queries: 1, Timeout: 2 * time.Second, MinWait: lenient,
				Progress: func(hp tracer.HopProgress) {
					progress++
					assert.Equal(t, d, hp.Destination)
				},
			})
			require.NoError(t, err)
			require.Equal(t, 6, len(got.Hops))
			// One call per probe, plus possibly some for probes beyond the
			// destination answered before the nearest destination reply.
			assert.GreaterOrEqual(t, progress, 6*16)
			// Every flow sees one router at a plain hop; the ECMP hop shows
			// all three branches across 16 flows.
			assert.Equal(t, []netip.Addr{r(1)}, got.Hops[0].Addrs())
			assert.ElementsMatch(t, []netip.Addr{r(21), r(22), r(23)}, got.Hops[1].Addrs())
			// Each flow keeps its branch: the flow hash of a probe is constant.
			for _, pr := range got.Hops[2].Probes {
				require.False(t, pr.Lost)
				assert.Equal(t, r(3), pr.Addr)
				assert.Equal(t, []traceroute.MPLSLabel{{Label: 24015, TTL: 1}, {Label: 3012, S: true, TTL: 1}}, pr.MPLS)
			}
			// Silent hop stays silent although forged replies arrive for it.
			for _, pr := range got.Hops[3].Probes {
				assert.True(t, pr.Lost)
			}
			for _, h := range got.Hops {
				for _, pr := range h.Probes {
					assert.NotEqual(t, "192.0.2.66", pr.Addr.String(), "forged reply accepted")
					assert.NotEqual(t, "2001:db8:66::66", pr.Addr.String(), "forged reply accepted")
				}
			}
			assert.Equal(t, []netip.Addr{d}, got.Hops[5].Addrs())
			assert.Greater(t, emu.Net.Stats().Probes, 0)
		})
	}
}

// TestTracerFlowsStable checks that one flow keeps one path over repeated
// probes: a Paris-style trace never zigzags between ECMP branches.
func TestTracerFlowsStable(t *testing.T) {
	d := addr("203.0.113.30")
	var hops []netemu.Hop
	for i := range 4 {
		var h netemu.Hop
		for j := range 4 {
			h = append(h, netemu.Router{Addr: netip.AddrFrom4([4]byte{198, 51, 100, byte(10*(i+1) + j)}), DelayMs: 1})
		}
		hops = append(hops, h)
	}
	n := &netemu.Network{Paths: []netemu.Path{{Dst: netip.PrefixFrom(d, 32), Hops: hops, DestDelayMs: 1}}}
	tr, _ := newEmuTracer(t, n, tracer.Options{})
	for _, proto := range []string{"icmp", "udp", "tcp"} {
		got, err := tr.Trace(context.Background(), d, tracer.TraceOptions{Protocol: proto, Queries: 6, Timeout: time.Second, MinWait: lenient})
		require.NoError(t, err)
		require.Len(t, got.Hops, 5)
		for _, h := range got.Hops {
			assert.Len(t, h.Addrs(), 1, "%s ttl %d: one flow, one path", proto, h.TTL)
		}
	}
}

// TestTracerProbeFlows: every probe names the flow it used (probe i of a
// hop used flow i/Queries), probes of one flow keep one branch, and the
// flows survive the interchange.
func TestTracerProbeFlows(t *testing.T) {
	d := addr("203.0.113.31")
	n := &netemu.Network{Paths: []netemu.Path{{
		Dst: netip.PrefixFrom(d, 32),
		Hops: []netemu.Hop{
			{{Addr: addr("198.51.100.1"), DelayMs: 1}},
			{{Addr: addr("198.51.100.21"), DelayMs: 1}, {Addr: addr("198.51.100.22"), DelayMs: 1}}, // ECMP
			{{Addr: addr("198.51.100.3"), DelayMs: 1, Silent: true}},
		},
		DestDelayMs: 1,
	}}}
	tr, _ := newEmuTracer(t, n, tracer.Options{})
	const flows, queries = 16, 2
	for _, proto := range []string{"icmp", "udp", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			got, err := tr.Trace(context.Background(), d, tracer.TraceOptions{Protocol: proto, Flows: flows, Queries: queries, Timeout: time.Second, MinWait: lenient})
			require.NoError(t, err)
			require.Len(t, got.Hops, 4)
			for _, h := range got.Hops {
				require.Len(t, h.Probes, flows*queries, "ttl %d", h.TTL)
				branch := map[int]netip.Addr{}
				for i, p := range h.Probes {
					assert.Equal(t, i/queries, p.Flow, "ttl %d probe %d", h.TTL, i)
					if p.Lost {
						continue
					}
					if prev, ok := branch[p.Flow]; ok {
						assert.Equal(t, prev, p.Addr, "ttl %d flow %d changed branch", h.TTL, p.Flow)
					}
					branch[p.Flow] = p.Addr
				}
			}
			assert.Len(t, got.Hops[1].Addrs(), 2, "16 flows find both branches")
			for _, p := range got.Hops[2].Probes {
				assert.True(t, p.Lost)
			}

			var buf bytes.Buffer
			enc := traceroute.NewEncoder(&buf)
			require.NoError(t, enc.Encode(got))
			require.NoError(t, enc.Flush())
			assert.Contains(t, buf.String(), `"flow":15`)
			var back []*traceroute.Trace
			for b, err := range traceroute.Read(&buf, traceroute.ReadOptions{}) {
				require.NoError(t, err)
				back = append(back, b)
			}
			require.Len(t, back, 1)
			assert.Equal(t, got, back[0])
		})
	}
	// One flow: every probe is flow 0, and the interchange has no "flow".
	one, err := tr.Trace(context.Background(), d, tracer.TraceOptions{Timeout: time.Second, MinWait: lenient})
	require.NoError(t, err)
	for _, h := range one.Hops {
		for _, p := range h.Probes {
			assert.Zero(t, p.Flow)
		}
	}
	var buf bytes.Buffer
	enc := traceroute.NewEncoder(&buf)
	require.NoError(t, enc.Encode(one))
	require.NoError(t, enc.Flush())
	assert.NotContains(t, buf.String(), `"flow"`)
}

func TestTracerRateLimitedAndUnreachable(t *testing.T) {
	d := addr("203.0.113.40")
	n := &netemu.Network{Paths: []netemu.Path{{
		Dst: netip.PrefixFrom(d, 32),
		Hops: []netemu.Hop{
			{{Addr: addr("198.51.100.1"), DelayMs: 1, RatePPS: 1}}, // answers 1 of 3
			{{Addr: addr("198.51.100.2"), DelayMs: 1, Unreachable: true, Code: 1}},
		},
	}}}
	tr, _ := newEmuTracer(t, n, tracer.Options{})
	got, err := tr.Trace(context.Background(), d, tracer.TraceOptions{Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	require.Len(t, got.Hops, 2, "stops at the unreachable")
	lost := 0
	for _, p := range got.Hops[0].Probes {
		if p.Lost {
			lost++
		}
	}
	assert.Equal(t, 2, lost, "rate-limited hop answers once")
	for _, p := range got.Hops[1].Probes {
		require.False(t, p.Lost)
		assert.Equal(t, []string{"!H"}, p.Flags)
	}
}

func TestTracerTraceAll(t *testing.T) {
	var paths []netemu.Path
	var dsts []netip.Addr
	// Enough targets to interleave, few enough that the emulator (one
	// goroutine, slowed by -race) keeps up with the probes.
	for i := range 20 {
		d := netip.AddrFrom4([4]byte{203, 0, 113, byte(100 + i)})
		dsts = append(dsts, d)
		p := linePath(d.String(), 3+i%5, 2)
		paths = append(paths, p)
	}
	tr, _ := newEmuTracer(t, &netemu.Network{Paths: paths}, tracer.Options{RatePPS: 2000})
	seen := map[netip.Addr]bool{}
	for got, err := range tr.TraceAll(context.Background(), dsts, tracer.TraceOptions{Timeout: 2 * time.Second, MinWait: lenient}) {
		require.NoError(t, err)
		i := int(got.Destination.Addr.As4()[3]) - 100
		require.Len(t, got.Hops, 3+i%5+1, "%s", got.Destination.Addr)
		last := got.Hops[len(got.Hops)-1]
		assert.Equal(t, []netip.Addr{got.Destination.Addr}, last.Addrs())
		seen[got.Destination.Addr] = true
	}
	assert.Len(t, seen, len(dsts))
}

func TestTracerTraceName(t *testing.T) {
	p4, p6 := linePath("203.0.113.60", 2, 1), linePath("2001:db8:60::60", 3, 1)
	tr, _ := newEmuTracer(t, &netemu.Network{Paths: []netemu.Path{p4, p6}}, tracer.Options{})
	r := localResolver(t, map[string][]string{"both.example.": {"203.0.113.60", "2001:db8:60::60"}})
	got := map[netip.Addr]int{}
	for tc, err := range tr.TraceName(context.Background(), r, "ip", "both.example", tracer.TraceOptions{Timeout: 2 * time.Second, MinWait: lenient}) {
		require.NoError(t, err)
		assert.Equal(t, "both.example", tc.Destination.Name)
		got[tc.Destination.Addr] = len(tc.Hops)
	}
	assert.Equal(t, map[netip.Addr]int{addr("203.0.113.60"): 3, addr("2001:db8:60::60"): 4}, got)
}
