package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/output"
)

// nttTrace writes a trace of NTT's routers from Tokyo to Dallas, named by
// their cities (placed from their names alone, in four places), and
// returns its path.
func nttTrace(t *testing.T) string {
	t.Helper()
	trace := filepath.Join(t.TempDir(), "trace.txt")
	require.NoError(t, os.WriteFile(trace, []byte(`traceroute to cdn.example.com (129.250.9.9), 30 hops max, 60 byte packets
 1  ae-2.r01.tokyjp05.jp.bb.gin.ntt.net (129.250.2.129)  1.104 ms  1.210 ms  1.302 ms
 2  ae-4.r24.osakjp02.jp.bb.gin.ntt.net (129.250.2.133)  8.215 ms  8.301 ms  8.290 ms
 3  ae-1.r22.lsanca07.us.bb.gin.ntt.net (129.250.2.141)  104.512 ms  104.600 ms  104.733 ms
 4  ae-5.r21.dllstx09.us.bb.gin.ntt.net (129.250.2.150)  131.020 ms  131.100 ms  131.200 ms
`), 0o644))
	return trace
}

// The map outputs of one run (review: each used to build its own
// aggregate of the same results) draw one Aggregate, built once, and
// each is what it would be alone.
func TestAggregateSharedBetweenMaps(t *testing.T) {
	trace := nttTrace(t)
	defer func(n int) { aggregateAbove = n }(aggregateAbove)
	aggregateAbove = 2
	defer func(f func(int) *output.SharedAggregate) { newSharedAggregate = f }(newSharedAggregate)
	var built []*output.SharedAggregate
	newSharedAggregate = func(maxLinks int) *output.SharedAggregate {
		built = append(built, output.NewSharedAggregate(maxLinks))
		return built[len(built)-1]
	}
	maps := []string{"x.kml", "x.html", "x.svg", "x.geojson"}
	tests := []struct {
		name   string
		flags  []string
		traces int
		shared bool
	}{
		{"forced", []string{"--aggregate"}, 2, true},
		{"automatic above the threshold", nil, 3, true},
		{"automatic at the threshold: per trace", nil, 2, true},
		{"never", []string{"--aggregate=false"}, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			built = nil
			args := append([]string{"regeo", "--no-db"}, slices.Repeat([]string{trace}, tt.traces)...)
			args = append(args, tt.flags...)
			together := t.TempDir()
			all := append([]string(nil), args...)
			for _, m := range maps {
				all = append(all, "-o", filepath.Join(together, m))
			}
			all = append(all, "-o", filepath.Join(together, "x.csv"))
			r := run(t, "", nil, all...)
			require.Equal(t, ExitOK, r.code, r.stderr)
			if !tt.shared {
				assert.Empty(t, built, "no aggregate without --aggregate")
			} else {
				require.Len(t, built, 1, "one aggregate for all the maps")
				assert.Equal(t, tt.traces, built[0].Aggregate().Traces(), "each trace folded in once")
			}
			for _, m := range maps {
				alone := filepath.Join(t.TempDir(), m)
				r := run(t, "", nil, append(append([]string(nil), args...), "-o", alone)...)
				require.Equal(t, ExitOK, r.code, r.stderr)
				want, err := os.ReadFile(alone)
				require.NoError(t, err)
				got, err := os.ReadFile(filepath.Join(together, m))
				require.NoError(t, err)
				assert.Equal(t, string(want), string(got), m)
			}
		})
	}
}

