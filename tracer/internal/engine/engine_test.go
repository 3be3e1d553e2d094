package engine_test

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/tracer/internal/engine"
	"github.com/geoloc-dev/geoloc/tracer/internal/netemu"
	"github.com/geoloc-dev/geoloc/tracer/internal/probe"
	"github.com/geoloc-dev/geoloc/tracer/internal/rawsock"
)

// These tests run the engine against the emulator in-process (netemu.Pipe):
// no sockets, no root.

var (
	src4 = netip.MustParseAddr("192.0.2.1")
	src6 = netip.MustParseAddr("2001:db8:ffff::1")
)

func router(v6 bool, i int) netip.Addr {
	if v6 {
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 14: byte(i >> 8), 15: byte(i)})
	}
	return netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
}

func line(dst netip.Addr, hops int, delayMs float64) netemu.Path {
	p := netemu.Path{Dst: netip.PrefixFrom(dst, dst.BitLen()), DestDelayMs: delayMs}
	for i := range hops {
		p.Hops = append(p.Hops, netemu.Hop{{Addr: router(dst.Is6(), i+1), DelayMs: delayMs}})
	}
	return p
}

func newEngine(t testing.TB, n *netemu.Network) *engine.Engine {
	e := engine.New(map[int]engine.Conn{4: netemu.NewPipe(n, src4), 6: netemu.NewPipe(n, src6)}, nil, 100000, nil)
	t.Cleanup(func() { e.Close() })
	return e
}

func TestEnginePath(t *testing.T) {
	for _, dst := range []string{"203.0.113.1", "2001:db8:1::1"} {
		for _, proto := range []probe.Proto{probe.ICMP, probe.UDP, probe.TCP} {
			t.Run(dst+"/"+proto.String(), func(t *testing.T) {
				d := netip.MustParseAddr(dst)
				p := line(d, 5, 2)
				p.Hops[1][0].Silent = true
				p.TCPOpen = d.Is4() // SYN-ACK over IPv4, RST over IPv6
				n := &netemu.Network{Paths: []netemu.Path{p}, Forge: true, ForgeSource: true}
				e := newEngine(t, n)
				got, err := e.Trace(context.Background(), d, engine.Config{Proto: proto, Timeout: 200 * time.Millisecond})
				require.NoError(t, err)
				assert.True(t, got.Reached)
				require.Len(t, got.Hops, 6)
				for i, h := range got.Hops {
					require.Len(t, h.Probes, 3)
					for _, r := range h.Probes {
						if i == 1 {
							assert.True(t, r.Lost)
							continue
						}
						require.False(t, r.Lost, "ttl %d", h.TTL)
						want := d
						if i < 5 {
							want = router(d.Is6(), i+1)
						}
						assert.Equal(t, want, r.From)
						assert.GreaterOrEqual(t, r.RTT, time.Duration(4*(i+1))*time.Millisecond)
						assert.Equal(t, i == 5, r.Final)
					}
				}
				if proto == probe.UDP {
					// UDP: later rounds wait for the first destination answer
					// and stop at its TTL, where the destination's answers to
					// first-round probes beyond it stand in.
					assert.LessOrEqual(t, n.Stats().Probes, 30+2*6)
				} else {
					assert.LessOrEqual(t, n.Stats().Probes, 3*30)
				}
				assert.Greater(t, n.Stats().Probes, 30)
			})
		}
	}
}

func TestEngineECMPFlows(t *testing.T) {
	d := netip.MustParseAddr("203.0.113.2")
	p := netemu.Path{Dst: netip.PrefixFrom(d, 32), Hops: []netemu.Hop{
		{{Addr: router(false, 1)}},
		{{Addr: router(false, 21)}, {Addr: router(false, 22)}},
		{{Addr: router(false, 31)}, {Addr: router(false, 32)}, {Addr: router(false, 33)}, {Addr: router(false, 34)}},
	}}
	for _, proto := range []probe.Proto{probe.ICMP, probe.UDP, probe.TCP} {
		t.Run(proto.String(), func(t *testing.T) {
			e := newEngine(t, &netemu.Network{Paths: []netemu.Path{p}})
			got, err := e.Trace(context.Background(), d, engine.Config{Proto: proto, Flows: 24, Queries: 2, Timeout: 200 * time.Millisecond})
			require.NoError(t, err)
			require.Len(t, got.Hops, 4)
			for hi, want := range []int{1, 2, 4, 1} {
				seen := map[netip.Addr]bool{}
				perFlow := map[int]netip.Addr{}
				for _, r := range got.Hops[hi].Probes {
					require.False(t, r.Lost)
					seen[r.From] = true
					if prev, ok := perFlow[r.Flow]; ok {
						assert.Equal(t, prev, r.From, "flow %d changed path", r.Flow)
					}
					perFlow[r.Flow] = r.From
				}
				assert.Len(t, seen, want, "ttl %d branches", hi+1)
			}
		})
	}
}

