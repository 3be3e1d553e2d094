package output

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/outputtest"
)

func TestBuildReport(t *testing.T) {
	r := BuildReport(append(outputtest.Traces(), nil))
	assert.Len(t, r.Traces, 4)
	assert.Equal(t, 4, r.Destinations)
	byKey := map[string]Exposure{}
	for _, c := range r.Countries {
		byKey[c.Key] = c
	}
	assert.Equal(t, 2, byKey["NO"].Destinations, "two traces start in Norway")
	assert.Equal(t, 2, byKey["NO"].Traces)
	assert.Equal(t, 1, byKey["SE"].Destinations)
	assert.Equal(t, "Germany", byKey["DE"].Name)
	assert.Equal(t, "NO", r.Countries[0].Key, "sorted by destinations, then hops")
	orgs := map[string]Exposure{}
	for _, o := range r.Organisations {
		orgs[o.Key] = o
	}
	assert.Equal(t, 2, orgs["AS2119"].Destinations)
	assert.Equal(t, 6, orgs["AS1299"].Hops, "unlocated hops still tell who runs the router")
	assert.Equal(t, "Arelion Sweden AB", orgs["AS1299"].Name)

	many := BuildReport(outputtest.Many(40))
	assert.Equal(t, 40, many.Destinations)
	assert.Equal(t, "NO", many.Countries[0].Key)
	assert.Equal(t, 40, many.Countries[0].Destinations)
}

func TestReportGolden(t *testing.T) {
	for name, rs := range map[string][]*geoloc.TraceResult{"traces": outputtest.Traces(), "hostile": outputtest.Hostile()} {
		t.Run(name, func(t *testing.T) {
			r := BuildReport(rs)
			var js, tbl bytes.Buffer
			require.NoError(t, r.WriteJSON(&js))
			require.NoError(t, r.WriteTable(&tbl))
			require.True(t, json.Valid(js.Bytes()))
			golden(t, "report-"+name+".json", js.Bytes())
			golden(t, "report-"+name+".txt", tbl.Bytes())
			assert.NotContains(t, tbl.String(), "\x1b", "no escape sequence reaches the terminal")
			assert.NotContains(t, tbl.String(), "\x00")
		})
	}
}

func TestTableAligned(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, BuildReport(outputtest.Traces()).WriteTable(&buf))
	lines := strings.Split(buf.String(), "\n")
	col := strings.Index(lines[0], "COUNTRIES")
	require.Positive(t, col)
	for _, l := range lines[1:5] {
		assert.NotEqual(t, ' ', l[col], "column starts at the header's position: %q", l)
		assert.Equal(t, byte(' '), l[col-1], "%q", l)
	}
}

func BenchmarkBuildReport(b *testing.B) {
	rs := outputtest.Many(100)
	BuildReport(rs)
	b.ReportAllocs()
	for b.Loop() {
		BuildReport(rs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/trace")
}