// TestAggregateFlag is issue 13 item 2 at the command line: maps of more
// than aggregateAbove traces are drawn aggregated with a note on stderr;
// --aggregate forces it, --aggregate=false never; the other formats stay
// per trace.
func TestAggregateFlag(t *testing.T) {
	trace := nttTrace(t)
	defer func(n int) { aggregateAbove = n }(aggregateAbove)
	aggregateAbove = 2
	tests := []struct {
		name       string
		flags      []string
		traces     int
		aggregated bool
		note       bool
	}{
		{"forced", []string{"--aggregate"}, 1, true, false},
		{"forced with =true", []string{"--aggregate=true"}, 2, true, false},
		{"automatic above the threshold", nil, 3, true, true},
		{"at the threshold per trace", nil, 2, false, false},
		{"never", []string{"--aggregate=false"}, 3, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			gj, kml, csv := filepath.Join(dir, "x.geojson"), filepath.Join(dir, "x.kml"), filepath.Join(dir, "x.csv")
			args := append([]string{"regeo", "--no-db"}, slices.Repeat([]string{trace}, tt.traces)...)
			args = append(append(args, tt.flags...), "-o", gj, "-o", kml, "-o", csv)
			r := run(t, "", nil, args...)
			require.Equal(t, ExitOK, r.code, r.stderr)
			b, err := os.ReadFile(gj)
			require.NoError(t, err)
			var fc struct {
				Aggregate *struct{ Traces int } `json:"aggregate"`
				Features  []struct {
					Properties struct {
						Kind  string `json:"kind"`
						Count int    `json:"count"`
					} `json:"properties"`
				} `json:"features"`
			}
			require.NoError(t, json.Unmarshal(b, &fc))
			assert.Equal(t, tt.aggregated, fc.Aggregate != nil, "GeoJSON aggregated")
			if tt.aggregated {
				links := 0
				for _, f := range fc.Features {
					if f.Properties.Kind == "link" {
						links++
						assert.Equal(t, tt.traces, f.Properties.Count, "every trace takes every link")
					}
				}
				assert.Equal(t, 3, links, "Tokyo → Osaka → Los Angeles → Dallas")
			}
			k, err := os.ReadFile(kml)
			require.NoError(t, err)
			assert.Equal(t, tt.aggregated, strings.Contains(string(k), "<name>links</name>"), "KML aggregated")
			c, err := os.ReadFile(csv)
			require.NoError(t, err)
			assert.Equal(t, 1+4*tt.traces, strings.Count(string(c), "\n"), "CSV per trace: a header, and a row per hop")
			note := "geoloc regeo: " + gj + ": more than 2 traces: drawing each distinct link once with its count (--aggregate; --aggregate=false draws every trace)\n"
			assert.Equal(t, tt.note, strings.Contains(r.stderr, note), r.stderr)
			assert.Equal(t, tt.note, strings.Contains(r.stderr, kml+": more than 2 traces"), r.stderr)
			assert.NotContains(t, r.stderr, csv+":")
		})
	}
	// A map drawn trace by trace over the size limit gets a note; the
	// CSV, not a map, does not.
	defer func(n int64) { largeMap = n }(largeMap)
	largeMap = 100
	dir := t.TempDir()
	r := run(t, "", nil, "regeo", "--no-db", "--aggregate=false", trace, trace, trace, "-o", filepath.Join(dir, "x.kml"), "-o", filepath.Join(dir, "x.csv"))
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "geoloc regeo: "+filepath.Join(dir, "x.kml")+": 0 MB for 3 traces, drawn one by one; --aggregate draws each distinct link once with its count\n")
	assert.NotContains(t, r.stderr, "x.csv:")
	r = run(t, "", nil, "regeo", "--no-db", "-q", "--aggregate=false", trace, "-o", filepath.Join(dir, "x.kml"))
	assert.Empty(t, r.stderr, "-q: no notes")

	r = run(t, "", nil, "regeo", "--no-db", "--aggregate=maybe", trace, "-o", filepath.Join(t.TempDir(), "x.kml"))
	assert.Equal(t, ExitUsage, r.code)
	assert.Contains(t, r.stderr, `"maybe" for -aggregate`)
	h := run(t, "", nil, "regeo", "--help")
	assert.Contains(t, h.stdout, "--aggregate")
}
