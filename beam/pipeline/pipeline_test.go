package pipeline

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/direct"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/output"
	"github.com/geoloc-dev/geoloc/rdns"
	"github.com/geoloc-dev/geoloc/traceroute"
)

func TestMain(m *testing.M) { ptest.MainWithDefault(m, "direct") }

var worldDBs = []string{"testdata/world/citydb-a.mmdb", "testdata/world/citydb-b.mmdb", "testdata/world/asn.mmdb"}

// worldInputs writes the test world's traces as three inputs: the traces
// with their probe's position (gzip-compressed), the others without it (the
// engine must infer where they were measured from, and their sources vote),
// and a file with bad records between good ones. It returns the files in
// order.
func worldInputs(t *testing.T, dir string) []string {
	t.Helper()
	traces := worldTraces(t, false)

	known := filepath.Join(dir, "known.jsonl.gz")
	blind := filepath.Join(dir, "blind.jsonl")
	bad := filepath.Join(dir, "bad.jsonl")
	kf, err := os.Create(known)
	require.NoError(t, err)
	gz := gzip.NewWriter(kf)
	bf, err := os.Create(blind)
	require.NoError(t, err)
	ke, be := traceroute.NewEncoder(gz), traceroute.NewEncoder(bf)
	var badLines []string
	for i, tr := range traces {
		switch {
		case i%2 == 0:
			require.NoError(t, ke.Encode(tr))
		case i < 220:
			c := *tr
			c.Source.Lat, c.Source.Lon = nil, nil
			require.NoError(t, be.Encode(&c))
		default:
			b, err := json.Marshal(tr)
			require.NoError(t, err)
			badLines = append(badLines, string(b))
		}
	}
	require.NoError(t, ke.Flush())
	require.NoError(t, be.Flush())
	require.NoError(t, gz.Close())
	require.NoError(t, kf.Close())
	require.NoError(t, bf.Close())
	// Good traces with two bad records among them: a truncated line and a
	// hop whose TTL is no number.
	lines := []string{badLines[0], `{"format":"simulated","source":{"addr":"150.2.0.105"`, badLines[1], `{"format":"simulated","hops":[{"ttl":"x"}]}`}
	lines = append(lines, badLines[2:]...)
	require.NoError(t, os.WriteFile(bad, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	return []string{known, blind, bad}
}

// regeoFuse locates the inputs as `geoloc regeo --fuse --db-only --db ...`
// does (internal/cli/regeo.go): one engine with the databases and Learn,
// ObserveAll over every input, then Stream over every input again. It
// returns the results as JSON lines and the input errors.
func regeoFuse(t *testing.T, dbs, inputs []string) (lines []string, results []*geoloc.TraceResult, errs []string, learned *rdns.Conventions) {
	t.Helper()
	eng := geoloc.New(geoloc.Options{Sources: openDBs(t, dbs), Learn: true})
	seq := func(yield func(*traceroute.Trace, error) bool) {
		for _, name := range inputs {
			f, err := os.Open(name)
			require.NoError(t, err)
			for tr, err := range traceroute.Read(f, traceroute.ReadOptions{Input: name}) {
				if !yield(tr, err) {
					f.Close()
					return
				}
			}
			f.Close()
		}
	}
	ctx := context.Background()
	_, err := eng.ObserveAll(ctx, seq, func(error) bool { return true })
	require.NoError(t, err)
	learned = eng.Learned()
	for r, err := range eng.Stream(ctx, seq, 0) {
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		b, err := json.Marshal(r)
		require.NoError(t, err)
		lines = append(lines, string(b))
		results = append(results, r)
	}
	return lines, results, errs, learned
}

// run runs the pipeline on the direct runner and returns its counters.
func run(t *testing.T, j Job) map[string]int64 {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	require.NoError(t, Build(s, j))
	pr, err := direct.Execute(context.Background(), p)
	require.NoError(t, err)
	c := map[string]int64{}
	for _, r := range pr.Metrics().AllMetrics().Counters() {
		c[r.Key.Name] += r.Result()
	}
	return c
}

func readLines(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(name)
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	require.NoError(t, sc.Err())
	return out
}

// TestSameAnswersAsRegeo: the pipeline on the direct runner gives, trace
// for trace and hop for hop, the results `geoloc regeo --fuse` gives on
// one machine (every field, evidence included); the same bad records
// reach the dead letters; the aggregates are the countries-crossed report
// of all results.
func TestSameAnswersAsRegeo(t *testing.T) {
	dir := t.TempDir()
	inputs := worldInputs(t, dir)
	want, results, wantErrs, learned := regeoFuse(t, worldDBs, inputs)
	t.Logf("regeo learned %d domains, %d entries", len(learned.Domains), len(learned.Entries))
	require.Len(t, wantErrs, 2)
	require.Len(t, want, 240)

	prefix := filepath.Join(dir, "out", "world")
	require.NoError(t, os.MkdirAll(filepath.Dir(prefix), 0o755))
	c := run(t, Job{Config: Config{DBs: worldDBs}, Inputs: []string{filepath.Join(dir, "*.jsonl*")}, Output: prefix, Shards: 3})

	shards, err := filepath.Glob(prefix + "-*-of-00003.jsonl")
	require.NoError(t, err)
	require.NotEmpty(t, shards)
	var got []string
	for _, s := range shards {
		got = append(got, readLines(t, s)...)
	}
	require.Equal(t, len(want), len(got))
	slices.Sort(got)
	sortedWant := slices.Sorted(slices.Values(want))
	for i := range want {
		if got[i] != sortedWant[i] {
			var g, w geoloc.TraceResult
			require.NoError(t, json.Unmarshal([]byte(got[i]), &g))
			require.NoError(t, json.Unmarshal([]byte(sortedWant[i]), &w))
			require.Equal(t, w, g, "result %d differs", i)
		}
	}

	// Learning happened and reached the locate stage: without it, some
	// trace is located otherwise.
	require.NotEmpty(t, learned.Entries)
	noLearn := filepath.Join(dir, "out", "nolearn")
	run(t, Job{Config: Config{DBs: worldDBs, NoLearn: true}, Inputs: []string{filepath.Join(dir, "*.jsonl*")}, Output: noLearn, Shards: 1})
	other := readLines(t, ShardName(noLearn, 0, 1))
	slices.Sort(other)
	assert.NotEqual(t, got, other, "the learned conventions changed nothing")

	assert.Equal(t, int64(240), c["traces_read"])
	assert.Equal(t, int64(2), c["bad_records"])
	assert.Equal(t, int64(240), c["traces_located"])
	assert.Positive(t, c["fuse_addresses"])
	assert.Positive(t, c["fuse_shuffle_bytes"])
	var byMethod, hops int64
	for k, v := range c {
		if strings.HasPrefix(k, "hops_by_method_") {
			byMethod += v
		}
	}
	for _, l := range want {
		var r geoloc.TraceResult
		require.NoError(t, json.Unmarshal([]byte(l), &r))
		hops += int64(len(r.Hops))
	}
	assert.Equal(t, hops, c["hops"])
	assert.Equal(t, hops, byMethod)

	// Dead letters: regeo's own messages for the bad records.
	dead := readLines(t, prefix+"-errors.txt")
	slices.Sort(wantErrs)
	assert.Equal(t, wantErrs, dead)
	for _, d := range dead {
		assert.Regexp(t, `^.*bad\.jsonl:\d+: `, d)
	}

	// Aggregates: the countries-crossed report of all results, without its
	// per-trace list.
	b, err := os.ReadFile(prefix + "-report.json")
	require.NoError(t, err)
	var rep output.Report
	require.NoError(t, json.Unmarshal(b, &rep))
	wantRep := output.BuildReport(results)
	assert.Equal(t, wantRep.Destinations, rep.Destinations)
	require.NotEmpty(t, wantRep.Countries)
	require.NotEmpty(t, wantRep.Organisations)
	for _, pair := range [][2][]output.Exposure{{wantRep.Countries, rep.Countries}, {wantRep.Organisations, rep.Organisations}} {
		w, g := pair[0], pair[1]
		require.Len(t, g, len(w))
		for i := range w {
			assert.Equal(t, w[i].Key, g[i].Key)
			assert.Equal(t, w[i].Name, g[i].Name)
			assert.Equal(t, w[i].Traces, g[i].Traces, w[i].Key)
			assert.Equal(t, w[i].Destinations, g[i].Destinations, w[i].Key)
			assert.Equal(t, w[i].Hops, g[i].Hops, w[i].Key)
			// Per-trace means are rounded to 0.001 before they are
			// summed: the mean over traces may differ in the last digit.
			assert.InDelta(t, w[i].MeanConfidence, g[i].MeanConfidence, 0.0015, w[i].Key)
		}
	}
}

// TestSameAnswersOnPrism: on Prism, Beam's portable reference runner
// (in-process job server, the pipeline's worker in this process by the
// loopback environment), the pipeline gives regeo --fuse's answers too.
// Unlike the direct runner, a portable runner hands the worker the
// pipeline as a proto: every coder and DoFn is found again by its
// registered name and its signature checked without the graph, as on
// Dataflow, Flink and Spark (two bugs the direct runner let through: the
// JSON coders' functions shared one name, and a StartBundle side input
// beside a CoGBK main input was refused).
func TestSameAnswersOnPrism(t *testing.T) {
	dir := t.TempDir()
	inputs := worldInputs(t, dir)
	want, _, wantErrs, _ := regeoFuse(t, worldDBs, inputs)

	prefix := filepath.Join(dir, "out", "world")
	require.NoError(t, os.MkdirAll(filepath.Dir(prefix), 0o755))
	p, s := beam.NewPipelineWithRoot()
	require.NoError(t, Build(s, Job{Config: Config{DBs: worldDBs}, Inputs: []string{filepath.Join(dir, "*.jsonl*")}, Output: prefix, Shards: 2}))
	pr, err := prism.Execute(context.Background(), p)
	require.NoError(t, err)

	var got []string
	for i := range 2 {
		got = append(got, readLines(t, ShardName(prefix, i, 2))...)
	}
	slices.Sort(got)
	require.Equal(t, slices.Sorted(slices.Values(want)), got)
	dead := readLines(t, prefix+"-errors.txt")
	slices.Sort(wantErrs)
	assert.Equal(t, wantErrs, dead)

	c := map[string]int64{}
	for _, r := range pr.Metrics().AllMetrics().Counters() {
		c[r.Key.Name] += r.Result()
	}
	assert.Equal(t, int64(240), c["traces_read"])
	assert.Equal(t, int64(2), c["bad_records"])
	assert.Equal(t, int64(240), c["traces_located"])
}
