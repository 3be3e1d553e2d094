// Command geoloc-beam is `geoloc regeo --fuse` as an Apache Beam pipeline
// (package pipeline): it locates every router of saved traceroutes, any
// format, read from files or globs on any Beam filesystem, and writes JSON
// Lines shards PREFIX-SSSSS-of-NNNNN.jsonl (one located trace per line, as
// regeo writes them), PREFIX-report.json (traces crossing each country and
// organisation) and PREFIX-errors.txt (bad records, one line each).
//
//	go run ./cmd/geoloc-beam --runner direct --db GeoLite2-City.mmdb \
//	    --input 'traces/*.jsonl.bz2' --output out/atlas
//
// Other runners by --runner (prism, dataflow, flink, spark, universal) and
// Beam's usual flags; see docs/scale.md. At the end it prints the
// pipeline's counters on standard error: traces read, bad records, hops
// located by method, and the bytes the fuse stage shuffles per address.
// Exit status: 0 success; 1 some records were bad or some traces could not
// be located (each named in PREFIX-errors.txt, every good one still
// located); 2 the command line is wrong or the pipeline failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3"
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/geoloc-dev/geoloc/beam/pipeline"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var j pipeline.Job
	var dbs, inputs, convs list
	flag.Var(&dbs, "db", "a GeoIP/ASN database or geofeed `FILE` (local, gs://, s3://), any supported kind (repeatable); only these are used")
	flag.Var(&inputs, "input", "saved traceroutes: a file or `GLOB` (local, gs://, s3://), any format 'geoloc parse' reads, compressed or not (repeatable)")
	flag.StringVar(&j.Output, "output", "", "`PREFIX` of the files written: PREFIX-SSSSS-of-NNNNN.jsonl, PREFIX-report.json, PREFIX-errors.txt")
	flag.IntVar(&j.Shards, "shards", 4, "number of JSON Lines shards")
	flag.StringVar(&j.From, "from", "", "vantage point of traces that carry none: `LAT,LON` or a place code")
	flag.StringVar(&j.VantagePoints, "vantage-points", "", "`FILE` of vantage points: CSV mapping RIPE Atlas probe ids or source addresses to LAT,LON, or a RIPE Atlas probe list")
	flag.Var(&convs, "conventions", "naming conventions `FILE` (as 'geoloc learn' writes) used beside the built-in ones (repeatable)")
	flag.StringVar(&j.InputFormat, "input-format", "", "force a traceroute input `FORMAT` ('geoloc parse --formats'); default: detected per file")
	flag.BoolVar(&j.NoLearn, "no-learn", false, "do not learn naming conventions in the first pass")
	flag.StringVar(&beamlog.LogLevel, "log_level", "warn", "Beam's log `LEVEL` on the launcher and the workers: debug, info, warn or error (info shows the runner's plan)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: geoloc-beam --runner RUNNER --input GLOB --output PREFIX [--db FILE]... [FLAGS]\n\n"+
			"Locates every router of saved traceroutes as 'geoloc regeo --fuse' does, as an Apache Beam\n"+
			"pipeline. Nothing leaves the machine on the direct and prism runners; other runners send\n"+
			"the pipeline and its files where their flags say (see docs/scale.md).\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	j.DBs, j.Inputs, j.Conventions = dbs, inputs, convs
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, beamlog.LogLevel) {
		fail(2, "--log_level %q: want debug, info, warn or error", beamlog.LogLevel)
	}
	if flag.NArg() > 0 {
		fail(2, "unexpected arguments %q: inputs go in --input", flag.Args())
	}
	for _, in := range j.Inputs {
		if strings.Contains(in, "://") {
			continue // the pipeline's match names a glob that matches nothing
		}
		m, err := filepath.Glob(in)
		if err != nil || len(m) == 0 {
			fail(2, "--input %s: no such file", in)
		}
	}
	beam.Init()
	c, err := execute(context.Background(), j)
	if err != nil {
		fail(2, "%v", err)
	}
	fmt.Fprintln(os.Stderr, summary(c, j.Output))
	if c["bad_records"] > 0 || c["traces_failed"] > 0 {
		os.Exit(1)
	}
}

// execute builds the pipeline of j, runs it on the runner --runner names
// and returns its counters (namespace "geoloc", summed over steps).
func execute(ctx context.Context, j pipeline.Job) (map[string]int64, error) {
	p, s := beam.NewPipelineWithRoot()
	if err := pipeline.Build(s, j); err != nil {
		return nil, err
	}
	pr, err := beamx.RunWithMetrics(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("pipeline failed: %w", err)
	}
	c := map[string]int64{}
	if pr != nil {
		for _, r := range pr.Metrics().AllMetrics().Counters() {
			if r.Key.Namespace == "geoloc" {
				c[r.Key.Name] += r.Result()
			}
		}
	}
	return c, nil
}

// summary is the closing lines: what was read, regeo's closing line with
// the hops by method, and the fuse stage's shuffle. A runner that reports
// no metrics gets a line saying so instead of zeros.
func summary(c map[string]int64, prefix string) string {
	wrote := fmt.Sprintf("wrote %s-*.jsonl, %s-report.json", prefix, prefix)
	if len(c) == 0 {
		return "the runner reported no counters; " + wrote
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d traces read, %d bad records", c["traces_read"], c["bad_records"])
	if n := c["bad_records"] + c["traces_failed"]; n > 0 {
		fmt.Fprintf(&b, " (%d records in %s-errors.txt)", n, prefix)
	}
	fmt.Fprintf(&b, "\n%d traces located", c["traces_located"])
	if n := c["traces_failed"]; n > 0 {
		fmt.Fprintf(&b, ", %d failed", n)
	}
	fmt.Fprintf(&b, ": %d of %d hops placed", c["hops_located"], c["hops"])
	var methods []string
	for k, v := range c {
		if m, ok := strings.CutPrefix(k, "hops_by_method_"); ok {
			methods = append(methods, fmt.Sprintf("%s %d", m, v))
		}
	}
	slices.Sort(methods)
	if len(methods) > 0 {
		b.WriteString(" (" + strings.Join(methods, ", ") + ")")
	}
	fmt.Fprintf(&b, "\nfuse: %d observations, %d addresses, %d bytes to the group-by-address shuffle",
		c["fuse_observations"], c["fuse_addresses"], c["fuse_shuffle_bytes"])
	if n := c["fuse_addresses"]; n > 0 {
		fmt.Fprintf(&b, " (%.0f per address)", float64(c["fuse_shuffle_bytes"])/float64(n))
	}
	if n := c["geofeed_skipped_lines"]; n > 0 {
		lines := "lines"
		if n == 1 {
			lines = "line"
		}
		fmt.Fprintf(&b, "\ngeofeeds: %d bad %s skipped (RFC 8805 §3), each geofeed named in the workers' log", n, lines)
	}
	b.WriteString("\n" + wrote)
	return b.String()
}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "geoloc-beam: "+format+"\n", args...)
	os.Exit(code)
}
