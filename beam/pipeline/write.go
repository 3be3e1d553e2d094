package pipeline

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/filter"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"

	"github.com/geoloc-dev/geoloc/internal/fsutil"
	"github.com/geoloc-dev/geoloc/output"
)

func init() {
	register.DoFn4x1[context.Context, int, string, func(int, string), error](&writeTempFn{})
	register.DoFn3x1[context.Context, int, func(*string) bool, error](&finishShardFn{})
	register.DoFn3x1[context.Context, int, func(*string) bool, error](&writeLinesFn{})
	register.DoFn4x1[context.Context, int, func(*ReportRow) bool, func(*int) bool, error](&writeReportFn{})
	register.Function3x0(explodeSummary)
	register.Function3x0(perKey)
	register.Function2x2(toExposure)
	register.Combiner1[Tally](&tallyCombineFn{})
	register.Emitter2[string, Tally]()
	register.Iter1[ReportRow]()
	register.Iter1[int]()
}

// WriteShards writes lines (keyed by shard, of shards) as JSON Lines files
// PREFIX-SSSSS-of-NNNNN.jsonl, one line per located trace, through Beam's
// filesystems. A shard no trace fell into is not written.
//
// No worker ever holds a shard's lines: each bundle streams its lines to
// one temporary file per shard it saw (writeTempFn), and only the names of
// those files are grouped by shard, for one worker per shard to join them
// into the shard's file (finishShardFn: a rename when the shard has one, a
// streamed concatenation otherwise). Grouping the lines themselves by
// shard, as this stage did, made a shard's lines one group, which a runner
// hands its worker whole (Prism sends a group as one data message): the
// worker's memory then grew with the input.
func WriteShards(s beam.Scope, prefix string, shards int, lines beam.PCollection) {
	s = s.Scope("write")
	temps := beam.ParDo(s, &writeTempFn{Prefix: prefix, Shards: shards}, lines)
	beam.ParDo0(s, &finishShardFn{Prefix: prefix, Shards: shards}, beam.GroupByKey(s, temps))
}

// ShardName is the file name of shard i of n.
func ShardName(prefix string, i, n int) string {
	return fmt.Sprintf("%s-%05d-of-%05d.jsonl", prefix, i, n)
}

type writeTempFn struct {
	Prefix string `json:"prefix"`
	Shards int    `json:"shards"`

	open map[int]*tempFile
}

func (f *writeTempFn) StartBundle(context.Context, func(int, string)) {
	f.open = map[int]*tempFile{}
}

func (f *writeTempFn) ProcessElement(ctx context.Context, shard int, line string, _ func(int, string)) error {
	t := f.open[shard]
	if t == nil {
		var err error
		if t, err = createTemp(ctx, ShardName(f.Prefix, shard, f.Shards)); err != nil {
			return err
		}
		f.open[shard] = t
	}
	if _, err := t.w.WriteString(line); err != nil {
		return t.fail(ctx, err)
	}
	if err := t.w.WriteByte('\n'); err != nil {
		return t.fail(ctx, err)
	}
	return nil
}

func (f *writeTempFn) FinishBundle(ctx context.Context, emit func(int, string)) error {
	var errs []error
	for shard, t := range f.open {
		if err := t.close(); err != nil {
			errs = append(errs, t.fail(ctx, err))
			continue
		}
		emit(shard, t.name)
	}
	f.open = nil
	return errors.Join(errs...)
}

// tempFile is a temporary file being written: beside final, named as the
// main module names its temporary files when local (internal/fsutil:
// ".BASE.geoloc-tmp-PID-RANDOM", removed by a later run when its process
// is gone), FINAL.geoloc-tmp-RANDOM on an object store.
type tempFile struct {
	final, name string
	wc          io.WriteCloser
	w           *bufio.Writer
}

func createTemp(ctx context.Context, final string) (*tempFile, error) {
	t := &tempFile{final: final}
	if isURL(final) {
		fs, err := filesystem.New(ctx, final)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", final, err)
		}
		defer fs.Close()
		t.name = fmt.Sprintf("%s%s%016x", final, fsutil.TempMarker, rand.Uint64())
		if t.wc, err = fs.OpenWrite(ctx, t.name); err != nil {
			return nil, fmt.Errorf("%s: %w", final, err)
		}
	} else {
		dir := filepath.Dir(final)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return nil, err
		}
		f, err := fsutil.CreateTempIn(dir, fsutil.TempPrefix(filepath.Base(final)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", final, err)
		}
		t.name, t.wc = f.Name(), f
	}
	t.w = bufio.NewWriterSize(t.wc, 1<<20)
	return t, nil
}

