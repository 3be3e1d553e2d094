package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/memfs"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/fsutil"
	"github.com/geoloc-dev/geoloc/output"
	"github.com/geoloc-dev/geoloc/rdns"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// The stage tests: each named transform of the pipeline on its own, on the
// direct runner (ptest, passert), against what the main module computes
// on one machine from the same input.

var update = flag.Bool("update", false, "rewrite the golden files of the write stage")

func init() {
	register.Function1x1(recordID)
	register.Function2x1(fusedLine)
	register.DoFn2x1[string, geoloc.Votes, error](&votesNearFn{})
	register.Function2x1(shardLine)
	register.Function2x2(mergeParts)
}

func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func recordID(r Record) string { return r.ID }

func fusedLine(addr string, f geoloc.Fused) string {
	b, _ := json.Marshal(f)
	return addr + " " + string(b)
}

func votesLine(key string, v geoloc.Votes) string {
	b, _ := json.Marshal(v)
	return key + " " + string(b)
}

// votesNearFn fails the run unless every source's votes are Want's, the
// weights to a relative 1e-9.
type votesNearFn struct {
	Want map[string]geoloc.Votes `json:"want"`
}

func (f *votesNearFn) ProcessElement(key string, v geoloc.Votes) error {
	w, ok := f.Want[key]
	if !ok {
		return fmt.Errorf("votes of %s: not expected", key)
	}
	bad := w.Traces != v.Traces || len(w.Cells) != len(v.Cells)
	for i := 0; !bad && i < len(w.Cells); i++ {
		a, b := w.Cells[i], v.Cells[i]
		bad = a.Cell != b.Cell || a.City != b.City || !near(a.Weight, b.Weight) || !near(a.CityWeight, b.CityWeight)
	}
	if bad {
		return fmt.Errorf("votes of %s: got %s, want %s", key, votesLine(key, v), votesLine(key, w))
	}
	return nil
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

func shardLine(shard int, line string) string { return fmt.Sprintf("%d %s", shard, line) }

// mergeParts is the locate stage's view of the learn stage's output: the
// parts merged (MergeLearned), written as `geoloc learn` writes a set,
// without its About line (which names the program that learned it).
func mergeParts(_ int, parts func(*string) bool) (string, error) {
	var all []string
	var p string
	for parts(&p) {
		all = append(all, p)
	}
	c, _, err := MergeLearned(all)
	if err != nil {
		return "", err
	}
	return conventionsText(c)
}

func conventionsText(c *rdns.Conventions) (string, error) {
	cc := *c
	cc.About = ""
	var b bytes.Buffer
	if err := cc.WriteJSON(&b); err != nil {
		return "", err
	}
	return b.String(), nil
}

// counters runs p on the test runner and returns its counters by name.
func counters(t *testing.T, p *beam.Pipeline) map[string]int64 {
	t.Helper()
	pr, err := ptest.RunWithMetrics(p)
	require.NoError(t, err)
	c := map[string]int64{}
	for _, r := range pr.Metrics().AllMetrics().Counters() {
		c[r.Key.Name] += r.Result()
	}
	return c
}

// worldTraces are the test world's 240 traces; blind ones (odd indices
// when blind is true) lose their probe's position, so that the engine
// must infer where they were measured from and their sources vote.
func worldTraces(t *testing.T, blind bool) []*traceroute.Trace {
	t.Helper()
	f, err := os.Open("testdata/world/traces.jsonl.gz")
	require.NoError(t, err)
	defer f.Close()
	var out []*traceroute.Trace
	for tr, err := range traceroute.Read(f, traceroute.ReadOptions{Input: "world"}) {
		require.NoError(t, err)
		if blind && len(out)%2 == 1 {
			c := *tr
			c.Source.Lat, c.Source.Lon = nil, nil
			tr = &c
		}
		out = append(out, tr)
	}
	require.Len(t, out, 240)
	return out
}

func openWorld(t *testing.T) []candidates.Source { return openDBs(t, worldDBs) }

// openDBs opens the databases for the test's duration.
func openDBs(t *testing.T, dbs []string) []candidates.Source {
	t.Helper()
	srcs, err := candidates.OpenAll(dbs, candidates.OpenOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		for _, s := range srcs {
			_ = candidates.CloseSource(s)
		}
	})
	return srcs
}

