package cli

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/term"
	"github.com/geoloc-dev/geoloc/output"
	"github.com/geoloc-dev/geoloc/rdns"
	"github.com/geoloc-dev/geoloc/vantage"
)

// engineFlags are the flags of every command that runs the engine.
type engineFlags struct {
	common
	ptr           bool
	vantagePoints string
	circles       bool
	aggregate     aggregateFlag
	// learn: the engine learns naming conventions in its first pass
	// (regeo --fuse, learn).
	learn bool
	// table is the --vantage-points table newEngine read (nil without).
	table *vantage.Table
}

func (f *engineFlags) addEngine(fs *flag.FlagSet, ptrDefault bool) {
	f.addDB(fs)
	f.addFrom(fs)
	f.addOutput(fs)
	f.addDNS(fs)
	f.addQuietLog(fs)
	fs.BoolVar(&f.ptr, "ptr", ptrDefault, "look up PTR names of addresses the trace shows no name for (--ptr=false: never)")
	f.addVantagePoints(fs)
	fs.BoolVar(&f.circles, "circles", false, "draw each hop's uncertainty radius in maps")
	fs.Var(&f.aggregate, "aggregate", fmt.Sprintf("maps (kml, kmz, geojson, html, svg) draw each distinct hop-to-hop link once with its count of traces, and each place once; automatic above %d traces (a note on stderr says so); --aggregate=false draws every trace however many", aggregateAbove))
	f.addConventions(fs)
}

func (f *engineFlags) addVantagePoints(fs *flag.FlagSet) {
	fs.StringVar(&f.vantagePoints, "vantage-points", "", "`FILE` of vantage points: CSV mapping RIPE Atlas probe ids or source addresses to LAT,LON, or a RIPE Atlas probe list (API /probes/ answer or the probe archive, .bz2 too)")
}

// newEngine builds the engine the flags describe. close releases the
// databases.
func (a *app) newEngine(f *engineFlags, log *slog.Logger) (*geoloc.Engine, func(), error) {
	convs, err := a.conventions(&f.common)
	if err != nil {
		return nil, nil, err
	}
	opts := geoloc.Options{Conventions: convs, Logger: log, Learn: f.learn}
	if f.from != "" {
		v, err := vantage.Parse(f.from, rdns.Hints)
		if err != nil {
			return nil, nil, usagef("--from %q: %v", f.from, err)
		}
		opts.From = &v
	}
	if f.vantagePoints != "" {
		rc, err := a.openInput(f.vantagePoints)
		if err != nil {
			return nil, nil, err
		}
		t, err := vantage.ReadTable(rc, f.vantagePoints)
		rc.Close()
		if err != nil {
			return nil, nil, err
		}
		if t.Len() == 0 {
			// An empty table would silently locate without vantage
			// points; as for other inputs, empty is an error.
			return nil, nil, fmt.Errorf("%s:1: vantage points: empty input, or no probe with a position (want CSV rows PROBE-ID-or-ADDRESS,LAT,LON, or a RIPE Atlas probe list)", f.vantagePoints)
		}
		opts.VantageOf = t.Lookup
		f.table = t
	}
	if f.ptr {
		r, err := a.ptrResolver(f.dns, log)
		if err != nil {
			return nil, nil, err
		}
		opts.Resolver = r
	}
	srcs, closeAll, err := a.sources(&f.common, log)
	if err != nil {
		return nil, nil, err
	}
	opts.Sources = srcs
	if len(srcs) == 0 && !f.noDB {
		log.Info("no GeoIP database found: locating from router names and RTTs only (see 'geoloc db fetch')")
	}
	return geoloc.New(opts), closeAll, nil
}

