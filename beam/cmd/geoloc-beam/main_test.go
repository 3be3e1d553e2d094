package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/beam/pipeline"
)

func TestMain(m *testing.M) { ptest.MainWithDefault(m, "direct") }

func TestSummary(t *testing.T) {
	tests := []struct {
		name string
		c    map[string]int64
		want []string // lines
	}{{
		name: "no counters",
		c:    map[string]int64{},
		want: []string{"the runner reported no counters; wrote out/x-*.jsonl, out/x-report.json"},
	}, {
		name: "clean run",
		c: map[string]int64{"traces_read": 3, "traces_located": 3, "hops": 10, "hops_located": 7,
			"hops_by_method_none": 3, "hops_by_method_geoip:a": 5, "hops_by_method_latency": 2,
			"fuse_observations": 9, "fuse_addresses": 4, "fuse_shuffle_bytes": 1000},
		want: []string{
			"3 traces read, 0 bad records",
			"3 traces located: 7 of 10 hops placed (geoip:a 5, latency 2, none 3)",
			"fuse: 9 observations, 4 addresses, 1000 bytes to the group-by-address shuffle (250 per address)",
			"wrote out/x-*.jsonl, out/x-report.json",
		},
	}, {
		name: "bad records and failed traces",
		c:    map[string]int64{"traces_read": 3, "bad_records": 2, "traces_located": 2, "traces_failed": 1, "hops": 4, "hops_located": 4, "hops_by_method_geoip:a": 4},
		want: []string{
			"3 traces read, 2 bad records (3 records in out/x-errors.txt)",
			"2 traces located, 1 failed: 4 of 4 hops placed (geoip:a 4)",
			"fuse: 0 observations, 0 addresses, 0 bytes to the group-by-address shuffle",
			"wrote out/x-*.jsonl, out/x-report.json",
		},
	}, {
		name: "geofeed lines skipped",
		c:    map[string]int64{"traces_read": 1, "traces_located": 1, "geofeed_skipped_lines": 2},
		want: []string{
			"1 traces read, 0 bad records",
			"1 traces located: 0 of 0 hops placed",
			"fuse: 0 observations, 0 addresses, 0 bytes to the group-by-address shuffle",
			"geofeeds: 2 bad lines skipped (RFC 8805 §3), each geofeed named in the workers' log",
			"wrote out/x-*.jsonl, out/x-report.json",
		},
	}, {
		name: "one geofeed line skipped",
		c:    map[string]int64{"geofeed_skipped_lines": 1, "traces_read": 1},
		want: []string{
			"1 traces read, 0 bad records",
			"0 traces located: 0 of 0 hops placed",
			"fuse: 0 observations, 0 addresses, 0 bytes to the group-by-address shuffle",
			"geofeeds: 1 bad line skipped (RFC 8805 §3), each geofeed named in the workers' log",
			"wrote out/x-*.jsonl, out/x-report.json",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, strings.Split(summary(tt.c, "out/x"), "\n"))
		})
	}
}

// TestExecuteCounters: the command's run reports, through Beam's metrics,
// the traces read, the bad records, the hops located by method (summing to
// the hops) and the fuse stage's shuffle, and prints them.
func TestExecuteCounters(t *testing.T) {
	require.NoError(t, flag.Set("runner", "direct"))
	dir := t.TempDir()
	world := "../../pipeline/testdata/world/"
	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(`{"format":"simulated","hops":[{"ttl":"x"}]}`+"\n"), 0o644))
	prefix := filepath.Join(dir, "out")
	j := pipeline.Job{
		Config: pipeline.Config{DBs: []string{world + "citydb-a.mmdb", world + "citydb-b.mmdb", world + "asn.mmdb"}},
		Inputs: []string{world + "traces.jsonl.gz", bad},
		Output: prefix,
		Shards: 1,
	}
	c, err := execute(context.Background(), j)
	require.NoError(t, err)

	assert.Equal(t, int64(240), c["traces_read"])
	assert.Equal(t, int64(1), c["bad_records"])
	assert.Equal(t, int64(240), c["traces_located"])
	assert.Zero(t, c["traces_failed"])
	var byMethod int64
	for k, v := range c {
		if strings.HasPrefix(k, "hops_by_method_") {
			byMethod += v
		}
	}
	require.Positive(t, c["hops"])
	assert.Equal(t, c["hops"], byMethod)
	assert.Positive(t, c["hops_located"])
	assert.LessOrEqual(t, c["hops_located"], c["hops"])
	assert.Equal(t, c["hops"]-c["hops_by_method_none"], c["hops_located"])
	assert.Positive(t, c["fuse_addresses"])
	assert.GreaterOrEqual(t, c["fuse_observations"], c["fuse_addresses"])
	assert.Greater(t, c["fuse_shuffle_bytes"], c["fuse_observations"])

	s := summary(c, prefix)
	assert.Contains(t, s, "240 traces read, 1 bad records (1 records in "+prefix+"-errors.txt)\n240 traces located: ")
	assert.Regexp(t, `\nfuse: \d+ observations, \d+ addresses, \d+ bytes to the group-by-address shuffle \(\d+ per address\)\n`, s)
	dead, err := os.ReadFile(prefix + "-errors.txt")
	require.NoError(t, err)
	assert.Contains(t, string(dead), "bad.jsonl:1: ")
}
