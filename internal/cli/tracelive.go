package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/hopstats"
	"github.com/geoloc-dev/geoloc/internal/liveview"
	"github.com/geoloc-dev/geoloc/internal/term"
	"github.com/geoloc-dev/geoloc/tracer"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// roundFlags are trace's flags for tracing in rounds (the live view and
// --report).
type roundFlags struct {
	report      int
	intervalSec float64
}

func (r *roundFlags) add(fs *flag.FlagSet) {
	fs.IntVar(&r.report, "report", 0, "trace `N` rounds without the live view and print each hop's statistics, as mtr --report")
	fs.Float64Var(&r.intervalSec, "interval", 1, "`SECONDS` between rounds of the live view and --report")
}

func (r *roundFlags) check(raw bool) error {
	if r.report < 0 {
		return usagef("--report %d: want a number of rounds, at least 1", r.report)
	}
	if r.intervalSec < 0.05 || r.intervalSec > 3600 {
		return usagef("--interval %g: want 0.05 to 3600 seconds", r.intervalSec)
	}
	if raw && r.report > 0 {
		return usagef("--report and --raw exclude each other: --raw writes the traces, --report their statistics")
	}
	return nil
}

func (r *roundFlags) interval() time.Duration {
	return time.Duration(r.intervalSec * float64(time.Second))
}

// liveTargets are the view's targets, in argument order, each address once.
func liveTargets(targets []target) []liveview.Target {
	var out []liveview.Target
	for _, t := range targets {
		if !slices.ContainsFunc(out, func(o liveview.Target) bool { return o.Addr == t.addr }) {
			out = append(out, liveview.Target{Addr: t.addr, Name: t.name})
		}
	}
	return out
}

// roundOptions are the per-round trace options: one probe per hop and
// round, as mtr sends, unless --queries was given.
func roundOptions(fs *flag.FlagSet, topts tracer.TraceOptions) tracer.TraceOptions {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "queries" })
	if !given {
		topts.Queries = 1
	}
	return topts
}

// traceRounds runs the live view on the terminal (report == 0) or
// --report's rounds, then prints the final statistics and writes the -o
// outputs from the located paths.
func (a *app) traceRounds(f *traceFlags, rf *roundFlags, fs *flag.FlagSet, tr *tracer.Tracer, targets []target, topts tracer.TraceOptions, eng *geoloc.Engine, out *sink) error {
	lt := liveTargets(targets)
	topts = roundOptions(fs, topts)
	color, err := a.color(&f.common, a.stdout)
	if err != nil {
		return err
	}
	var paths []*hopstats.Path
	if rf.report > 0 {
		prog := a.progress(&f.common, "rounds", rf.report*len(lt))
		paths = liveview.Collect(a.ctx, countingProber{tr, prog}, lt, topts, rf.interval(), rf.report)
		prog.Done()
	} else {
		m, err := liveview.Run(a.ctx, liveview.RunConfig{
			View: liveview.Options{
				Targets: lt, Color: color, Protocol: topts.Protocol, IntervalSec: rf.intervalSec,
				Locate: func(ctx context.Context, t *traceroute.Trace) (*geoloc.TraceResult, error) { return eng.Locate(ctx, t) },
			},
			Prober: tr, Trace: topts, Interval: rf.interval(), Input: a.stdin, Output: a.stdout,
		})
		if err != nil {
			return fmt.Errorf("live view: %w", err)
		}
		paths = m.Paths()
	}
	// Locate every path once more, complete, for the final report and the
	// -o outputs; a target no round finished for is reported as such.
	results := make([]*geoloc.TraceResult, len(paths))
	failed, hops, located := 0, 0, 0
	for i, p := range paths {
		if p.Rounds == 0 {
			fmt.Fprintf(a.stderr, "%s: no round finished\n", lt[i].Label())
			failed++
			continue
		}
		r, err := eng.Locate(context.WithoutCancel(a.ctx), p.Trace())
		if err != nil {
			fmt.Fprintf(a.stderr, "%s: %v\n", lt[i].Label(), err)
			failed++
			continue
		}
		results[i] = r
		for _, h := range r.Hops {
			hops++
			if h.Location != nil {
				located++
			}
		}
		out.stdout = false // the statistics below take stdout's place
		if err := out.add(r); err != nil {
			return err
		}
	}
	switch f.format {
	case "jsonl":
		enc := json.NewEncoder(a.stdout)
		enc.SetEscapeHTML(false)
		for _, r := range results {
			if r != nil {
				if err := enc.Encode(r); err != nil {
					return err
				}
			}
		}
	case "", "table":
		width := 0
		if a.stdoutIsTerminal() {
			width = term.Width(a.stdout, 100)
		}
		if err := liveview.WriteReport(a.stdout, lt, paths, results, liveview.ReportOptions{Width: width, Protocol: topts.Protocol}); err != nil {
			return err
		}
	}
	var wrote []string
	if out.n > 0 {
		var outErrs []error
		if wrote, outErrs, err = out.close(); err != nil {
			return err
		}
		for _, err := range outErrs {
			fmt.Fprintf(a.stderr, "geoloc %s: %v\n", a.cmd.name, err)
		}
		if !f.quiet {
			for _, n := range out.notes() {
				fmt.Fprintf(a.stderr, "geoloc %s: %s\n", a.cmd.name, n)
			}
		}
	}
	if !f.quiet {
		fmt.Fprintln(a.stderr, resultSummary(out.n, hops, located, failed, 0, wrote))
	}
	if failed > 0 {
		return &partialError{failed: failed}
	}
	return a.ctx.Err()
}

// countingProber counts finished rounds on a progress line.
type countingProber struct {
	tr   *tracer.Tracer
	prog *term.Progress
}

func (c countingProber) Trace(ctx context.Context, dst netip.Addr, opts tracer.TraceOptions) (*traceroute.Trace, error) {
	t, err := c.tr.Trace(ctx, dst, opts)
	c.prog.Add(1, err != nil)
	return t, err
}
