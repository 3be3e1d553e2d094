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
	register.DoFn3x1[context.Context, int, func(*string) bool, error](&writeShardFn{})
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
func WriteShards(s beam.Scope, prefix string, shards int, lines beam.PCollection) {
	s = s.Scope("write")
	beam.ParDo0(s, &writeShardFn{Prefix: prefix, Shards: shards}, beam.GroupByKey(s, lines))
}

// ShardName is the file name of shard i of n.
func ShardName(prefix string, i, n int) string {
	return fmt.Sprintf("%s-%05d-of-%05d.jsonl", prefix, i, n)
}

type writeShardFn struct {
	Prefix string `json:"prefix"`
	Shards int    `json:"shards"`
}

func (f *writeShardFn) ProcessElement(ctx context.Context, shard int, lines func(*string) bool) error {
	return writeFile(ctx, ShardName(f.Prefix, shard, f.Shards), func(w io.Writer) error {
		var l string
		for lines(&l) {
			if _, err := io.WriteString(w, l); err != nil {
				return err
			}
			if _, err := io.WriteString(w, "\n"); err != nil {
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
