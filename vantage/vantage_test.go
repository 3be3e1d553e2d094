package vantage

import (
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/rdns"
	"github.com/geoloc-dev/geoloc/traceroute"
)

func fakeHints(s string) []rdns.Hint {
	if s == "osl" {
		return []rdns.Hint{{Code: "osl", Kind: rdns.KindIATA, Place: "Oslo", Country: "NO", Lat: 59.9139, Lon: 10.7522}}
	}
	return nil
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    geoloc.Vantage
		wantErr string
	}{
		{in: "59.9139,10.7522", want: geoloc.Vantage{Lat: 59.9139, Lon: 10.7522, Name: "59.9139,10.7522"}},
		{in: " -33.87, 151.21 ,Sydney", want: geoloc.Vantage{Lat: -33.87, Lon: 151.21, Name: "Sydney"}},
		{in: "OSL", want: geoloc.Vantage{Lat: 59.9139, Lon: 10.7522, Name: "Oslo"}},
		{in: "", wantErr: "empty"},
		{in: "91,0", wantErr: "out of range"},
		{in: "10,east", wantErr: "want LAT,LON"},
		{in: "zzz", wantErr: "no known airport"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in, fakeHints)
		if tt.wantErr != "" {
			assert.ErrorContains(t, err, tt.wantErr, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got)
	}
}

func TestParseWithEmbeddedDictionaries(t *testing.T) {
	for in, want := range map[string]string{"osl": "NO", "LHR": "GB", "Frankfurt": "DE", "New York": "US"} {
		v, err := Parse(in, nil)
		require.NoError(t, err, in)
		w, err := Parse(in, rdns.Hints)
		require.NoError(t, err, in)
		assert.Equal(t, v, w)
		assert.NotEmpty(t, v.Name, in)
		assert.Equal(t, want, countryOf(v), in)
	}
	_, err := Parse("qqqqzz", nil)
	assert.Error(t, err)
}

func TestParseNamesAndCodes(t *testing.T) {
	tests := []struct {
		in       string
		name     string
		lat, lon float64 // within 0.5 degrees
	}{
		{"EDDF", "Frankfurt am Main", 50.03, 8.56},
		{"defra", "Frankfurt am Main", 50.12, 8.68},
		{"nyc", "New York", 40.69, -73.98},
		{"Muenchen", "Munich", 48.14, 11.58},
		{"São Paulo", "São Paulo", -23.55, -46.63},
		{"Paris, US", "Paris", 33.67, -95.55},
		{"Paris, TX, US", "Paris", 33.67, -95.55},
		{"London, ON, CA", "London", 42.98, -81.25},
		{"Paris", "Paris", 48.86, 2.35},
	}
	for _, tt := range tests {
		v, err := Parse(tt.in, nil)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.name, v.Name, tt.in)
		assert.InDelta(t, tt.lat, v.Lat, 0.5, tt.in)
		assert.InDelta(t, tt.lon, v.Lon, 0.5, tt.in)
	}
	for _, in := range []string{"Paris, JP", "Paris, TX, FR", "Nowhere, US", "a, b, c, d", "Paris, USA"} {
		_, err := Parse(in, nil)
		assert.ErrorContains(t, err, "no known airport", in)
	}
}

// countryOf is a coarse check that the place is where its code says.
func countryOf(v geoloc.Vantage) string {
	switch {
	case v.Lat > 57 && v.Lat < 62 && v.Lon > 9 && v.Lon < 12:
		return "NO"
	case v.Lat > 51 && v.Lat < 52 && v.Lon > -1 && v.Lon < 0.5:
		return "GB"
	case v.Lat > 49.5 && v.Lat < 50.5 && v.Lon > 8 && v.Lon < 9:
		return "DE"
	case v.Lat > 40 && v.Lat < 41.5 && v.Lon > -75 && v.Lon < -73:
		return "US"
	}
	return ""
}

func TestReadTable(t *testing.T) {
	in := `# RIPE Atlas probes
6012,59.91,10.75,Oslo probe
192.0.2.1,50.11,8.68
2001:db8::1, 35.68, 139.65, Tokyo
`
	tab, err := ReadTable(strings.NewReader(in), "vp.csv")
	require.NoError(t, err)
	assert.Equal(t, 3, tab.Len())
	v, ok := tab.Lookup(&traceroute.Trace{Source: traceroute.Endpoint{ProbeID: "6012"}})
	require.True(t, ok)
	assert.Equal(t, geoloc.Vantage{Lat: 59.91, Lon: 10.75, Name: "Oslo probe"}, v)
	v, ok = tab.Lookup(&traceroute.Trace{Source: traceroute.Endpoint{Addr: netip.MustParseAddr("::ffff:192.0.2.1")}})
	require.True(t, ok)
	assert.Equal(t, "192.0.2.1", v.Name)
	_, ok = tab.Lookup(&traceroute.Trace{Source: traceroute.Endpoint{ProbeID: "1"}})
	assert.False(t, ok)

	hdr := "lon,lat,prb_id,city\n10.75,59.91,6012,Oslo\n"
	tab, err = ReadTable(strings.NewReader(hdr), "h.csv")
	require.NoError(t, err)
	v, ok = tab.Lookup(&traceroute.Trace{Source: traceroute.Endpoint{ProbeID: "6012"}})
	require.True(t, ok)
	assert.Equal(t, geoloc.Vantage{Lat: 59.91, Lon: 10.75, Name: "Oslo"}, v)
}

func TestReadTableErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"6012,59.91\n", "bad.csv:1: vantage points: want latitude and longitude"},
		{"6012,59.91,10.75\nfoo,1,2\n", "bad.csv:2: vantage points: \"foo\" is neither"},
		{"6012,59.91,200\n", "bad.csv:1:"},
		{"a,\"b\n", "bad.csv:"},
	}
	for _, tt := range tests {
		_, err := ReadTable(strings.NewReader(tt.in), "bad.csv")
		assert.ErrorContains(t, err, tt.want, tt.in)
	}
}

// RIPE Atlas probe lists read as tables: the API's /probes/ page and the
// probe archive, recorded (internal/remotetest/testdata/SOURCES.md).
func TestReadTableAtlasProbes(t *testing.T) {
	for _, name := range []string{"atlas-probes-page.json", "atlas-probe-archive.json"} {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open("../internal/remotetest/testdata/" + name)
			require.NoError(t, err)
			defer f.Close()
			tab, err := ReadTable(f, name)
			require.NoError(t, err)
			assert.Equal(t, 3, tab.Len(), "probe 18335 has no position")
			v, ok := tab.Lookup(&traceroute.Trace{Source: traceroute.Endpoint{ProbeID: "1003672"}})
			require.True(t, ok)
			assert.Equal(t, geoloc.Vantage{Lat: 34.6885, Lon: 33.0405, Name: "probe 1003672"}, v)
			_, ok = tab.Probe("18335")
			assert.False(t, ok)
		})
	}
	// A byte order mark and leading blank lines, JSON Lines of probes.
	tab, err := ReadTable(strings.NewReader("\xef\xbb\xbf\n  {\"id\":7,\"latitude\":1.5,\"longitude\":2.5}\n{\"id\":8,\"geometry\":{\"type\":\"Point\",\"coordinates\":[3,4]}}\n"), "p.jsonl")
	require.NoError(t, err)
	v, ok := tab.Probe("8")
	require.True(t, ok)
	assert.Equal(t, geoloc.Vantage{Lat: 4, Lon: 3, Name: "probe 8"}, v)

	var zero Table
	zero.AddProbe("9", geoloc.Vantage{Lat: 1, Lon: 2, Name: "x"})
	assert.Equal(t, 1, zero.Len())
}

func TestReadTableAtlasProbesErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"results":[{"id":1,"latitude":1,"longitude":2},` + "\n" + `{"id":2,"latitude":95,"longitude":2}]}`, "probes.json:2: vantage points: RIPE Atlas probe list: probe 2 of the list: id 2: position 95,2 out of range"},
		{"[\n{\"id\":1,\"latitude\":1,\n", "probes.json:2: vantage points: RIPE Atlas probe list: probe 1 of the list: unexpected EOF"},
		{`{"objects": 5}`, `probes.json:1: vantage points: RIPE Atlas probe list: "objects" is not a list`},
	}
	for _, tt := range tests {
		_, err := ReadTable(strings.NewReader(tt.in), "probes.json")
		assert.EqualError(t, err, tt.want, tt.in)
	}
}

func FuzzReadTable(f *testing.F) {
	f.Add("6012,59.91,10.75,Oslo\n192.0.2.1,1,2\n")
	f.Add(`{"results":[{"id":1002572,"geometry":{"type":"Point","coordinates":[-72.0895,43.3885]}}]}`)
	f.Add(`{"objects":[{"id":1,"latitude":1,"longitude":2,"status":1}]}`)
	f.Add("lon,lat,prb_id,city\n10.75,59.91,6012,Oslo\n")
	f.Add("#x\n\n2001:db8::1,0,0\n")
	f.Fuzz(func(t *testing.T, in string) {
		tab, err := ReadTable(strings.NewReader(in), "fuzz.csv")
		if err != nil {
			assert.True(t, strings.HasPrefix(err.Error(), "fuzz.csv"), err.Error())
			return
		}
		assert.GreaterOrEqual(t, tab.Len(), 0)
	})
}
