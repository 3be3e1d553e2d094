package netemu

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/tracer/internal/probe"
)

// These tests drive the Network directly: no namespaces, no root.

var (
	src = netip.MustParseAddr("192.0.2.1")
	dst = netip.MustParseAddr("203.0.113.1")
)

func testPath() Path {
	return Path{
		Dst: netip.MustParsePrefix("203.0.113.0/24"),
		Hops: []Hop{
			{{Addr: netip.MustParseAddr("198.51.100.1"), DelayMs: 5}},
			{{Addr: netip.MustParseAddr("198.51.100.21"), DelayMs: 10}, {Addr: netip.MustParseAddr("198.51.100.22"), DelayMs: 10}},
			{{Addr: netip.MustParseAddr("198.51.100.3"), DelayMs: 5, Silent: true}},
		},
		DestDelayMs: 5,
	}
}

func answer(t *testing.T, n *Network, f probe.Flow, ttl int) (probe.Reply, time.Duration, bool) {
	t.Helper()
	reps := n.Answer(f.IPv4Packet(7, uint8(ttl), 1, 16), time.Now())
	if len(reps) == 0 {
		return probe.Reply{}, 0, false
	}
	require.Len(t, reps, 1)
	r, err := probe.ParseIPv4(reps[0].Data)
	require.NoError(t, err)
	return r, reps[0].Delay, true
}

func TestNetworkAnswers(t *testing.T) {
	n := &Network{Paths: []Path{testPath()}}
	f := probe.Flow{Proto: probe.UDP, Src: src, Dst: dst, SrcPort: 40000, DstPort: 33434}
	r, d, ok := answer(t, n, f, 1)
	require.True(t, ok)
	assert.Equal(t, "198.51.100.1", r.From.String())
	assert.Equal(t, 10*time.Millisecond, d, "RTT is twice the one-way delay")
	assert.Equal(t, probe.KindTimeExceeded, r.Kind)
	assert.Equal(t, uint16(7), r.Tag)

	r, d, ok = answer(t, n, f, 2)
	require.True(t, ok)
	assert.Contains(t, []string{"198.51.100.21", "198.51.100.22"}, r.From.String())
	assert.Equal(t, 30*time.Millisecond, d)

	_, _, ok = answer(t, n, f, 3)
	assert.False(t, ok, "silent router")

	r, d, ok = answer(t, n, f, 4)
	require.True(t, ok)
	assert.Equal(t, dst, r.From)
	assert.Equal(t, probe.KindUnreachable, r.Kind)
	assert.Equal(t, uint8(3), r.Code, "port unreachable")
	assert.Equal(t, 50*time.Millisecond, d)
	assert.Equal(t, 64-3, r.ReplyTTL)

	assert.Empty(t, n.Answer(probe.Flow{Proto: probe.UDP, Src: src, Dst: netip.MustParseAddr("198.18.0.1")}.IPv4Packet(1, 9, 1, 8), time.Now()), "no path")
	assert.Empty(t, n.Answer([]byte{0x45, 0}, time.Now()), "garbage")
}

// TestNetworkECMP: one flow always takes one branch; many flows take all.
func TestNetworkECMP(t *testing.T) {
	n := &Network{Paths: []Path{testPath()}}
	seen := map[string]bool{}
	for port := uint16(40000); port < 40064; port++ {
		f := probe.Flow{Proto: probe.UDP, Src: src, Dst: dst, SrcPort: port, DstPort: 33434}
		first, _, _ := answer(t, n, f, 2)
		for range 3 {
			again, _, _ := answer(t, n, f, 2)
			assert.Equal(t, first.From, again.From, "flow %d", port)
		}
		seen[first.From.String()] = true
	}
	assert.Len(t, seen, 2)
}

func TestNetworkRateLimit(t *testing.T) {
	p := testPath()
	p.Hops[0][0].RatePPS = 2
	n := &Network{Paths: []Path{p}}
	f := probe.Flow{Proto: probe.ICMP, Src: src, Dst: dst, ID: 1, Checksum: 1}
	now := time.Now()
	got := 0
	for range 10 {
		if len(n.Answer(f.IPv4Packet(1, 1, 1, 8), now)) > 0 {
			got++
		}
	}
	assert.Equal(t, 2, got, "burst of one second's worth")
	assert.Len(t, n.Answer(f.IPv4Packet(1, 1, 1, 8), now.Add(time.Second)), 1, "refilled")
	assert.Equal(t, 8, n.Stats().Limited)
}

func TestNetworkDestinationAnswers(t *testing.T) {
	p := testPath()
	p.TCPOpen = true
	n := &Network{Paths: []Path{p}}
	icmp := probe.Flow{Proto: probe.ICMP, Src: src, Dst: dst, ID: 9, Checksum: 99}
	r, _, ok := answer(t, n, icmp, 9)
	require.True(t, ok)
	assert.Equal(t, probe.KindEchoReply, r.Kind)
	tcp := probe.Flow{Proto: probe.TCP, Src: src, Dst: dst, SrcPort: 5, DstPort: 443}
	r, _, ok = answer(t, n, tcp, 9)
	require.True(t, ok)
	assert.Equal(t, probe.KindTCP, r.Kind)
	assert.Equal(t, uint8(0x12), r.TCPFlags, "SYN-ACK")
}

func TestNetworkForge(t *testing.T) {
	for _, tc := range []struct {
		name        string
		forgeSource bool
		want        int
	}{
		{"forge", false, 4},
		{"forge source too", true, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := &Network{Paths: []Path{testPath()}, Forge: true, ForgeSource: tc.forgeSource}
			f := probe.Flow{Proto: probe.ICMP, Src: src, Dst: dst, ID: 9, Checksum: 99}
			reps := n.Answer(f.IPv4Packet(5, 3, 1, 8), time.Now()) // silent hop: only forgeries
			require.Len(t, reps, tc.want)
			badSum := 0
			for _, r := range reps {
				assert.True(t, r.Forged)
				rep, err := probe.ParseIPv4(r.Data)
				if errors.Is(err, probe.ErrChecksum) {
					badSum++
					continue
				}
				require.NoError(t, err)
				assert.Equal(t, uint16(5), rep.Tag, "forgeries carry the live tag")
				ok := rep.Proto == f.Proto && rep.Dst == f.Dst && rep.Src == f.Src && rep.ID == f.ID && (rep.Kind != probe.KindEchoReply || rep.From == dst)
				assert.False(t, ok, "forgery must not pass the tracer's flow check: %+v", rep)
			}
			assert.Equal(t, 1, badSum, "one forgery has a bad checksum")
		})
	}
}

func TestDelayMsBetween(t *testing.T) {
	// Paris to London, about 344 km: 1.7 ms one way in fibre.
	assert.InDelta(t, 1.72, DelayMsBetween(48.8566, 2.3522, 51.5074, -0.1278), 0.02)
	assert.Equal(t, 0.0, DelayMsBetween(10, 10, 10, 10))
	assert.InDelta(t, 100.0, DelayMsForKm(20000), 1e-9)
}