func (t *tempFile) close() error { return errors.Join(t.w.Flush(), t.wc.Close()) }

// fail closes and removes t after err, and returns err naming the file.
func (t *tempFile) fail(ctx context.Context, err error) error {
	t.wc.Close()
	removeFile(ctx, t.name)
	return fmt.Errorf("%s: %w", t.final, err)
}

// removeFile removes name from its filesystem, where it can.
func removeFile(ctx context.Context, name string) {
	if !isURL(name) {
		os.Remove(name)
		return
	}
	fs, err := filesystem.New(ctx, name)
	if err != nil {
		return
	}
	defer fs.Close()
	if r, ok := fs.(filesystem.Remover); ok {
		_ = r.Remove(ctx, name)
	}
}

type finishShardFn struct {
	Prefix string `json:"prefix"`
	Shards int    `json:"shards"`
}

// ProcessElement makes the shard's file of its temporary files, in the
// order of their names (the lines of a shard come in no particular order).
func (f *finishShardFn) ProcessElement(ctx context.Context, shard int, temps func(*string) bool) error {
	final := ShardName(f.Prefix, shard, f.Shards)
	var names []string
	var n string
	for temps(&n) {
		names = append(names, n)
	}
	slices.Sort(names)
	defer func() {
		for _, n := range names {
			removeFile(ctx, n)
		}
	}()
	if len(names) == 1 && !isURL(final) {
		if err := errors.Join(os.Chmod(names[0], fsutil.FileMode()), os.Rename(names[0], final)); err != nil {
			return fmt.Errorf("%s: %w", final, err)
		}
		return nil
	}
	return writeFile(ctx, final, func(w io.Writer) error {
		for _, n := range names {
			rc, err := openRead(ctx, n)
			if err != nil {
				return err
			}
			_, err = io.Copy(w, rc)
			if err := errors.Join(err, rc.Close()); err != nil {
				return err
			}
		}
		return nil
	})
}

// WriteDeadLetters writes the dead letters to PREFIX-errors.txt, one a
// line, sorted (nothing is written when there are none).
func WriteDeadLetters(s beam.Scope, prefix string, dead ...beam.PCollection) {
	s = s.Scope("dead-letters")
	all := beam.Flatten(s, dead...)
	beam.ParDo0(s, &writeLinesFn{Name: prefix + "-errors.txt"}, beam.GroupByKey(s, beam.ParDo(s, toZero, all)))
}

func init() { register.Function1x2(toZero) }

func toZero(s string) (int, string) { return 0, s }

type writeLinesFn struct {
	Name string `json:"name"`
}

