package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"iter"
	"os"
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
maps with -o. Without any database it still works from router names and
RTTs. All cores are used; each distinct address is looked up once.

--fuse reads the input twice: first to gather, for every address, the RTT
from every vantage point that saw it, then to locate with all of them (an
address seen from Oslo and from Tokyo is constrained by both). The first
pass also learns the naming conventions of operators no built-in table
knows, as 'geoloc learn' does, and the second reads names with them.

PTR names are looked up only with --ptr: saved output usually shows them.

Examples:
  geoloc regeo traceroute.txt -o route.kml
  geoloc regeo --from osl mtr-report.txt
  traceroute example.org | geoloc regeo - --format table
  geoloc regeo atlas.json.bz2 --fuse --vantage-points probes.csv -o atlas.kml > results.jsonl`,
		run: runRegeo,
	}
}

type regeoFlags struct {
	engineFlags
	fuse bool
}

func runRegeo(a *app, args []string) error {
	var f regeoFlags
	fs := flag.NewFlagSet("regeo", flag.ContinueOnError)
	f.addEngine(fs, false)
	f.addInputFormat(fs)
	fs.BoolVar(&f.fuse, "fuse", false, "two passes: constrain each address by every trace and vantage point that saw it")
	files, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkInputFormat(f.inputFormat); err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("no input: name one or more FILEs, or - for standard input")
	}
	if f.fuse && slices.Contains(files, "-") {
		return usagef("--fuse reads the input twice: give files, not - (standard input)")
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
	if f.fuse {
		prog, read := a.inputProgress(&f.common, files, "MB observed (pass 1 of 2)")
		n, err := eng.ObserveAll(a.ctx, a.traceSeq(files, f.inputFormat, read), func(error) bool {
			return true // reported in the second pass
		})
		prog.Done()
		if err != nil {
			return err
		}
		log.Info("fused", "traces", n, "addresses", eng.FusedAddrs())
	}
	var prog *term.Progress
	var read func(int)
	if !out.table { // a table on the terminal shows the progress itself
		prog, read = a.inputProgress(&f.common, files, "MB read")
	}
	return a.locateAll(&f.engineFlags, eng, out, a.traceSeq(files, f.inputFormat, read), prog)
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
			rc, err := a.openInputCounted(name, read)
			if err != nil {
				if !yield(nil, err) {
					return
				}
				continue
			}
			br := bufio.NewReaderSize(rc, 64<<10)
			if head, _ := br.Peek(64 << 10); format == "" && looksLikeResults(head) {
				// geoloc's own results: located again from the traces
				// they hold (new databases, another vantage point).
				var bad []string
				rs, _ := readResults(br, name, errWriter{func(msg string) { bad = append(bad, msg) }}, maxResultLineBytes)
				rc.Close()
				for _, msg := range bad {
					if !yield(nil, errors.New(msg)) {
						return
					}
				}
				for _, r := range rs {
					if !yield(resultTrace(r), nil) {
						return
					}
				}
				continue
			}
			for t, err := range readTraces(br, traceroute.ReadOptions{Format: format, Input: name}) {
				if !yield(t, err) {
					rc.Close()
					return
				}
			}
			rc.Close()
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
	}
	if !f.quiet {
		fmt.Fprintln(a.stderr, resultSummary(out.n, hops, located, failed, len(outErrs), wrote))
	}
	if failed+len(outErrs) > 0 {
		return &partialError{failed: failed + len(outErrs)}
	}
	return nil
}