// observed is the main module's first pass (regeo --fuse, geoloc learn)
// over traces: an engine with the test world's databases that has
// observed them all.
func observed(t *testing.T, traces []*traceroute.Trace, learn bool) *geoloc.Engine {
	t.Helper()
	eng := geoloc.New(geoloc.Options{Sources: openWorld(t), Learn: learn})
	_, err := eng.ObserveAll(context.Background(), slices2(traces), nil)
	require.NoError(t, err)
	return eng
}

func slices2(traces []*traceroute.Trace) func(func(*traceroute.Trace, error) bool) {
	return func(yield func(*traceroute.Trace, error) bool) {
		for _, t := range traces {
			if !yield(t, nil) {
				return
			}
		}
	}
}

func writeTraces(t *testing.T, name string, traces []*traceroute.Trace, compress bool) {
	t.Helper()
	var b bytes.Buffer
	e := traceroute.NewEncoder(&b)
	for _, tr := range traces {
		require.NoError(t, e.Encode(tr))
	}
	require.NoError(t, e.Flush())
	data := b.Bytes()
	if compress {
		var z bytes.Buffer
		gz := gzip.NewWriter(&z)
		_, err := gz.Write(data)
		require.NoError(t, err)
		require.NoError(t, gz.Close())
		data = z.Bytes()
	}
	require.NoError(t, os.WriteFile(name, data, 0o644))
}

// TestReadStage: every supported input, compressed or not, gives one
// Record per trace named FILE#N; every bad record is a dead letter
// "FILE:LINE: what is wrong" (the reader's own message, as regeo prints
// it) and counted in bad_records, never dropped.
func TestReadStage(t *testing.T) {
	traces := worldTraces(t, false)[:3]
	good := make([]string, len(traces))
	for i, tr := range traces {
		b, err := json.Marshal(tr)
		require.NoError(t, err)
		good[i] = string(b)
	}
	type file struct {
		name    string
		content string // JSON Lines; written as is
		gzip    bool   // else traces[:3] gzip-compressed
	}
	tests := []struct {
		name      string
		files     []file
		glob      string
		format    string
		wantIDs   []string
		wantDead  []string // regexps, in file order
		wantTrace int
	}{{
		name:    "plain",
		files:   []file{{name: "a.jsonl", content: strings.Join(good, "\n") + "\n"}},
		glob:    "a.jsonl",
		wantIDs: []string{"a.jsonl#1", "a.jsonl#2", "a.jsonl#3"},
	}, {
		name:    "gzip-compressed",
		files:   []file{{name: "a.jsonl.gz", gzip: true}},
		glob:    "*.gz",
		wantIDs: []string{"a.jsonl.gz#1", "a.jsonl.gz#2", "a.jsonl.gz#3"},
	}, {
		name: "bad records among good ones",
		files: []file{{name: "bad.jsonl", content: strings.Join([]string{
			good[0], `{"format":"simulated","source":{"addr":"150.2.0.105"`, good[1], `{"format":"simulated","hops":[{"ttl":"x"}]}`, good[2],
		}, "\n") + "\n"}},
		glob:     "bad.jsonl",
		wantIDs:  []string{"bad.jsonl#1", "bad.jsonl#2", "bad.jsonl#3"},
		wantDead: []string{`bad\.jsonl:2: `, `bad\.jsonl:4: `},
	}, {
		name:     "no format known",
		files:    []file{{name: "junk.txt", content: "this is no traceroute\n"}},
		glob:     "junk.txt",
		wantDead: []string{`junk\.txt:1: .*use --input-format; known: `},
	}, {
		name: "a glob over several files",
		files: []file{
			{name: "x1.jsonl", content: good[0] + "\n"},
			{name: "x2.jsonl.gz", gzip: true},
		},
		glob:    "x*",
		wantIDs: []string{"x1.jsonl#1", "x2.jsonl.gz#1", "x2.jsonl.gz#2", "x2.jsonl.gz#3"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var wantDead []string
			for _, f := range tt.files {
				name := filepath.Join(dir, f.name)
				if f.gzip {
					writeTraces(t, name, traces, true)
				} else {
					require.NoError(t, os.WriteFile(name, []byte(f.content), 0o644))
				}
				// The dead letters are regeo's messages for the file.
				in, err := os.Open(name)
				require.NoError(t, err)
				for _, err := range traceroute.Read(in, traceroute.ReadOptions{Format: tt.format, Input: name}) {
					if err != nil {
						wantDead = append(wantDead, deadLine(err))
					}
				}
				in.Close()
			}
			require.Len(t, wantDead, len(tt.wantDead), "the reader's own errors")
			for i, re := range tt.wantDead {
				assert.Regexp(t, "^"+regexp.QuoteMeta(dir+"/")+re, wantDead[i])
			}
			wantIDs := make([]any, len(tt.wantIDs))
			for i, id := range tt.wantIDs {
				wantIDs[i] = filepath.Join(dir, id)
			}

			p, s := beam.NewPipelineWithRoot()
			recs, dead := Read(s, tt.format, filepath.Join(dir, tt.glob))
			passert.Equals(s, beam.ParDo(s, recordID, recs), wantIDs...)
			passert.Equals(s, dead, anySlice(wantDead)...)
			c := counters(t, p)
			assert.Equal(t, int64(len(tt.wantIDs)), c["traces_read"])
			assert.Equal(t, int64(len(tt.wantDead)), c["bad_records"])
		})
	}
}

