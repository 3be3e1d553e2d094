//go:build linux

package tracer_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/geoloc-dev/geoloc/tracer"
	"github.com/geoloc-dev/geoloc/tracer/internal/netemu"
)

// withoutNetRaw runs fn with CAP_NET_RAW dropped from the effective set of
// the current thread (capabilities are per thread on Linux; the caller
// holds the thread locked, as NS.Do does) and raises it again afterwards.
func withoutNetRaw(fn func() error) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	saved := data
	data[unix.CAP_NET_RAW/32].Effective &^= 1 << (unix.CAP_NET_RAW % 32)
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return err
	}
	ferr := fn()
	if err := unix.Capset(&hdr, &saved[0]); err != nil {
		return errors.Join(ferr, err)
	}
	return ferr
}

func TestTracerNoPrivilege(t *testing.T) {
	ns := netemu.NewNS(t)
	// New namespaces admit no group to ping sockets ("1 0").
	require.NoError(t, ns.Sysctl("net.ipv4.ping_group_range", "1 0"))
	var err error
	require.NoError(t, ns.Do(func() error {
		return withoutNetRaw(func() error {
			_, err = tracer.New(tracer.Options{})
			return nil
		})
	}))
	require.ErrorIs(t, err, tracer.ErrPrivilege)
	assert.Equal(t, "raw sockets need root or CAP_NET_RAW (grant it to the program with setcap cap_net_raw+ep, or run it as root)", err.Error())
	assert.NotContains(t, err.Error(), "\n")
}

func TestTracerPingSockets(t *testing.T) {
	d := addr("203.0.113.50")
	p := linePath(d.String(), 3, 3)
	p.Hops[1][0].MPLS = nil
	d6 := addr("2001:db8:50::50")
	p6 := linePath(d6.String(), 3, 3)
	ns := netemu.NewNS(t)
	emu := netemu.StartTUN(t, ns, &netemu.Network{Paths: []netemu.Path{p, p6}, Forge: true})
	require.NoError(t, ns.Sysctl("net.ipv4.ping_group_range", "0 2147483647"))
	var tr *tracer.Tracer
	require.NoError(t, ns.Do(func() error {
		return withoutNetRaw(func() (err error) {
			tr, err = tracer.New(tracer.Options{})
			return err
		})
	}))
	defer tr.Close()
	require.True(t, tr.Unprivileged())
	for _, c := range []struct {
		dst  netip.Addr
		path netemu.Path
	}{{d, p}, {d6, p6}} {
		got, err := tr.Trace(context.Background(), c.dst, tracer.TraceOptions{Timeout: 2 * time.Second, MinWait: lenient})
		require.NoError(t, err, "emulator saw %+v", emu.Net.Stats())
		require.Len(t, got.Hops, 4)
		for i, h := range got.Hops {
			want := c.dst
			if i < 3 {
				want = c.path.Hops[i][0].Addr
			}
			assert.Equal(t, []netip.Addr{want}, h.Addrs(), "ttl %d", h.TTL)
			for _, pr := range h.Probes {
				require.False(t, pr.Lost)
			}
			assertHopRTT(t, 6*float64(i+1), h)
		}
	}
	_, err := tr.Trace(context.Background(), d, tracer.TraceOptions{Protocol: "udp"})
	require.ErrorIs(t, err, tracer.ErrPrivilege)
}

// TestNewAsUser runs where tests are not root (developer machines):
// the tracer must either fall back to ping sockets or say what to do.
func TestNewAsUser(t *testing.T) {
	if unix.Geteuid() == 0 {
		t.Skip("running as root: TestTracerNoPrivilege drops CAP_NET_RAW instead")
	}
	tr, err := tracer.New(tracer.Options{})
	if err != nil {
		require.ErrorIs(t, err, tracer.ErrPrivilege)
		assert.Contains(t, err.Error(), "setcap cap_net_raw+ep")
		return
	}
	defer tr.Close()
	assert.True(t, tr.Unprivileged(), "without root only ping sockets can open")
}