func TestEngineMPLSAndFlags(t *testing.T) {
	d := netip.MustParseAddr("2001:db8:3::3")
	labels := []probe.Label{{Label: 16005, TC: 3, S: true, TTL: 254}}
	p := netemu.Path{Dst: netip.PrefixFrom(d, 128), Hops: []netemu.Hop{
		{{Addr: router(true, 1), MPLS: labels}},
		{{Addr: router(true, 2), Unreachable: true, Code: 1}}, // admin prohibited
	}}
	e := newEngine(t, &netemu.Network{Paths: []netemu.Path{p}})
	got, err := e.Trace(context.Background(), d, engine.Config{Timeout: 200 * time.Millisecond})
	require.NoError(t, err)
	assert.False(t, got.Reached)
	require.Len(t, got.Hops, 2)
	assert.Equal(t, labels, got.Hops[0].Probes[0].MPLS)
	assert.Equal(t, 255, got.Hops[0].Probes[0].ReplyTTL)
	assert.Equal(t, []string{"!X"}, got.Hops[1].Probes[0].Flags)
}

// injector is a Pipe that, with every probe it sends, delivers the
// replies forge makes for that probe: they carry its live tag.
type injector struct {
	*netemu.Pipe
	forge func(pr rawsock.Probe) []byte
}

func (c *injector) Send(pr rawsock.Probe) (time.Time, error) {
	at, err := c.Pipe.Send(pr)
	if err == nil {
		c.Pipe.Inject(c.forge(pr))
	}
	return at, err
}

// TestEngineInjected feeds, for every probe, a reply that names its tag;
// only one that answers that very probe may count (issue 16 item 12 for
// the checksum and the quoted source). The genuine answer shows the
// injection reaches the engine.
func TestEngineInjected(t *testing.T) {
	stranger4, stranger6 := router(false, 66), router(true, 66)
	other4, other6 := netip.MustParseAddr("192.0.2.77"), netip.MustParseAddr("2001:db8:ffff::77")
	// quote is the probe as the router got it, from the flow fl.
	quote := func(fl probe.Flow, pr rawsock.Probe) []byte {
		if fl.Dst.Is4() {
			return fl.IPv4Packet(pr.Tag, 1, pr.Tag, pr.Payload)
		}
		return fl.IPv6Packet(pr.Tag, 1, pr.Payload)
	}
	pick := func(fl probe.Flow, a4, a6 netip.Addr) netip.Addr {
		if fl.Dst.Is4() {
			return a4
		}
		return a6
	}
	timeExceeded := func(pr rawsock.Probe, fl probe.Flow) []byte {
		return probe.ICMPError(pick(pr.Flow, stranger4, stranger6), pr.Flow.Src, 250, probe.KindTimeExceeded, 0, 0, quote(fl, pr), nil)
	}
	tests := []struct {
		name     string
		forge    func(pr rawsock.Probe) []byte
		answered bool
	}{
		{"genuine time exceeded", func(pr rawsock.Probe) []byte { return timeExceeded(pr, pr.Flow) }, true},
		{"another flow", func(pr rawsock.Probe) []byte {
			fl := pr.Flow
			fl.ID++
			fl.SrcPort++
			return timeExceeded(pr, fl)
		}, false},
		{"another source", func(pr rawsock.Probe) []byte {
			fl := pr.Flow
			fl.Src = pick(fl, other4, other6)
			return timeExceeded(pr, fl)
		}, false},
		{"another destination", func(pr rawsock.Probe) []byte {
			fl := pr.Flow
			fl.Dst = pick(fl, other4, other6)
			return timeExceeded(pr, fl)
		}, false},
		{"bad checksum", func(pr rawsock.Probe) []byte {
			b := timeExceeded(pr, pr.Flow)
			l3 := 20
			if pr.Flow.Dst.Is6() {
				l3 = 40
			}
			b[l3+2] ^= 0x5a
			return b
		}, false},
		{"destination's answer from a stranger", func(pr rawsock.Probe) []byte {
			fl := pr.Flow
			// UDP has no such answer: a port unreachable quoting the probe
			// may come from any router (a firewall rejecting it).
			if fl.Proto == probe.ICMP {
				return probe.EchoReply(pick(fl, stranger4, stranger6), fl.Src, 50, fl.Transport(pr.Tag, pr.Payload))
			}
			return probe.TCPReply(pick(fl, stranger4, stranger6), fl.Src, 50, fl.Transport(pr.Tag, 0), true)
		}, false},
	}
	for _, dst := range []netip.Addr{netip.MustParseAddr("203.0.113.4"), netip.MustParseAddr("2001:db8:4::4")} {
		silent := netemu.Path{Dst: netip.PrefixFrom(dst, dst.BitLen()), Hops: []netemu.Hop{{{Addr: router(dst.Is6(), 1), Silent: true}}}, DestSilent: true}
		for _, proto := range []probe.Proto{probe.ICMP, probe.UDP, probe.TCP} {
			for _, tc := range tests {
				if proto == probe.UDP && strings.HasPrefix(tc.name, "destination's answer") {
					continue
				}
				t.Run(dst.String()+"/"+proto.String()+"/"+tc.name, func(t *testing.T) {
					src := src4
					if dst.Is6() {
						src = src6
					}
					conn := &injector{Pipe: netemu.NewPipe(&netemu.Network{Paths: []netemu.Path{silent}}, src), forge: tc.forge}
					e := engine.New(map[int]engine.Conn{famOf(dst): conn}, nil, 100000, nil)
					defer e.Close()
					got, err := e.Trace(context.Background(), dst, engine.Config{Proto: proto, MaxTTL: 3, Queries: 2, Timeout: 150 * time.Millisecond})
					require.NoError(t, err)
					require.NotEmpty(t, got.Hops)
					for _, h := range got.Hops {
						for _, r := range h.Probes {
							if tc.answered {
								require.False(t, r.Lost, "ttl %d", h.TTL)
								assert.Equal(t, pick(probe.Flow{Dst: dst}, stranger4, stranger6), r.From)
								continue
							}
							assert.True(t, r.Lost, "ttl %d got %s", h.TTL, r.From)
						}
					}
				})
			}
		}
	}
}

