package liveview

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/hopstats"
	"github.com/geoloc-dev/geoloc/internal/term"
	"github.com/geoloc-dev/geoloc/tracer"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// Prober runs one trace; the live tracer (tracer.Tracer) is one.
type Prober interface {
	Trace(ctx context.Context, dst netip.Addr, opts tracer.TraceOptions) (*traceroute.Trace, error)
}

// Gate holds rounds back while paused. The zero value is open.
type Gate struct {
	mu     sync.Mutex
	paused bool
	open   chan struct{} // closed while not paused
}

// Pause closes (true) or opens (false) the gate.
func (g *Gate) Pause(p bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open == nil {
		g.open = make(chan struct{})
		close(g.open)
	}
	switch {
	case p && !g.paused:
		g.open = make(chan struct{})
	case !p && g.paused:
		close(g.open)
	}
	g.paused = p
}

// wait returns when the gate is open or ctx is done.
func (g *Gate) wait(ctx context.Context) error {
	g.mu.Lock()
	ch := g.open
	g.mu.Unlock()
	if ch == nil {
		return ctx.Err()
	}
	select {
	case <-ch:
		return ctx.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Rounds traces every target over and over, one round every interval per
// target (a round that takes longer is followed at once), and hands each
// finished round to emit, from one goroutine per target. It stops after
// count rounds per target (count <= 0: when ctx ends) and returns when
// every target's rounds are over. gate, if not nil, holds new rounds back
// while paused. Between rounds nothing runs: the goroutines sleep on a
// timer.
func Rounds(ctx context.Context, p Prober, targets []Target, opts tracer.TraceOptions, interval time.Duration, count int, gate *Gate, emit func(RoundMsg)) {
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			timer := time.NewTimer(0)
			defer timer.Stop()
			for n := 0; count <= 0 || n < count; n++ {
				select {
				case <-ctx.Done():
					return
				case <-timer.C:
				}
				if gate != nil && gate.wait(ctx) != nil {
					return
				}
				start := time.Now()
				tr, err := p.Trace(ctx, t.Addr, opts)
				if ctx.Err() != nil {
					return
				}
				if tr != nil && tr.Destination.Name == "" {
					tr.Destination.Name = t.Name
				}
				emit(RoundMsg{Target: i, Trace: tr, Err: err})
				timer.Reset(max(0, interval-time.Since(start)))
			}
		})
	}
	wg.Wait()
}

// RunConfig configures Run.
type RunConfig struct {
	View     Options
	Prober   Prober
	Trace    tracer.TraceOptions // per round
	Interval time.Duration
	// Count stops after that many rounds per target (0: until quit); the
	// view stays up until the user quits.
	Count int
	// Input and Output are the terminal; Env its environment (nil: the
	// process's).
	Input  io.Reader
	Output io.Writer
	Env    []string
	// FPS caps redraws per second (default 20: the goal is at least 10
	// fresh frames a second; unchanged frames cost a string compare).
	FPS int
	// ProgramOptions are passed to Bubble Tea (tests set a window size).
	ProgramOptions []tea.ProgramOption
}

// Run shows the live view until the user quits or ctx ends, tracing in
// rounds meanwhile, and returns the final model (its Paths and Results).
func Run(ctx context.Context, cfg RunConfig) (*Model, error) {
	var gate Gate
	gate.Pause(false)
	view := cfg.View
	userPause := view.Pause
	view.Pause = func(p bool) {
		gate.Pause(p)
		if userPause != nil {
			userPause(p)
		}
	}
	m := New(view)
	if cfg.FPS <= 0 {
		cfg.FPS = 20
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithFPS(cfg.FPS)}
	if cfg.Input != nil {
		opts = append(opts, tea.WithInput(cfg.Input))
	}
	if cfg.Output != nil {
		opts = append(opts, tea.WithOutput(cfg.Output))
	}
	if cfg.Env != nil {
		opts = append(opts, tea.WithEnvironment(cfg.Env))
	}
	opts = append(opts, cfg.ProgramOptions...)
	prog := tea.NewProgram(m, opts...)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Rounds(ctx, cfg.Prober, view.Targets, cfg.Trace, cfg.Interval, cfg.Count, &gate, func(r RoundMsg) { prog.Send(r) })
	}()
	_, err := prog.Run()
	cancel()
	<-done
	if err != nil && errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		// The caller's ctx ended (a signal): the rounds so far are the
		// result.
		err = nil
	}
	return m, err
}

// Collect runs count rounds for every target without a view (--report)
// and returns their statistics in target order.
func Collect(ctx context.Context, p Prober, targets []Target, opts tracer.TraceOptions, interval time.Duration, count int) []*hopstats.Path {
	paths := make([]*hopstats.Path, len(targets))
	for i := range paths {
		paths[i] = &hopstats.Path{}
	}
	var mu sync.Mutex
	Rounds(ctx, p, targets, opts, interval, count, nil, func(r RoundMsg) {
		mu.Lock()
		defer mu.Unlock()
		paths[r.Target].Add(r.Trace)
	})
	return paths
}

// ReportOptions control WriteReport.
type ReportOptions struct {
	// Width is the line width to fit (a terminal's); 0 means every column
	// at full width (a pipe or a file).
	Width    int
	Names    NameMode
	Protocol string
}

// WriteReport writes the final statistics of every target, in target
// order, as mtr --report does, with who runs each hop and where it stands
// from results (nil entries: not located) and the countries and networks
// crossed.
func WriteReport(w io.Writer, targets []Target, paths []*hopstats.Path, results []*geoloc.TraceResult, opts ReportOptions) error {
	m := New(Options{Targets: targets})
	m.names = opts.Names
	st := newStyles(false)
	var b strings.Builder
	for i, t := range m.targets {
		if i < len(paths) && paths[i] != nil {
			t.path = *paths[i]
		}
		if i < len(results) {
			t.result = results[i]
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		title := "trace to " + term.Sanitize(t.Label())
		if opts.Protocol != "" {
			title += " (" + opts.Protocol + ")"
		}
		fmt.Fprintf(&b, "%s: %s, %d of %d TTLs answered\n", title, plural(t.path.Rounds, "round"), t.path.Answered(), len(t.path.Hops()))
		head, lines, _ := m.tableLines(t, opts.Width, st, -1)
		b.WriteString(head + "\n")
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
		if t.result != nil {
			for _, l := range m.footer(t, st, max(opts.Width, 1<<20)) {
				if strings.HasPrefix(l, "countries:") || strings.HasPrefix(l, "networks:") {
					b.WriteString(l + "\n")
				}
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