// TestReadStageNoMatch: a glob that matches nothing fails the run (as a
// missing file fails regeo), naming the glob.
func TestReadStageNoMatch(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	glob := filepath.Join(t.TempDir(), "none-*.jsonl")
	recs, _ := Read(s, "", glob)
	passert.Empty(s, recs)
	err := ptest.Run(p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "none-*.jsonl")
}

// TestFuseStage: the fuse stage's per-address summaries and per-source
// votes are those the main module's first pass (regeo --fuse: Observe)
// keeps for the same traces, and a hand-made address shows the bound.
func TestFuseStage(t *testing.T) {
	t.Run("as regeo --fuse keeps them", func(t *testing.T) {
		for _, blind := range []bool{false, true} {
			t.Run(fmt.Sprintf("blind=%v", blind), func(t *testing.T) {
				traces := worldTraces(t, blind)
				eng := observed(t, traces, false)
				base := geoloc.New(geoloc.Options{Sources: openWorld(t)})
				var obs, votes []any
				var wantFused []any
				wantVotes := map[string]geoloc.Votes{}
				seenAddr, seenKey := map[string]bool{}, map[string]bool{}
				for _, tr := range traces {
					fp := base.FirstPassOf(context.Background(), tr)
					for _, o := range fp.Observations {
						var f geoloc.Fused
						f.Add(o.Vantage, o.RTTMs)
						obs = append(obs, kv[string, geoloc.Fused]{o.Addr.String(), f})
						if a := o.Addr.String(); !seenAddr[a] {
							seenAddr[a] = true
							f, ok := eng.FusedOf(o.Addr)
							require.True(t, ok, a)
							wantFused = append(wantFused, fusedLine(a, f))
						}
					}
					if fp.Vote != nil {
						votes = append(votes, kv[string, geoloc.Votes]{fp.VoteKey, *fp.Vote})
						if !seenKey[fp.VoteKey] {
							seenKey[fp.VoteKey] = true
							v, ok := eng.VotesOf(fp.VoteKey)
							require.True(t, ok, fp.VoteKey)
							wantVotes[fp.VoteKey] = v
						}
					}
				}
				require.NotEmpty(t, obs)
				require.Equal(t, eng.FusedAddrs(), len(wantFused))
				if blind {
					require.NotEmpty(t, votes)
				}

				p, s := beam.NewPipelineWithRoot()
				fused, summed := Fuse(s, kvCollection[string, geoloc.Fused](s, obs), kvCollection[string, geoloc.Votes](s, votes))
				passert.Equals(s, beam.ParDo(s, fusedLine, fused), wantFused...)
				// Vote weights are float64 sums, equal to the last bits only
				// in the same order (regeo's own first pass is parallel).
				passert.Count(s, summed, "sources", len(wantVotes))
				beam.ParDo0(s, &votesNearFn{Want: wantVotes}, summed)
				require.NoError(t, ptest.Run(p))
			})
		}
	})

	v := func(i int) geoloc.Vantage {
		return geoloc.Vantage{Lat: float64(i), Lon: float64(-i), Name: fmt.Sprint("vp", i)}
	}
	one := func(vp geoloc.Vantage, rtt float32) geoloc.Fused {
		var f geoloc.Fused
		f.Add(vp, rtt)
		return f
	}
	tests := []struct {
		name string
		obs  []geoloc.Fused
		want []geoloc.FusedObs
	}{{
		name: "one observation",
		obs:  []geoloc.Fused{one(v(1), 10)},
		want: []geoloc.FusedObs{{Vantage: v(1), RTTMs: 10}},
	}, {
		name: "the minimum per vantage point",
		obs:  []geoloc.Fused{one(v(1), 10), one(v(1), 4), one(v(1), 7)},
		want: []geoloc.FusedObs{{Vantage: v(1), RTTMs: 4}},
	}, {
		name: "the tightest four vantage points, ties by vantage point",
		obs:  []geoloc.Fused{one(v(6), 1), one(v(1), 9), one(v(2), 3), one(v(3), 3), one(v(4), 20), one(v(5), 2), one(v(1), 2)},
		want: []geoloc.FusedObs{{Vantage: v(6), RTTMs: 1}, {Vantage: v(1), RTTMs: 2}, {Vantage: v(5), RTTMs: 2}, {Vantage: v(2), RTTMs: 3}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in []any
			for _, f := range tt.obs {
				require.NotEmpty(t, f.Obs)
				in = append(in, kv[string, geoloc.Fused]{"192.0.2.1", f})
			}
			p, s := beam.NewPipelineWithRoot()
			fused, _ := Fuse(s, kvCollection[string, geoloc.Fused](s, in), kvCollection[string, geoloc.Votes](s, nil))
			passert.Equals(s, beam.ParDo(s, fusedLine, fused), fusedLine("192.0.2.1", geoloc.Fused{Obs: tt.want}))
			require.NoError(t, ptest.Run(p))
		})
	}
}