// sink receives results: it writes them to stdout as they come (JSON Lines
// or a table) and streams them into the -o outputs (output.Stream), so
// that no run holds its results. The outputs are opened at the first
// result: a run that locates nothing leaves the files as they were.
type sink struct {
	a      *app
	f      *engineFlags
	table  bool
	color  bool
	stdout bool   // write to stdout at all
	buf    []byte // the last JSON line written to stdout, reused
	// bw buffers the JSON lines when stdout is a file (or /dev/null): one
	// write per 64 KiB, not per trace. A terminal or a pipe gets every
	// line as it is located, for whoever reads it live. Flushed by close
	// and abort.
	bw *bufio.Writer
	n  int
	// toStdout draws every result on stdout (--format geojson and the
	// like, without -o).
	toStdout output.Writer
	outs     []*outStream // one per -o, in order; plus toStdout's
	// collect keeps the results for a caller that needs them afterwards
	// (har's report on stderr: one page's hosts).
	collect bool
	results []*geoloc.TraceResult
	// decorate, when set, sees each result before it is written (the ping
	// evidence of --ping).
	decorate func(*geoloc.TraceResult)
	// shared is the one Aggregate every map output of the run draws
	// aggregated, built once however many maps there are.
	shared *output.SharedAggregate
}

// newSharedAggregate makes a sink's shared Aggregate. A variable for the
// tests.
var newSharedAggregate = output.NewSharedAggregate

// aggregateAbove is the number of traces above which maps are drawn
// aggregated unless --aggregate=false: a map of every trace of a big batch
// (57,000 traces made a 751 MB KML) opens in no viewer. A variable for
// the tests.
var aggregateAbove = 1000

// largeMap is the size above which a map drawn trace by trace gets a note
// on stderr pointing to --aggregate. A variable for the tests.
var largeMap int64 = 100 << 20

// aggregateFlag is --aggregate: unset (automatic above aggregateAbove
// traces), true (always) or false (never).
type aggregateFlag struct{ set, on bool }

func (a *aggregateFlag) String() string {
	if a == nil || !a.set {
		return ""
	}
	return strconv.FormatBool(a.on)
}

func (a *aggregateFlag) Set(v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("want true or false")
	}
	a.set, a.on = true, b
	return nil
}

func (a *aggregateFlag) IsBoolFlag() bool { return true }

// outStream is one output being written: a file (committed at close) or
// standard output.
type outStream struct {
	name   string // as given to -o; "" for --format on stdout
	w      output.Writer
	opts   output.Options
	file   *output.AtomicFile
	stream output.Stream
	err    error // the first failure: the output is given up
	// aggregated: the map is drawn aggregated (--aggregate, or past the
	// threshold); notes are what its writer said about it.
	aggregated bool
	notes      []string
}

// options are the writer options of an output: --circles, and for maps
// --aggregate (or the automatic threshold), drawing the run's one shared
// Aggregate, with the writer's notes kept for the end of the run.
func (s *sink) options(o *outStream, title string) output.Options {
	opts := output.Options{Circles: s.f.circles, Title: title}
	if !output.IsMap(o.w.Format()) {
		return opts
	}
	switch {
	case s.f.aggregate.set && s.f.aggregate.on:
		opts.Aggregate = true
		o.aggregated = true
	case !s.f.aggregate.set:
		opts.AggregateAbove = aggregateAbove
	}
	if opts.Aggregate || opts.AggregateAbove > 0 {
		if s.shared == nil {
			s.shared = newSharedAggregate(opts.MaxLinks)
		}
		opts.Shared = s.shared
	}
	opts.Note = func(msg string) {
		// The first note of a map that has just switched to aggregate is
		// the switch.
		if st, ok := o.stream.(interface{ Aggregated() bool }); ok && st.Aggregated() && !o.aggregated {
			o.aggregated = true
			msg += " (--aggregate; --aggregate=false draws every trace)"
		}
		o.notes = append(o.notes, msg)
	}
	return opts
}

// noteName names an output in notes.
func (o *outStream) noteName() string {
	if o.name == "" || o.name == "-" {
		return "stdout"
	}
	return o.name
}

// writerFor returns the writer for an output file name or --format value.
func writerFor(name string) (output.Writer, error) {
	w, err := output.ForName(name)
	if err != nil {
		return nil, usagef("-o %s: unknown output kind; use %s (or --format)", name, strings.Join(output.Formats(), ", "))
	}
	return w, nil
}

// outputKind is the writer name for -o o: --format when it names a
// writer, else o's extension; "-" (standard output) is JSON Lines unless
// --format says otherwise.
func outputKind(f *engineFlags, o string) string {
	switch {
	case f.format != "" && f.format != "table":
		return f.format
	case o == "-":
		return ".jsonl"
	}
	return o
}

