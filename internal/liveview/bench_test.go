package liveview

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/geoloc-dev/geoloc/tracer"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// bigPath is a 100-hop round to dst: every tenth hop silent, every
// seventh an ECMP pair.
func bigPath(dst netip.Addr, round int) *traceroute.Trace {
	t := &traceroute.Trace{Destination: traceroute.Endpoint{Addr: dst}, Protocol: "icmp"}
	for ttl := 1; ttl <= 100; ttl++ {
		ad := netip.AddrFrom4([4]byte{198, 51, byte(ttl), 1})
		if ttl%7 == 0 && round%2 == 1 {
			ad = netip.AddrFrom4([4]byte{198, 51, byte(ttl), 2})
		}
		p := traceroute.Probe{Addr: ad, Name: fmt.Sprintf("ae-%d.r%02d.frnkge13.de.bb.example.net", round%4, ttl), RTTMs: float64(ttl) + float64(round%5)/10}
		switch {
		case ttl%10 == 0:
			p = traceroute.Probe{Lost: true}
		case ttl == 100:
			p.Addr = dst
		}
		t.Hops = append(t.Hops, traceroute.Hop{TTL: ttl, Probes: []traceroute.Probe{p}})
	}
	return t
}

func bigTargets() []Target {
	var ts []Target
	for i := range 10 {
		ts = append(ts, Target{Addr: netip.AddrFrom4([4]byte{203, 0, 113, byte(i + 1)}), Name: fmt.Sprintf("host%d.example", i)})
	}
	return ts
}

// BenchmarkFrame100Hops10Targets renders one frame of a 100-hop path with
// 10 targets traced at once on a 160×50 terminal, colour on: the cost of
// one refresh. At N ns/op the view could refresh 1e9/N times a second.
func BenchmarkFrame100Hops10Targets(b *testing.B) {
	ts := bigTargets()
	m := New(Options{Targets: ts, Locate: located, Color: true, Protocol: "icmp", IntervalSec: 1})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
	for r := range 20 {
		for i, t := range ts {
			m.Update(RoundMsg{Target: i, Trace: bigPath(t.Addr, r)})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Render()
	}
}

// BenchmarkRound100Hops feeds one 100-hop round into the statistics and
// renders the frame, as each arriving round does.
func BenchmarkRound100Hops(b *testing.B) {
	ts := bigTargets()
	m := New(Options{Targets: ts, Protocol: "icmp", IntervalSec: 1})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
	rounds := []*traceroute.Trace{bigPath(ts[0].Addr, 0), bigPath(ts[0].Addr, 1)}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		m.Update(RoundMsg{Target: 0, Trace: rounds[n%2]})
		_ = m.Render()
		n++
	}
}

var idleFor = flag.Duration("idle", 0, "run TestIdleCPU for this long (scripts/live-idle-cpu.sh)")

// bigProber answers 100-hop rounds at once, as a tracer whose probes all
// came back.
type bigProber struct{ n int }

func (p *bigProber) Trace(_ context.Context, dst netip.Addr, _ tracer.TraceOptions) (*traceroute.Trace, error) {
	p.n++
	return bigPath(dst, p.n), nil
}

// TestIdleCPU measures the CPU the live view uses with 10 targets of 100
// hops, one round a second each, through the real Bubble Tea program (its
// renderer and frame ticker) writing to a discarded terminal. It runs only
// with -idle (see scripts/live-idle-cpu.sh) and prints the share of one
// core used.
func TestIdleCPU(t *testing.T) {
	if *idleFor <= 0 {
		t.Skip("measurement: run scripts/live-idle-cpu.sh (go test -run TestIdleCPU -idle 20s)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *idleFor)
	defer cancel()
	ts := bigTargets()
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	m, err := Run(ctx, RunConfig{
		View:   Options{Targets: ts, Locate: located, Color: true, Protocol: "icmp", IntervalSec: 1},
		Prober: &syncProber{}, Interval: time.Second,
		Input: blockingReader{ctx}, Output: io.Discard,
		ProgramOptions: []tea.ProgramOption{tea.WithWindowSize(160, 50)},
	})
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Since(start)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()-before.Utime.Nano()) + time.Duration(after.Stime.Nano()-before.Stime.Nano())
	rounds := 0
	for _, p := range m.Paths() {
		rounds += p.Rounds
	}
	fmt.Printf("live view, 10 targets x 100 hops, 1 round/s each: %d rounds in %.1f s, CPU %.2f s = %.1f%% of one core\n",
		rounds, wall.Seconds(), cpu.Seconds(), 100*cpu.Seconds()/wall.Seconds())
}

// syncProber is bigProber safe for the 10 round goroutines.
type syncProber struct{}

func (syncProber) Trace(_ context.Context, dst netip.Addr, _ tracer.TraceOptions) (*traceroute.Trace, error) {
	return bigPath(dst, int(time.Now().UnixNano()/1e9)), nil
}

// blockingReader is a keyboard nobody types on.
type blockingReader struct{ ctx context.Context }

func (r blockingReader) Read([]byte) (int, error) {
	<-r.ctx.Done()
	return 0, io.EOF
}