// kv is a key and value for kvCollection.
type kv[K, V any] struct {
	k K
	v V
}

// kvCollection is a PCollection<KV<K,V>> of the given kv pairs.
func kvCollection[K, V any](s beam.Scope, pairs []any) beam.PCollection {
	keys := make([]K, len(pairs))
	vals := make([]V, len(pairs))
	for i, p := range pairs {
		keys[i], vals[i] = p.(kv[K, V]).k, p.(kv[K, V]).v
	}
	return beam.ParDo(s, &zipFn[K, V]{Keys: keys, Vals: vals}, beam.Impulse(s))
}

// zipFn emits its pairs once.
type zipFn[K, V any] struct {
	Keys []K `json:"keys"`
	Vals []V `json:"vals"`
}

func (f *zipFn[K, V]) ProcessElement(_ []byte, emit func(K, V)) {
	for i := range f.Keys {
		emit(f.Keys[i], f.Vals[i])
	}
}

// learnNames is what the first stage hands the learn stage: the router
// names of the first pass keyed by domain, as firstFn keys them.
func learnNames(t *testing.T, traces []*traceroute.Trace) []any {
	t.Helper()
	base := geoloc.New(geoloc.Options{Sources: openWorld(t)})
	l := rdns.NewLearner(rdns.LearnOptions{Reader: rdns.NewReader()})
	var out []any
	for _, tr := range traces {
		for _, n := range base.FirstPassOf(context.Background(), tr).Names {
			if d := l.Domain(n.Name); d != "" {
				out = append(out, kv[string, geoloc.NameObservation]{d, n})
			}
		}
	}
	return out
}

// TestLearnStage: the learn stage's output, merged as the locate stage
// merges its side input, is what `geoloc learn` (and regeo --fuse's first
// pass: Engine.Learned) learns from the same traces, in its file format
// (rdns.Conventions.WriteJSON, read back by rdns.ReadConventions).
func TestLearnStage(t *testing.T) {
	all := worldTraces(t, true)
	tests := []struct {
		name   string
		traces []*traceroute.Trace
	}{
		{"every trace, half of them blind", all},
		{"the first half", all[:120]},
		{"the second half, backwards", reversed(all[120:])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := observed(t, tt.traces, true)
			learned := eng.Learned()
			require.NotEmpty(t, learned.Entries, "the test world teaches something")
			want, err := conventionsText(learned)
			require.NoError(t, err)
			_, err = rdns.ReadConventions(strings.NewReader(want), "want")
			require.NoError(t, err)

			p, s := beam.NewPipelineWithRoot()
			names := kvCollection[string, geoloc.NameObservation](s, learnNames(t, tt.traces))
			parts := Learn(s, Config{DBs: worldDBs}, names)
			merged := beam.ParDo(s, mergeParts, beam.GroupByKey(s, beam.ParDo(s, toZero, parts)))
			passert.Equals(s, merged, want)
			require.NoError(t, ptest.Run(p))
		})
	}
	t.Run("nothing to learn from", func(t *testing.T) {
		p, s := beam.NewPipelineWithRoot()
		parts := Learn(s, Config{DBs: worldDBs}, kvCollection[string, geoloc.NameObservation](s, nil))
		passert.Empty(s, parts)
		require.NoError(t, ptest.Run(p))
		c, _, err := MergeLearned(nil)
		require.NoError(t, err)
		assert.Empty(t, c.Domains)
		assert.Empty(t, c.Entries)
	})
}