// formatMatchesName refuses --format F with -o NAME whose extension names
// another writer: `--format geojson -o a.kml` would put GeoJSON in a file
// every tool opens as KML. A name without a known extension takes F.
func formatMatchesName(format, o string) error {
	if format == "" || format == "table" || o == "-" {
		return nil
	}
	byExt, err := output.ForName(filepath.Ext(o))
	if err != nil || filepath.Ext(o) == "" {
		return nil
	}
	byFormat, err := output.ForName(format)
	if err != nil || byFormat.Format() == byExt.Format() {
		return nil
	}
	return usagef("--format %s -o %s: the extension says %s; drop --format, or name the file for %s", format, o, byExt.Format(), byFormat.Format())
}

func (a *app) newSink(f *engineFlags) (*sink, error) {
	s := &sink{a: a, f: f}
	dash := 0
	for _, o := range f.outputs {
		if o == "-" {
			dash++
		}
		if _, err := writerFor(outputKind(f, o)); err != nil {
			return nil, err
		}
		if err := formatMatchesName(f.format, o); err != nil {
			return nil, err
		}
	}
	if dash > 1 {
		return nil, usagef("-o - given %d times: standard output takes one output", dash)
	}
	if dash > 0 && f.format == "table" {
		return nil, usagef("-o - with --format table: the table goes to standard output without -o; -o - takes a file format (--format jsonl, geojson, ...)")
	}
	switch {
	case dash > 0:
		// -o - is the only thing on stdout: no table or JSON Lines
		// stream beside it.
	case len(f.outputs) == 0 && f.format != "" && f.format != "table" && f.format != "jsonl":
		// Any writer's format on stdout (geojson, csv, kml, ...): drawn
		// once everything is located.
		w, err := writerFor(f.format)
		if err != nil {
			return nil, usagef("--format %q: want table, jsonl or one of %s", f.format, strings.Join(output.Formats(), ", "))
		}
		s.toStdout = w
	case len(f.outputs) == 0:
		s.stdout = true
		t, err := a.tableOutput(&f.common)
		if err != nil {
			return nil, err
		}
		s.table = t
	case f.format == "table" || (f.format == "" && a.stdoutIsTerminal()):
		// With -o, stdout shows the table on a terminal and stays quiet
		// when piped.
		s.stdout, s.table = true, true
	}
	if s.table {
		c, err := a.color(&f.common, a.stdout)
		if err != nil {
			return nil, err
		}
		s.color = c
	} else if s.stdout && stdoutIsFile(a.stdout) {
		s.bw = bufio.NewWriterSize(a.stdout, 64<<10)
	}
	return s, nil
}

// stdoutIsFile reports whether w is a regular file or a device that is not
// a terminal (/dev/null): there, nobody reads the lines as they come.
func stdoutIsFile(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil {
		return false
	}
	switch m := st.Mode(); {
	case m.IsRegular():
		return true
	case m&os.ModeCharDevice != 0:
		return !term.IsTerminal(f)
	}
	return false
}

// flush writes out what bw holds.
func (s *sink) flush() error {
	if s.bw == nil {
		return nil
	}
	return s.bw.Flush()
}

func (s *sink) add(r *geoloc.TraceResult) error {
	if s.decorate != nil {
		s.decorate(r)
	}
	s.n++
	if s.collect {
		s.results = append(s.results, r)
	}
	if s.n == 1 {
		if err := s.open(); err != nil {
			return err
		}
	}
	for _, o := range s.outs {
		if o.err != nil {
			continue
		}
		if err := o.stream.Add(r); err != nil {
			if o.file == nil {
				return err // stdout
			}
			o.fail(err)
		}
	}
	switch {
	case !s.stdout:
		return nil
	case s.table:
		if s.n > 1 {
			fmt.Fprintln(s.a.stdout)
		}
		return term.WriteTrace(s.a.stdout, r, term.TraceTableOptions{Color: s.color, HostWidth: 40})
	default:
		b, err := output.AppendJSON(s.buf[:0], r, false)
		if err != nil {
			return err
		}
		s.buf = b
		if s.bw != nil {
			_, err = s.bw.Write(b)
		} else {
			_, err = s.a.stdout.Write(b)
		}
		return err
	}
}

