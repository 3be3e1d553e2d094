package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/term"
	"github.com/geoloc-dev/geoloc/traceroute"
)

func cmdRegeo() *command {
	return &command{
		name:    "regeo",
		summary: "locate every router of saved traceroutes, any format; write maps",
		help: `Usage: geoloc regeo [FLAGS] FILE...|-

Reads saved traceroute output of any format 'geoloc parse' reads, locates
every responding router (router names, GeoIP databases, the speed of light),
and writes the results: JSON Lines on stdout (a table on a terminal), and
maps with -o. With -o, stdout shows the table on a terminal and stays
empty when piped: to keep the JSON Lines too, add -o results.jsonl (or
-o - for stdout). Without any database it still works from router names
and RTTs. All cores are used; each distinct address is looked up once.

Where a trace was measured from comes from the trace itself (RIPE Atlas
probes with --vantage-points, Globalping), --from, or, when nothing says,
is solved for: every hop lies within its RTT's reach of one unknown point,
and the point that best explains the placements is kept, with its radius
("vantage point inferred near Tokyo ±143 km"). Its bounds are then as hard
as a given vantage point's. A --from that the router names contradict gets
a warning. Countries count only where a hop is placed with adequate
confidence; the others are listed as uncertain.

--fuse reads the input twice: first to gather, for every address, the RTT
from every vantage point that saw it, then to locate with all of them (an
address seen from Oslo and from Tokyo is constrained by both); traces of
one RIPE Atlas probe or one public source address share one inferred
vantage point. The first pass also learns the naming conventions of
operators no built-in table knows, as 'geoloc learn' does, and the second
reads names with them.

PTR names are looked up only with --ptr: saved output usually shows them.

--atlas ID (repeatable) reads the results of a RIPE Atlas measurement,
traceroute or ping, from the API instead of a file: streamed (memory stays
flat however many results), narrowed by --atlas-start and --atlas-stop, with
the positions of its probes fetched in batches (a --vantage-points table
wins for the probes it knows). Results of a stopped measurement and the
probe positions are kept in the cache directory (GEOLOC_CACHE_DIR) and
reused. Each ping result is one observation of its destination: with
--fuse, every probe's RTT constrains the destination at once.

--ping N is active geolocation: after a first pass, every public address
placed with a radius over --ping-above KM (or not placed) is pinged, once
per run whatever the number of traces it is in, from at most N probes of
--ping-via (Globalping by default) near where it may be; the RTTs become
hard bounds and show in the evidence, and the input is located again. At
most --ping-max addresses are pinged; --dry-run prints the measurements
instead.

` + privacyHelp + `

Examples:
  geoloc regeo traceroute.txt -o route.kml
  geoloc regeo --from osl mtr-report.txt
  traceroute example.org | geoloc regeo - --format table
  geoloc regeo atlas.json.bz2 --fuse --vantage-points probes.csv -o atlas.kml -o results.jsonl
  geoloc regeo --atlas 5001 --atlas-start 2024-05-01 --atlas-stop 2024-05-02 -o atlas.html
  geoloc regeo --atlas 41688561 --fuse --vantage-points 20240501.json.bz2
  geoloc regeo traces.jsonl --ping 10 --ping-above 200 --dry-run`,
		run: runRegeo,
	}
}

type regeoFlags struct {
	engineFlags
	remoteFlags
	fuse bool
}