// TestLocateStage: every trace joined with the fused summaries of its
// addresses and the votes of its source is located as regeo --fuse
// locates it (Engine.Locate after Observe over all traces), with and
// without learned conventions in the side input; its line goes to the
// shard of its ID; a trace the engine refuses is a dead letter; and the
// databases are opened once for the whole run (one worker per process).
func TestLocateStage(t *testing.T) {
	traces := worldTraces(t, true)
	tests := []struct {
		name   string
		learn  bool
		shards int
	}{
		{"fused, nothing learned", false, 1},
		{"fused, with the learned conventions", true, 3},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := observed(t, traces, tt.learn)
			var learnedParts []string
			if tt.learn {
				c := eng.Learned()
				require.NotEmpty(t, c.Entries)
				b, err := json.Marshal(learnedPart{Observed: 1, Conventions: c})
				require.NoError(t, err)
				learnedParts = []string{string(b)}
			}
			var recs, addrFused, votes []any
			var wantLines, wantDests []any
			for n, tr := range traces {
				id := fmt.Sprintf("world#%d", n+1)
				recs = append(recs, kv[string, Record]{id, Record{ID: id, Trace: tr}})
				for a := range addrsOf(tr) {
					if f, ok := eng.FusedOf(a); ok {
						addrFused = append(addrFused, kv[string, AddrFused]{id, AddrFused{Addr: a.String(), Fused: f}})
					}
				}
				if v, ok := eng.VotesOf(geoloc.SourceKey(tr)); ok {
					votes = append(votes, kv[string, geoloc.Votes]{id, v})
				}
				r, err := eng.Locate(context.Background(), tr)
				require.NoError(t, err)
				b, err := json.Marshal(r)
				require.NoError(t, err)
				wantLines = append(wantLines, shardLine(shardOf(id, tt.shards), string(b)))
				dest := output.BuildReport([]*geoloc.TraceResult{r}).Traces[0].Destination
				if !r.Destination.Addr.IsValid() && r.Destination.Name == "" {
					dest = traceName(id) // "trace 1" in a report of one
				}
				wantDests = append(wantDests, dest)
			}
			require.NotEmpty(t, votes)
			// A trace the engine refuses: a dead letter naming it.
			recs = append(recs, kv[string, Record]{"world#999", Record{ID: "world#999"}})

			// A Config of its own (the same databases by another name), so
			// that this run's worker is built afresh: once, by whichever
			// stage comes first.
			c := Config{DBs: slices.Clone(worldDBs), NoLearn: !tt.learn}
			c.DBs[0] = "./" + strings.Repeat("./", i) + c.DBs[0]
			before := workersBuilt.Load()
			p, s := beam.NewPipelineWithRoot()
			lines, sums, dead := Locate(s, c, tt.shards,
				kvCollection[string, Record](s, recs),
				kvCollection[string, AddrFused](s, addrFused),
				kvCollection[string, geoloc.Votes](s, votes),
				beam.CreateList(s, learnedParts))
			passert.Equals(s, beam.ParDo(s, shardLine, lines), wantLines...)
			passert.Equals(s, beam.ParDo(s, summaryDest, sums), wantDests...)
			passert.Equals(s, dead, "world: trace 999: locate: geoloc: Locate of a nil trace")
			cs := counters(t, p)
			assert.Equal(t, int64(1), workersBuilt.Load()-before, "the databases are opened once per worker")
			assert.Equal(t, int64(len(traces)), cs["traces_located"])
			assert.Equal(t, int64(1), cs["traces_failed"])
		})
	}
}

func init() { register.Function1x1(summaryDest) }

func summaryDest(s Summary) string { return s.Destination }

// addrsOf are the public addresses of tr, as keysFn keys them.
func addrsOf(tr *traceroute.Trace) map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	for i := range tr.Hops {
		for _, a := range tr.Hops[i].Addrs() {
			if a = a.Unmap(); geoloc.SpecialReason(a) == "" {
				out[a] = true
			}
		}
	}
	return out
}