// open begins every output. A file that cannot be created is given up (and
// reported at close); standard output failing is an error.
func (s *sink) open() error {
	if s.toStdout != nil {
		o := &outStream{w: s.toStdout}
		o.opts = s.options(o, "")
		st, err := o.w.Begin(s.a.stdout, o.opts)
		if err != nil {
			return err
		}
		o.stream = st
		s.outs = append(s.outs, o)
	}
	for _, name := range s.f.outputs {
		w, err := writerFor(outputKind(s.f, name))
		if err != nil {
			return err // checked in newSink
		}
		o := &outStream{name: name, w: w}
		o.opts = s.options(o, "geoloc: "+filepath.Base(name))
		s.outs = append(s.outs, o)
		if name == "-" {
			o.opts.Title = "geoloc"
			st, err := w.Begin(s.a.stdout, o.opts)
			if err != nil {
				return err
			}
			o.stream = st
			continue
		}
		f, err := output.CreateAtomic(name)
		if err != nil {
			o.err = err
			continue
		}
		o.file = f
		st, err := w.Begin(f, o.opts)
		if err != nil {
			o.fail(err)
			continue
		}
		o.stream = st
	}
	return nil
}

// fail gives up a file output, leaving its path as it was.
func (o *outStream) fail(err error) {
	o.err = fmt.Errorf("write %s: %w", o.name, err)
	if o.file != nil {
		o.file.Abort()
	}
}

// notes are the one-line notes about the outputs, for stderr after close:
// a map drawn aggregated past the threshold, links left out at the cap, a
// map drawn trace by trace that came out larger than largeMap.
func (s *sink) notes() []string {
	var out []string
	for _, o := range s.outs {
		for _, n := range o.notes {
			out = append(out, o.noteName()+": "+n)
		}
		if o.file == nil || o.err != nil || o.aggregated || !output.IsMap(o.w.Format()) {
			continue
		}
		if st, err := os.Stat(o.name); err == nil && st.Mode().IsRegular() && st.Size() > largeMap {
			out = append(out, fmt.Sprintf("%s: %d MB for %s, drawn one by one; --aggregate draws each distinct link once with its count",
				o.name, st.Size()>>20, plural(s.n, "trace")))
		}
	}
	return out
}

// close finishes the outputs and returns the files written. Every output
// is tried: failed lists one error per output that could not be written.
// err is a failure to write stdout.
func (s *sink) close() (wrote []string, failed []error, err error) {
	if err := s.flush(); err != nil {
		return nil, nil, err
	}
	if s.n == 0 {
		// Nothing came: the documents are empty ones.
		if err := s.open(); err != nil {
			return nil, nil, err
		}
	}
	for _, o := range s.outs {
		if o.err != nil {
			failed = append(failed, o.err)
			continue
		}
		if err := o.stream.Close(); err != nil {
			if o.file == nil {
				return wrote, failed, err
			}
			o.fail(err)
			failed = append(failed, o.err)
			continue
		}
		switch {
		case o.name == "-":
			wrote = append(wrote, "stdout")
		case o.file != nil:
			if err := o.file.Commit(); err != nil {
				failed = append(failed, err)
				continue
			}
			wrote = append(wrote, o.name)
		}
	}
	return wrote, failed, nil
}

// abort gives up every file output (an interrupted run): the paths stay
// as they were.
func (s *sink) abort() {
	_ = s.flush() // stdout keeps what was located; a failure was reported by close
	for _, o := range s.outs {
		if o.file != nil && o.err == nil {
			o.file.Abort()
		}
	}
}

// resultSummary is the stderr line after a run.
func resultSummary(results int, hops, located int, failed, outFailed int, wrote []string) string {
	s := fmt.Sprintf("%s located: %d of %d hops placed", plural(results, "trace"), located, hops)
	if failed > 0 {
		s += fmt.Sprintf("; %s failed", plural(failed, "input"))
	}
	if outFailed > 0 {
		s += fmt.Sprintf("; %s not written", plural(outFailed, "output"))
	}
	if len(wrote) > 0 {
		s += "; wrote " + strings.Join(wrote, ", ")
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