func famOf(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

func TestEngineCancel(t *testing.T) {
	d := netip.MustParseAddr("203.0.113.5")
	e := newEngine(t, &netemu.Network{Paths: []netemu.Path{{Dst: netip.PrefixFrom(d, 32), DestSilent: true}}})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	got, err := e.Trace(ctx, d, engine.Config{Timeout: 10 * time.Second})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotNil(t, got)
	assert.Len(t, got.Hops, 30)
}

func TestEngineConfigErrors(t *testing.T) {
	e := newEngine(t, &netemu.Network{})
	d := netip.MustParseAddr("203.0.113.6")
	for name, c := range map[string]engine.Config{
		"proto":     {Proto: 99},
		"ttl range": {FirstTTL: 10, MaxTTL: 5},
		"max ttl":   {MaxTTL: 300},
		"flows":     {Flows: 1000},
	} {
		_, err := e.Trace(context.Background(), d, c)
		assert.Error(t, err, name)
	}
	_, err := e.Trace(context.Background(), netip.Addr{}, engine.Config{})
	assert.Error(t, err)
	only4 := engine.New(map[int]engine.Conn{4: netemu.NewPipe(&netemu.Network{}, src4)}, nil, 0, nil)
	defer only4.Close()
	_, err = only4.Trace(context.Background(), netip.MustParseAddr("2001:db8::1"), engine.Config{})
	assert.ErrorIs(t, err, engine.ErrFamily)
}

// TestEngineSource: a given source must be this host's (the pipe's own
// address) and of the destination's family; it is then the trace's.
func TestEngineSource(t *testing.T) {
	d4, d6 := netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("2001:db8:7::7")
	e := newEngine(t, &netemu.Network{Paths: []netemu.Path{line(d4, 1, 1), line(d6, 1, 1)}})
	for _, tc := range []struct {
		name     string
		dst, src netip.Addr
		err      string
	}{
		{"own v4", d4, src4, ""},
		{"own v4, mapped", d4, netip.AddrFrom16(src4.As16()), ""},
		{"own v6", d6, src6, ""},
		{"another host's v4", d4, netip.MustParseAddr("192.0.2.99"), "trace 203.0.113.7: source 192.0.2.99 is not an address of this host"},
		{"another host's v6", d6, netip.MustParseAddr("2001:db8:ffff::2"), "trace 2001:db8:7::7: source 2001:db8:ffff::2 is not an address of this host"},
		{"v6 source, v4 destination", d4, src6, "trace 203.0.113.7: source 2001:db8:ffff::1 is of another family"},
		{"v4 source, v6 destination", d6, src4, "trace 2001:db8:7::7: source 192.0.2.1 is of another family"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.Trace(context.Background(), tc.dst, engine.Config{Src: tc.src, Queries: 1, Timeout: 200 * time.Millisecond})
			if tc.err != "" {
				assert.EqualError(t, err, tc.err)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.src.Unmap(), got.Src)
			assert.True(t, got.Reached)
		})
	}
}

