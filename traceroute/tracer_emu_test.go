//go:build linux

package traceroute_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/internal/netemu"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// newEmuTracer starts n behind a TUN device in a fresh namespace and opens
// a tracer inside it.
func newEmuTracer(t *testing.T, n *netemu.Network, opts traceroute.TracerOptions) (*traceroute.Tracer, *netemu.Emulator) {
	t.Helper()
	ns := netemu.NewNS(t)
	emu := netemu.StartTUN(t, ns, n)
	var tr *traceroute.Tracer
	require.NoError(t, ns.Do(func() (err error) {
		tr, err = traceroute.NewTracer(opts)
		return err
	}))
	t.Cleanup(func() { tr.Close() })
	return tr, emu
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

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
				tr, emu := newEmuTracer(t, &netemu.Network{Paths: []netemu.Path{p}}, traceroute.TracerOptions{})
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				got, err := tr.Trace(ctx, addr(dst), traceroute.TraceOptions{Protocol: proto, Timeout: 500 * time.Millisecond})
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
						assertRTT(t, 2*delayMs*float64(i+1), pr.RTTMs, "hop %d", i+1)
						assert.NotZero(t, pr.ReplyTTL)
					}
				}
			})
		}
	}
}

// assertRTT checks a measured RTT against the configured one: never less
// (the emulator cannot answer early), and not much more (the machine may
// be loaded, so the upper slack is generous).
func assertRTT(t *testing.T, wantMs, gotMs float64, msg string, args ...any) {
	t.Helper()
	assert.GreaterOrEqualf(t, gotMs, wantMs-0.5, msg, args...)
	assert.LessOrEqualf(t, gotMs, wantMs*1.3+30, msg, args...)
}
