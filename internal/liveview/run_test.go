package liveview

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/charmbracelet/x/vt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/tracer"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// fakeProber answers the rounds of every destination with the canned
// rounds, in turn.
type fakeProber struct {
	mu sync.Mutex
	n  map[netip.Addr]int
}

func (f *fakeProber) Trace(ctx context.Context, dst netip.Addr, _ tracer.TraceOptions) (*traceroute.Trace, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = map[netip.Addr]int{}
	}
	t := rounds()[f.n[dst]%3]
	f.n[dst]++
	t.Destination = traceroute.Endpoint{Addr: dst}
	return t, nil
}

func TestRoundsCountAndInterval(t *testing.T) {
	p := &fakeProber{}
	targets := []Target{{Addr: dstV4}, {Addr: dstV6}}
	start := time.Now()
	paths := Collect(context.Background(), p, targets, tracer.TraceOptions{}, 20*time.Millisecond, 3)
	require.Len(t, paths, 2)
	for _, pa := range paths {
		assert.Equal(t, 3, pa.Rounds)
	}
	assert.Equal(t, dstV6, paths[1].Destination.Addr, "paths in target order")
	// Rounds 2 and 3 wait for the interval: at least 40 ms in all.
	assert.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond)
}

func TestRoundsPause(t *testing.T) {
	var g Gate
	g.Pause(true)
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		Rounds(ctx, &fakeProber{}, []Target{{Addr: dstV4}}, tracer.TraceOptions{}, time.Millisecond, 0, &g, func(RoundMsg) { n.Add(1) })
	}()
	time.Sleep(50 * time.Millisecond)
	assert.Zero(t, n.Load(), "no round while paused")
	g.Pause(false)
	require.Eventually(t, func() bool { return n.Load() > 0 }, 10*time.Second, 5*time.Millisecond)
	cancel()
	<-done
}

func TestReport(t *testing.T) {
	paths := Collect(context.Background(), &fakeProber{}, []Target{{Addr: dstV4, Name: "example.org"}, {Addr: dstV6}}, tracer.TraceOptions{}, 0, 3)
	r0, err := located(context.Background(), paths[0].Trace())
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, WriteReport(&b, []Target{{Addr: dstV4, Name: "example.org"}, {Addr: dstV6}}, paths, append(make([]*geoloc.TraceResult, 0), r0, nil), ReportOptions{Protocol: "icmp"}))
	golden(t, "report", b.String())
	b.Reset()
	require.NoError(t, WriteReport(&b, []Target{{Addr: dstV4, Name: "example.org"}}, paths[:1], nil, ReportOptions{Width: 80}))
	for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		assert.LessOrEqual(t, displayWidth(l), 80, "%q", l)
	}
	golden(t, "report-80", b.String())
}

// TestProgram drives the whole Bubble Tea program in a simulated terminal
// (teatest): rounds arrive through Program.Send, keys through the input
// parser, frames through the real renderer.
func TestProgram(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	m := New(Options{Targets: []Target{{Addr: dstV4, Name: "example.org"}, {Addr: dstV6}}, Locate: located, Protocol: "icmp",
		Now: func() time.Time { return t0 }})
	const w, h = 110, 32
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Rounds(ctx, &fakeProber{}, m.opts.Targets, tracer.TraceOptions{}, 5*time.Millisecond, 4, nil, func(r RoundMsg) {
		mu.Lock()
		defer mu.Unlock()
		tm.Send(r)
	})
	// The renderer writes only the cells that change, so the screen is
	// read through a virtual terminal, not by searching the bytes.
	var screen string
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		screen = screenOf(w, h, b)
		// Both ECMP branches of hop 2 located: the last location is in.
		return strings.Contains(screen, "round 4") && strings.Count(screen, "Frankfurt, DE 0.97") == 2
	}, teatest.WithDuration(20*time.Second))
	golden(t, "program-screen", screen)
	tm.Send(tea.KeyPressMsg{Code: tea.KeyTab})
	tm.Type("nq")
	final := tm.FinalModel(t, teatest.WithFinalTimeout(20*time.Second)).(*Model)
	assert.Equal(t, 1, final.cur)
	assert.Equal(t, ShowAddrs, final.names)
	for _, p := range final.Paths() {
		assert.Equal(t, 4, p.Rounds)
	}
	require.NotNil(t, final.Results()[0])
	assert.Equal(t, []string{"DE", "NL"}, final.Results()[0].Countries, "the countries rule: the inferred first hop and the 0.42 destination name no country")
}

// screenOf replays terminal output in a virtual terminal and returns the
// screen's text.
func screenOf(w, h int, out []byte) string {
	em := vt.NewEmulator(w, h)
	// The emulator answers the program's terminal queries on its reader;
	// unread, the answers would block Write.
	// Closing the answer pipe (not the emulator, whose Close races with
	// Read) ends the draining goroutine.
	go func() { _, _ = io.Copy(io.Discard, em) }()
	if c, ok := em.InputPipe().(io.Closer); ok {
		defer c.Close()
	}
	// A terminal's output processing turns LF into CR LF (ONLCR), which
	// the renderer counts on.
	_, _ = em.Write(bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n")))
	return em.String()
}