func runRegeo(a *app, args []string) error {
	var f regeoFlags
	fs := flag.NewFlagSet("regeo", flag.ContinueOnError)
	f.addEngine(fs, false)
	f.addInputFormat(fs)
	fs.BoolVar(&f.fuse, "fuse", false, "two passes: constrain each address by every trace and vantage point that saw it")
	f.addAtlasResults(fs)
	f.addPing(fs, true)
	files, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkInputFormat(f.inputFormat); err != nil {
		return err
	}
	if err := f.remoteFlags.check(); err != nil {
		return err
	}
	if len(files) == 0 && len(f.atlasIDs) == 0 {
		return usagef("no input: name one or more FILEs, or - for standard input, or --atlas ID")
	}
	if f.fuse && slices.Contains(files, "-") {
		return usagef("--fuse reads the input twice: give files, not - (standard input)")
	}
	if f.ping > 0 && slices.Contains(files, "-") {
		return usagef("--ping reads the input twice: give files, not - (standard input)")
	}
	if f.dryRun && f.ping == 0 {
		return usagef("--dry-run goes with --ping")
	}
	log, err := a.logger(&f.common)
	if err != nil {
		return err
	}
	f.learn = f.fuse
	out, err := a.newSink(&f.engineFlags)
	if err != nil {
		return err
	}
	eng, closeAll, err := a.newEngine(&f.engineFlags, log)
	if err != nil {
		return err
	}
	defer closeAll()
	// The inputs: files, then the --atlas measurements. Reading twice
	// (--fuse, --ping) reads a measurement from the cache or from a copy
	// spooled by the first read.
	var sources []*atlasSource
	var pos *probePositions
	if len(f.atlasIDs) > 0 {
		spool := ""
		if f.fuse || f.ping > 0 {
			if spool, err = os.MkdirTemp("", "geoloc-atlas-"); err != nil {
				return err
			}
			defer os.RemoveAll(spool)
		}
		if sources, err = a.atlasSources(&f.remoteFlags, &f.common, spool); err != nil {
			return err
		}
		cache := ""
		if f.atlasCache && a.cacheDir() != "" {
			cache = filepath.Join(a.cacheDir(), "atlas", "probes.jsonl")
		}
		pos = newProbePositions(a.atlasClient(&f.common), f.table, cache)
	}
	inputs := func(read func(int)) iter.Seq2[*traceroute.Trace, error] {
		files := a.traceSeq(files, f.inputFormat, read)
		if len(sources) == 0 {
			return files
		}
		remote := a.atlasSeq(sources, pos, f.inputFormat)
		return func(yield func(*traceroute.Trace, error) bool) {
			for t, err := range files {
				if !yield(t, err) {
					return
				}
			}
			for t, err := range remote {
				if !yield(t, err) {
					return
				}
			}
		}
	}
	progress := func(what string) (*term.Progress, func(int)) {
		if len(sources) > 0 {
			return a.progress(&f.common, "traces", 0), nil
		}
		return a.inputProgress(&f.common, files, what)
	}
	if f.fuse {
		prog, read := progress("MB observed (pass 1 of 2)")
		n, err := eng.ObserveAll(a.ctx, inputs(read), func(error) bool {
			return true // reported in the second pass
		})
		prog.Done()
		if err != nil {
			return err
		}
		log.Info("fused", "traces", n, "addresses", eng.FusedAddrs())
	}
	pingFailed := 0
	if f.ping > 0 {
		prog, read := progress("MB located (before pinging)")
		targets, skipped, err := a.regeoPingTargets(&f.remoteFlags, eng, inputs(read))
		prog.Done()
		if err != nil {
			return err
		}
		if skipped > 0 && !f.quiet {
			fmt.Fprintf(a.stderr, "geoloc regeo: %d more addresses over --ping-above not pinged (--ping-max %d)\n", skipped, f.pingMax)
		}
		b := a.pingBatch(&f.remoteFlags, &f.common)
		pinged, failed := a.pingAll(b, eng, targets)
		pingFailed = failed
		if f.dryRun {
			if failed > 0 {
				return &partialError{failed: failed}
			}
			return nil
		}
		if !f.quiet {
			fmt.Fprintf(a.stderr, "geoloc regeo: pinged %d addresses via %s (at most %d probes each)\n", len(pinged), b.Service.Name(), f.ping)
		}
		out.decorate = pingEvidence(pinged)
	}
	var prog *term.Progress
	var read func(int)
	if !out.table { // a table on the terminal shows the progress itself
		prog, read = progress("MB read")
	}
	err = a.locateAll(&f.engineFlags, eng, out, inputs(read), prog)
	if pingFailed > 0 {
		var pe *partialError
		switch {
		case err == nil:
			err = &partialError{failed: pingFailed}
		case errors.As(err, &pe):
			pe.failed += pingFailed
		}
	}
	return err
}

