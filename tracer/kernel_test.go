//go:build linux

package tracer_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/tracer"
	"github.com/geoloc-dev/geoloc/tracer/internal/netemu"
)

// TestTracerKernelRouters traces through real Linux routers: network
// namespaces joined by veth pairs, forwarding on.
func TestTracerKernelRouters(t *testing.T) {
	const routers = 3
	c := netemu.NewChain(t, routers)
	var tr *tracer.Tracer
	require.NoError(t, c.Host.Do(func() (err error) {
		tr, err = tracer.New(tracer.Options{})
		return err
	}))
	defer tr.Close()
	for _, fam := range []struct {
		name    string
		dst     netip.Addr
		routers []netip.Addr
	}{{"v4", c.Dest4, c.RouterAddrs4}, {"v6", c.Dest6, c.RouterAddrs6}} {
		for _, proto := range []string{"icmp", "udp", "tcp"} {
			t.Run(fam.name+"/"+proto, func(t *testing.T) {
				got, err := tr.Trace(context.Background(), fam.dst, tracer.TraceOptions{Protocol: proto, Timeout: time.Second, MinWait: lenient})
				require.NoError(t, err)
				require.Len(t, got.Hops, routers+1)
				for i, h := range got.Hops {
					want := fam.dst
					if i < routers {
						want = fam.routers[i]
					}
					assert.Equal(t, []netip.Addr{want}, h.Addrs(), "ttl %d", h.TTL)
					for _, p := range h.Probes {
						require.False(t, p.Lost, "ttl %d: %+v", h.TTL, got.Hops)
						assert.Less(t, p.RTTMs, 100.0)
						assert.Empty(t, p.Flags)
						// Linux replies start at TTL 64: one less per router back.
						assert.Equal(t, 64-i, p.ReplyTTL, "ttl %d reply ttl", h.TTL)
					}
				}
				assert.Equal(t, fam.dst, got.Destination.Addr)
				if fam.name == "v4" {
					assert.Equal(t, "192.0.2.1", got.Source.Addr.String())
				}
			})
		}
	}
}

// TestTracerKernelSource: a source assigned to the host (in the tracer's
// namespace) is used; another host's address is refused before any probe
// leaves, as raw probes would carry it as given.
func TestTracerKernelSource(t *testing.T) {
	c := netemu.NewChain(t, 1)
	var tr *tracer.Tracer
	require.NoError(t, c.Host.Do(func() (err error) {
		tr, err = tracer.New(tracer.Options{})
		return err
	}))
	defer tr.Close()
	for _, tc := range []struct {
		name     string
		dst, src netip.Addr
		err      string
	}{
		{"v4 own", c.Dest4, netip.MustParseAddr("192.0.2.1"), ""},
		{"v6 own", c.Dest6, netip.MustParseAddr("2001:db8:ffff::1"), ""},
		{"v4 another host's", c.Dest4, netip.MustParseAddr("192.0.2.77"), "source 192.0.2.77 is not an address of this host"},
		{"v4 a router's", c.Dest4, c.RouterAddrs4[0], "is not an address of this host"},
		{"v6 another host's", c.Dest6, netip.MustParseAddr("2001:db8:ffff::77"), "source 2001:db8:ffff::77 is not an address of this host"},
		{"v4 source, v6 destination", c.Dest6, netip.MustParseAddr("192.0.2.1"), "is of another family"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tr.Trace(context.Background(), tc.dst, tracer.TraceOptions{Source: tc.src, Queries: 1, Timeout: time.Second, MinWait: lenient})
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.src, got.Source.Addr)
			assert.Equal(t, []netip.Addr{tc.dst}, got.Hops[len(got.Hops)-1].Addrs())
		})
	}
}

// TestTracerKernelECMP traces through Linux per-flow load balancing:
// several flows find both branches, and each flow keeps to one.
func TestTracerKernelECMP(t *testing.T) {
	d := netemu.NewDiamond(t)
	var tr *tracer.Tracer
	require.NoError(t, d.Host.Do(func() (err error) {
		tr, err = tracer.New(tracer.Options{})
		return err
	}))
	defer tr.Close()
	for _, proto := range []string{"udp", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			got, err := tr.Trace(context.Background(), d.Dest4, tracer.TraceOptions{Protocol: proto, Flows: 16, Queries: 2, Timeout: time.Second, MinWait: lenient})
			require.NoError(t, err)
			require.Len(t, got.Hops, 4)
			assert.Equal(t, []netip.Addr{d.R1Addr}, got.Hops[0].Addrs())
			assert.ElementsMatch(t, []netip.Addr{d.R2aAddr, d.R2bAddr}, got.Hops[1].Addrs(), "both branches")
			assert.Equal(t, []netip.Addr{d.R3Addr}, got.Hops[2].Addrs())
			assert.Equal(t, []netip.Addr{d.Dest4}, got.Hops[3].Addrs())
			// Probe i used flow i/Queries: both probes of a flow took one branch.
			ps := got.Hops[1].Probes
			for i := 0; i+1 < len(ps); i += 2 {
				require.False(t, ps[i].Lost || ps[i+1].Lost)
				assert.Equal(t, []int{i / 2, i / 2}, []int{ps[i].Flow, ps[i+1].Flow})
				assert.Equal(t, ps[i].Addr, ps[i+1].Addr, "flow %d", i/2)
			}
			// One flow alone never sees both branches.
			one, err := tr.Trace(context.Background(), d.Dest4, tracer.TraceOptions{Protocol: proto, Queries: 8, Timeout: time.Second, MinWait: lenient})
			require.NoError(t, err)
			assert.Len(t, one.Hops[1].Addrs(), 1)
		})
	}
}