// TestWriteStage: the results go to JSON Lines shards PREFIX-SSSSS-of-NNNNN
// (a shard no trace fell into is not written), the aggregates to
// PREFIX-report.json (golden: go test -run TestWriteStage -update), the
// dead letters sorted to PREFIX-errors.txt; every file has the mode
// os.Create gives (0666 less the umask) and no temporary file is left.
func TestWriteStage(t *testing.T) {
	ex := func(key, name string, traces, hops int, conf float64) output.Exposure {
		return output.Exposure{Key: key, Name: name, Traces: traces, Hops: hops, MeanConfidence: conf}
	}
	sums := []Summary{
		{Destination: "192.0.2.1", Countries: []output.Exposure{ex("FR", "France", 1, 3, 0.5), ex("DE", "Germany", 1, 1, 1)}, Organisations: []output.Exposure{ex("AS64500", "Example", 1, 4, 0.75)}},
		{Destination: "192.0.2.1", Countries: []output.Exposure{ex("FR", "France", 1, 1, 0.25)}},
		{Destination: "198.51.100.7", Countries: []output.Exposure{ex("DE", "Germany", 1, 2, 0.5)}, Organisations: []output.Exposure{ex("AS64501", "Other", 1, 2, 0.5), ex("AS64500", "Example", 1, 1, 1)}},
		{Destination: "world: trace 7"},
	}
	tests := []struct {
		name   string
		shards int
		lines  map[int][]string
		dead   []string
	}{{
		name:   "one shard",
		shards: 1,
		lines:  map[int][]string{0: {`{"n":1}`, `{"n":2}`, `{"n":3}`}},
		dead:   []string{"b.jsonl:2: bad", "a.jsonl:9: bad"},
	}, {
		name:   "three shards, one empty",
		shards: 3,
		lines:  map[int][]string{0: {`{"n":1}`}, 2: {`{"n":2}`, `{"n":3}`}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			prefix := filepath.Join(dir, "out", "x")
			var in []any
			for shard, ls := range tt.lines {
				for _, l := range ls {
					in = append(in, kv[int, string]{shard, l})
				}
			}
			p, s := beam.NewPipelineWithRoot()
			WriteShards(s, prefix, tt.shards, kvCollection[int, string](s, in))
			Aggregate(s, prefix, beam.CreateList(s, sums))
			if len(tt.dead) > 0 {
				WriteDeadLetters(s, prefix, beam.CreateList(s, tt.dead))
			}
			require.NoError(t, ptest.Run(p))

			for i := range tt.shards {
				name := ShardName(prefix, i, tt.shards)
				if len(tt.lines[i]) == 0 {
					assert.NoFileExists(t, name)
					continue
				}
				got := readLines(t, name)
				slices.Sort(got)
				assert.Equal(t, tt.lines[i], got, name)
			}
			got, err := os.ReadFile(prefix + "-report.json")
			require.NoError(t, err)
			golden := "testdata/report.golden.json"
			if *update {
				require.NoError(t, os.WriteFile(golden, got, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
			if len(tt.dead) > 0 {
				assert.Equal(t, slices.Sorted(slices.Values(tt.dead)), readLines(t, prefix+"-errors.txt"))
			} else {
				assert.NoFileExists(t, prefix+"-errors.txt")
			}

			entries, err := os.ReadDir(filepath.Dir(prefix))
			require.NoError(t, err)
			for _, e := range entries {
				assert.NotContains(t, e.Name(), fsutil.TempMarker, "a temporary file is left")
				fi, err := e.Info()
				require.NoError(t, err)
				assert.Equal(t, fsutil.FileMode(), fi.Mode().Perm(), e.Name())
			}
		})
	}
}

// TestCheckDBsStage: a geofeed's bad lines, which regeo warns about when
// it opens the databases, are counted once in the run (and warned about in
// the worker's log), however many stages open the databases.
func TestCheckDBsStage(t *testing.T) {
	const feed = "192.0.2.0/24,DE,DE-HE,Frankfurt am Main,60311\n198.51.100.0/24,FR,,,\n"
	tests := []struct {
		name  string
		feeds map[string]string
		want  int64
	}{
		{"no geofeed", nil, 0},
		{"a clean geofeed", map[string]string{"clean.csv": feed}, 0},
		{"bad lines in two geofeeds", map[string]string{
			"header.csv": "prefix,country,region,city,postal\n" + feed + "192.0.2.0/33,DE,,,\n",
			"typo.csv":   feed + "x,DE,,,\n",
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := Config{DBs: slices.Clone(worldDBs)}
			for name, content := range tt.feeds {
				p := filepath.Join(dir, name)
				require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
				c.DBs = append(c.DBs, p)
			}
			w, err := newWorker(context.Background(), c)
			require.NoError(t, err)
			assert.Equal(t, int(tt.want), w.skipped)
			assert.Len(t, w.skips, len(tt.feeds)-boolInt(tt.want == 0)*len(tt.feeds))
			for _, l := range w.skips {
				assert.Regexp(t, `^.*\.csv: skipped \d+ bad lines? \(first: .*\.csv:\d+: `, l)
			}

			p, s := beam.NewPipelineWithRoot()
			CheckDBs(s, c)
			// Another stage of the run opens the databases too.
			Learn(s, c, kvCollection[string, geoloc.NameObservation](s, nil))
			assert.Equal(t, tt.want, counters(t, p)["geofeed_skipped_lines"])
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestLocalCopy: a database named by a URL of a Beam filesystem is copied
// to a local file once per worker process, whole, with the mode os.Create
// gives (0666 less the umask), no temporary file left beside it.
func TestLocalCopy(t *testing.T) {
	tests := []struct {
		name, url, data string
	}{
		{"a database", "memfs://bucket/dbs/" + t.Name() + "/city.mmdb", "not really a database"},
		{"an empty file", "memfs://bucket/dbs/" + t.Name() + "/empty.csv", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			memfs.Write(tt.url, []byte(tt.data))
			local, err := localCopy(context.Background(), tt.url)
			require.NoError(t, err)
			t.Cleanup(func() { os.RemoveAll(filepath.Dir(local)) })
			assert.Equal(t, filepath.Base(tt.url), filepath.Base(local))
			got, err := os.ReadFile(local)
			require.NoError(t, err)
			assert.Equal(t, tt.data, string(got))
			fi, err := os.Stat(local)
			require.NoError(t, err)
			assert.Equal(t, fsutil.FileMode(), fi.Mode().Perm())
			entries, err := os.ReadDir(filepath.Dir(local))
			require.NoError(t, err)
			require.Len(t, entries, 1, "only the copy")

			again, err := localCopy(context.Background(), tt.url)
			require.NoError(t, err)
			assert.Equal(t, local, again)
		})
	}
	_, err := localCopy(context.Background(), "memfs://bucket/none.mmdb")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "memfs://bucket/none.mmdb: cannot open")
}

// TestFinishShard: a shard written by several bundles is joined from their
// temporary files in the order of their names, streamed, and the
// temporary files are removed; a shard of one bundle is renamed.
func TestFinishShard(t *testing.T) {
	tests := []struct {
		name  string
		temps []string // contents, one temporary file each
		want  string
	}{
		{"one bundle", []string{"a\nb\n"}, "a\nb\n"},
		{"three bundles", []string{"a\n", "b\nc\n", "d\n"}, "a\nb\nc\nd\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			prefix := filepath.Join(dir, "x")
			content := map[string]string{}
			var names []string
			for _, c := range tt.temps {
				tf, err := createTemp(context.Background(), ShardName(prefix, 1, 2))
				require.NoError(t, err)
				_, err = tf.w.WriteString(c)
				require.NoError(t, err)
				require.NoError(t, tf.close())
				names = append(names, tf.name)
				content[tf.name] = c
			}
			slices.Sort(names)
			want := ""
			for _, n := range names {
				want += content[n]
			}
			i := len(names)
			next := func(s *string) bool { // backwards: the order is the names'
				if i == 0 {
					return false
				}
				i--
				*s = names[i]
				return true
			}
			require.NoError(t, (&finishShardFn{Prefix: prefix, Shards: 2}).ProcessElement(context.Background(), 1, next))
			got, err := os.ReadFile(ShardName(prefix, 1, 2))
			require.NoError(t, err)
			assert.Equal(t, want, string(got))
			assert.Len(t, want, len(tt.want))
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 1, "only the shard")
			fi, err := entries[0].Info()
			require.NoError(t, err)
			assert.Equal(t, fsutil.FileMode(), fi.Mode().Perm())
		})
	}
}