// inputProgress is a progress line over the bytes of the input files (with
// time left), or over traces when the size is unknown (standard input).
func (a *app) inputProgress(c *common, files []string, what string) (*term.Progress, func(int)) {
	total := int64(0)
	for _, name := range files {
		st, err := os.Stat(name)
		if name == "-" || err != nil || !st.Mode().IsRegular() {
			return a.progress(c, "traces", 0), nil
		}
		total += st.Size()
	}
	prog := a.progress(c, what, int(total))
	if prog == nil {
		return nil, nil
	}
	prog.Bytes = true
	return prog, func(n int) { prog.Add(n, false) }
}

// traceSeq streams the traces of every input in order; an input that
// cannot be opened or a bad record comes as (nil, err) in its place.
func (a *app) traceSeq(files []string, format string, read func(int)) iter.Seq2[*traceroute.Trace, error] {
	return func(yield func(*traceroute.Trace, error) bool) {
		for _, name := range files {
			if err := a.ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			rc, err := a.openInputCounted(name, read)
			if err != nil {
				if !yield(nil, err) {
					return
				}
				continue
			}
			br := bufio.NewReaderSize(rc, 64<<10)
			seq := readTraces(br, traceroute.ReadOptions{Format: format, Input: name})
			if head, _ := br.Peek(64 << 10); format == "" && looksLikeResults(head) {
				// geoloc's own results: located again from the traces
				// they hold (new databases, another vantage point).
				seq = resultTraces(resultSeq(br, name, maxResultLineBytes))
			}
			for t, err := range seq {
				if cerr := a.ctx.Err(); cerr != nil {
					// Interrupted: the read error, if any, is only that.
					t, err = nil, cerr
				}
				if !yield(t, err) || err == a.ctx.Err() && err != nil {
					rc.Close()
					return
				}
			}
			rc.Close()
		}
	}
}

// resultTraces turns each result of seq back into its trace (resultTrace).
func resultTraces(seq iter.Seq2[*geoloc.TraceResult, error]) iter.Seq2[*traceroute.Trace, error] {
	return func(yield func(*traceroute.Trace, error) bool) {
		for r, err := range seq {
			var t *traceroute.Trace
			if r != nil {
				t = resultTrace(r)
			}
			if !yield(t, err) {
				return
			}
		}
	}
}

// locateAll runs the engine over seq, writes every result, reports bad
// inputs one line each, and prints the summary.
// prog, when not nil, is a progress line; if it counts bytes (regeo's
// inputs), the trace count is shown beside them, else each trace counts.
func (a *app) locateAll(f *engineFlags, eng *geoloc.Engine, out *sink, seq iter.Seq2[*traceroute.Trace, error], prog *term.Progress) error {
	defer out.abort() // an interrupted run leaves the -o files as they were
	failed, hops, located := 0, 0, 0
	var traces atomic.Int64
	byBytes := prog != nil && prog.Bytes
	if byBytes {
		prog.Extra = func() string { return plural(int(traces.Load()), "trace") }
	}
	add := func(failed bool) {
		traces.Add(1)
		if !byBytes {
			prog.Add(1, failed)
		}
	}
	for r, err := range eng.Stream(a.ctx, seq, 0) {
		if err != nil {
			if errors.Is(err, a.ctx.Err()) && a.ctx.Err() != nil {
				prog.Done()
				return err
			}
			prog.Done()
			fmt.Fprintln(a.stderr, err)
			failed++
			add(true)
			continue
		}
		for _, h := range r.Hops {
			hops++
			if h.Location != nil {
				located++
			}
		}
		add(false)
		if err := out.add(r); err != nil {
			prog.Done()
			return err
		}
	}
	prog.Done()
	if err := a.ctx.Err(); err != nil {
		return err // interrupted: the outputs are given up, as they were
	}
	var wrote []string
	var outErrs []error
	if out.n == 0 && len(f.outputs) > 0 {
		// Nothing located: an empty map would replace what the files
		// held, so they are left alone.
		fmt.Fprintf(a.stderr, "geoloc %s: no trace located; %s not written\n", a.cmd.name, strings.Join(f.outputs, ", "))
	} else {
		var err error
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
		fmt.Fprintln(a.stderr, resultSummary(out.n, hops, located, failed, len(outErrs), wrote))
	}
	if failed+len(outErrs) > 0 {
		return &partialError{failed: failed + len(outErrs)}
	}
	return nil
}