// TestEngineConcurrent runs many traces at once over one connection per
// family: tags and flow identifiers must never collide.
func TestEngineConcurrent(t *testing.T) {
	var paths []netemu.Path
	var dsts []netip.Addr
	for i := range 60 {
		d := netip.AddrFrom4([4]byte{203, 0, 113, byte(i + 1)})
		if i%2 == 1 {
			d = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 9, 15: byte(i)})
		}
		dsts = append(dsts, d)
		paths = append(paths, line(d, 2+i%7, 1))
	}
	e := newEngine(t, &netemu.Network{Paths: paths})
	var wg sync.WaitGroup
	for i, d := range dsts {
		wg.Go(func() {
			proto := []probe.Proto{probe.ICMP, probe.UDP, probe.TCP}[i%3]
			got, err := e.Trace(context.Background(), d, engine.Config{Proto: proto, Flows: 2, Timeout: 5 * time.Second})
			assert.NoError(t, err)
			if assert.Len(t, got.Hops, 2+i%7+1, "%s", d) {
				for _, h := range got.Hops {
					for _, r := range h.Probes {
						assert.False(t, r.Lost, "%s ttl %d", d, h.TTL)
					}
				}
				assert.Equal(t, d, got.Hops[len(got.Hops)-1].Probes[0].From)
			}
		})
	}
	wg.Wait()
}

func BenchmarkEngineTrace(b *testing.B) {
	d := netip.MustParseAddr("203.0.113.7")
	e := newEngine(b, &netemu.Network{Paths: []netemu.Path{line(d, 20, 0)}})
	probes := 0
	for b.Loop() {
		got, err := e.Trace(context.Background(), d, engine.Config{Timeout: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		for _, h := range got.Hops {
			probes += len(h.Probes)
		}
	}
	b.ReportMetric(float64(probes)/b.Elapsed().Seconds(), "probes/s")
}

func TestEnginePathMTU(t *testing.T) {
	for _, dst := range []string{"203.0.113.8", "2001:db8:8::8"} {
		d := netip.MustParseAddr(dst)
		p := line(d, 4, 1)
		p.Hops[2][0].MTU = 1000 // the link from router 2 to router 3
		e := newEngine(t, &netemu.Network{Paths: []netemu.Path{p}})
		got, err := e.Trace(context.Background(), d, engine.Config{Proto: probe.UDP, Payload: 1200, Timeout: 300 * time.Millisecond})
		require.NoError(t, err)
		// TTL 3 probes reach router 2, which cannot forward them: it
		// answers for hop 3, as traceroute shows "!F-1000" there.
		require.Len(t, got.Hops, 3, "%s: stops where the packet does not fit", dst)
		assert.Equal(t, router(d.Is6(), 2), got.Hops[1].Probes[0].From)
		r := got.Hops[2].Probes[0]
		assert.Equal(t, router(d.Is6(), 2), r.From)
		assert.Equal(t, []string{"!F"}, r.Flags)
		assert.Equal(t, 1000, r.MTU)
	}
}

// TestEngineTagBudget runs more traces than the tag budget admits at once:
// they must queue, not deadlock on each other's tags.
func TestEngineTagBudget(t *testing.T) {
	var paths []netemu.Path
	var dsts []netip.Addr
	for i := range 10 {
		d := netip.AddrFrom4([4]byte{203, 0, 113, byte(200 + i)})
		dsts = append(dsts, d)
		paths = append(paths, line(d, 3, 1))
	}
	n := &netemu.Network{Paths: paths}
	e := engine.NewWithBudget(map[int]engine.Conn{4: netemu.NewPipe(n, src4)}, nil, 100000, nil, 300) // 3 traces of 90 probes
	defer e.Close()
	var wg sync.WaitGroup
	for _, d := range dsts {
		wg.Go(func() {
			got, err := e.Trace(context.Background(), d, engine.Config{Timeout: 2 * time.Second})
			if assert.NoError(t, err) {
				assert.True(t, got.Reached, "%s", d)
			}
		})
	}
	wg.Wait()
	_, err := e.Trace(context.Background(), dsts[0], engine.Config{Flows: 4})
	assert.ErrorContains(t, err, "at most 300 per trace")
}