func (f *writeLinesFn) ProcessElement(ctx context.Context, _ int, lines func(*string) bool) error {
	// Dead letters are few (bad records): sorted, so that a file names
	// them in input order and two runs compare.
	var all []string
	var l string
	for lines(&l) {
		all = append(all, l)
	}
	slices.Sort(all)
	return writeFile(ctx, f.Name, func(w io.Writer) error {
		for _, l := range all {
			if _, err := fmt.Fprintln(w, l); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeFile writes name whole or not at all. A local file is written to a
// temporary file beside it (internal/fsutil, as the main module's writers
// do: a killed run's leftovers are removed by the next) and renamed at the
// end with the mode os.Create gives (0666 less the umask); on object
// stores (gs://, s3://, through Beam's filesystems) an object appears
// whole when its writer closes.
func writeFile(ctx context.Context, name string, fill func(io.Writer) error) error {
	if !isURL(name) {
		return writeLocal(name, fill)
	}
	fs, err := filesystem.New(ctx, name)
	if err != nil {
		return err
	}
	defer fs.Close()
	wc, err := fs.OpenWrite(ctx, name)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	bw := bufio.NewWriterSize(wc, 1<<20)
	if err := errors.Join(fill(bw), bw.Flush()); err != nil {
		wc.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := wc.Close(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func writeLocal(name string, fill func(io.Writer) error) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	f, err := fsutil.CreateTempIn(dir, fsutil.TempPrefix(filepath.Base(name)))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := errors.Join(fill(bw), bw.Flush(), f.Chmod(fsutil.FileMode()), f.Close()); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// Aggregate is the second output: for every country and every
// organisation (AS), how many traces crossed it, towards how many distinct
// destinations, over how many hops and with what mean confidence; written
// to PREFIX-report.json in the shape of `geoloc report`'s JSON
// (output.Report) without its per-trace list. Which countries and
// organisations a trace crossed is the library's rule (output.BuildReport
// of the trace alone).
func Aggregate(s beam.Scope, prefix string, summaries beam.PCollection) {
	s = s.Scope("aggregate")
	pairs, dests := beam.ParDo2(s, explodeSummary, summaries)
	// Per (key, destination), then per key: the second combine counts the
	// distinct destinations.
	byPair := beam.CombinePerKey(s, &tallyCombineFn{}, pairs)
	byKey := beam.CombinePerKey(s, &tallyCombineFn{}, beam.ParDo(s, perKey, byPair))
	exposures := beam.ParDo(s, toExposure, byKey)
	nDests := stats.CountElms(s, filter.Distinct(s, dests))
	beam.ParDo0(s, &writeReportFn{Name: prefix + "-report.json"}, beam.GroupByKey(s, exposures), beam.SideInput{Input: nDests})
}

// Keys of the aggregate: kind, key and (per pair) destination, joined by
// NUL (which no country code, AS key or destination holds).
const (
	kindCountry = "country"
	kindOrg     = "organisation"
)

func explodeSummary(sum Summary, pair func(string, Tally), dest func(string)) {
	dest(sum.Destination)
	for _, e := range sum.Countries {
		pair(kindCountry+"\x00"+e.Key+"\x00"+sum.Destination, Tally{Name: e.Name, Traces: e.Traces, Hops: e.Hops, ConfSum: e.MeanConfidence * float64(e.Hops)})
	}
	for _, e := range sum.Organisations {
		pair(kindOrg+"\x00"+e.Key+"\x00"+sum.Destination, Tally{Name: e.Name, Traces: e.Traces, Hops: e.Hops, ConfSum: e.MeanConfidence * float64(e.Hops)})
	}
}

func perKey(k string, t Tally, emit func(string, Tally)) {
	t.Dests = 1
	emit(k[:strings.LastIndexByte(k, 0)], t)
}

// toExposure turns a key's tally into its report row, all under one key:
// the report is one file (a few hundred countries and some tens of
// thousands of organisations at most).
func toExposure(k string, t Tally) (int, ReportRow) {
	kind, key, _ := strings.Cut(k, "\x00")
	e := output.Exposure{Key: key, Name: t.Name, Destinations: t.Dests, Traces: t.Traces, Hops: t.Hops}
	if t.Hops > 0 {
		e.MeanConfidence = math.Round(t.ConfSum/float64(t.Hops)*1000) / 1000
	}
	return 0, ReportRow{Organisation: kind == kindOrg, Exposure: e}
}

type tallyCombineFn struct{}

func (tallyCombineFn) MergeAccumulators(a, b Tally) Tally {
	if a.Name == "" || b.Name != "" && b.Name < a.Name {
		a.Name = b.Name // the same name whatever the order
	}
	a.Traces += b.Traces
	a.Hops += b.Hops
	a.ConfSum += b.ConfSum
	a.Dests += b.Dests
	return a
}

type writeReportFn struct {
	Name string `json:"name"`
}

func (f *writeReportFn) ProcessElement(ctx context.Context, _ int, rows func(*ReportRow) bool, nDests func(*int) bool) error {
	rep := struct {
		Destinations  int               `json:"destinations"`
		Countries     []output.Exposure `json:"countries"`
		Organisations []output.Exposure `json:"organisations"`
	}{Countries: []output.Exposure{}, Organisations: []output.Exposure{}}
	var r ReportRow
	for rows(&r) {
		if r.Organisation {
			rep.Organisations = append(rep.Organisations, r.Exposure)
		} else {
			rep.Countries = append(rep.Countries, r.Exposure)
		}
	}
	nDests(&rep.Destinations)
	// The report's own order (output.BuildReport).
	byExposure := func(a, b output.Exposure) int {
		return cmp.Or(cmp.Compare(b.Destinations, a.Destinations), cmp.Compare(b.Hops, a.Hops), cmp.Compare(a.Key, b.Key))
	}
	slices.SortFunc(rep.Countries, byExposure)
	slices.SortFunc(rep.Organisations, byExposure)
	return writeFile(ctx, f.Name, func(w io.Writer) error {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	})
}
