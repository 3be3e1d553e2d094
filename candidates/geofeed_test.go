package candidates_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates"
)

const testFeed = `# RFC 8805 geofeed of an example network
192.0.2.0/24,DE,DE-HE,Frankfurt am Main,60311
192.0.2.128/25,NL,NL-NH,Amsterdam,
192.0.2.192/26,,,,
198.51.100.0/24,US,US-CA,Nowhere Town,
198.51.100.7,FR,,,
2001:db8::/32,GB,GB-ENG,London,
2001:db8:1::/48,JP,,Tokyo,
`

// fakePlaces stands in for the rdns places dictionary.
func fakePlaces(city, region, country string) (float64, float64, bool) {
	switch country + "/" + region + "/" + city {
	case "DE/HE/Frankfurt am Main":
		return 50.1109, 8.6821, true
	case "NL/NH/Amsterdam":
		return 52.3676, 4.9041, true
	case "GB/ENG/London":
		return 51.5074, -0.1278, true
	case "JP//Tokyo":
		return 35.6895, 139.6917, true
	}
	return 0, 0, false
}

func TestGeofeed(t *testing.T) {
	g, err := candidates.ReadGeofeed(strings.NewReader(testFeed), "feeds/example.csv", candidates.GeofeedOptions{Places: fakePlaces})
	require.NoError(t, err)
	assert.Equal(t, "geofeed-example", g.Name())
	assert.Equal(t, 7, g.Len())
	us, _ := candidates.LookupCountry("US")
	tests := []struct {
		addr    string
		kind    candidates.Kind
		city    string
		region  string
		country string
		lat     float64
		radius  float64
	}{
		{"192.0.2.1", candidates.KindGeofeed, "Frankfurt am Main", "HE", "DE", 50.1109, candidates.DefaultGeofeedRadiusKm},
		{"192.0.2.129", candidates.KindGeofeed, "Amsterdam", "NH", "NL", 52.3676, candidates.DefaultGeofeedRadiusKm},
		{"192.0.2.200", "", "", "", "", 0, 0}, // "do not geolocate" shadows the /24
		{"198.51.100.1", candidates.KindCountry, "", "CA", "US", us.Lat, us.RadiusKm},
		{"198.51.100.7", candidates.KindCountry, "", "", "FR", 0, 0},
		{"2001:db8:5::1", candidates.KindGeofeed, "London", "ENG", "GB", 51.5074, 0},
		{"2001:db8:1::1", candidates.KindGeofeed, "Tokyo", "", "JP", 35.6895, 0},
		{"203.0.113.1", "", "", "", "", 0, 0},
		{"::ffff:192.0.2.1", candidates.KindGeofeed, "Frankfurt am Main", "HE", "DE", 50.1109, 0},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			ans := lookup(t, g, tt.addr)
			assert.Nil(t, ans.AS)
			if tt.kind == "" {
				assert.Empty(t, ans.Candidates)
				return
			}
			require.Len(t, ans.Candidates, 1)
			c := ans.Candidates[0]
			assert.Equal(t, tt.kind, c.Kind)
			assert.Equal(t, tt.city, c.City)
			assert.Equal(t, tt.region, c.Region)
			assert.Equal(t, tt.country, c.Country)
			assert.Equal(t, "geofeed-example", c.Source)
			if tt.lat != 0 {
				assert.InDelta(t, tt.lat, c.Lat, 1e-9)
			}
			if tt.radius != 0 {
				assert.InDelta(t, tt.radius, c.RadiusKm, 1e-9)
			}
		})
	}
}

func TestGeofeedWithoutResolver(t *testing.T) {
	g, err := candidates.ReadGeofeed(strings.NewReader(testFeed), "x.csv", candidates.GeofeedOptions{Name: "feed", NoPlaces: true})
	require.NoError(t, err)
	ans := lookup(t, g, "192.0.2.1")
	require.Len(t, ans.Candidates, 1)
	assert.Equal(t, candidates.KindCountry, ans.Candidates[0].Kind)
	assert.Equal(t, "DE", ans.Candidates[0].Country)
	assert.Equal(t, "feed", ans.Candidates[0].Source)
}

func TestGeofeedErrors(t *testing.T) {
	// A feed with no good entry is refused, naming its first bad line.
	tests := []struct{ content, want string }{
		{"not-a-prefix,DE,,,\n", `feed.csv:1: bad prefix "not-a-prefix" (1 bad line, no good entry)`},
		{"192.0.2.0/24,DEU,,,\n", `feed.csv:1: bad country "DEU"`},
		{"192.0.2.0/24,\"DE,,,\n", "feed.csv:1: unterminated quoted field"},
		{"# only\nx,DE,,,\ny,DE,,,\n", `feed.csv:2: bad prefix "x" (2 bad lines, no good entry)`},
	}
	for _, tt := range tests {
		_, err := candidates.ReadGeofeed(strings.NewReader(tt.content), "feed.csv", candidates.GeofeedOptions{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), tt.want)
	}
}

// RFC 8805 §3: a consumer ignores a bad entry, not the whole feed. The good
// entries are kept and the bad lines counted, each with FILE:LINE and why.
func TestGeofeedSkipsBadLines(t *testing.T) {
	long := strings.Repeat("9", 200<<10) // past any line buffer
	feed := "192.0.2.0/24,DE,DE-HE,Frankfurt am Main,60311\n" +
		"not-a-prefix,DE,,,\n" +
		"198.51.100.0/24,DEU,,,\n" +
		"# a comment is no bad line\n" +
		"198.51.100.0/25,\"NL,,,\n" +
		long + ",DE,,,\n" +
		"2001:db8::/32,GB,GB-ENG,London,\n"
	g, err := candidates.ReadGeofeed(strings.NewReader(feed), "feed.csv", candidates.GeofeedOptions{Places: fakePlaces})
	require.NoError(t, err)
	assert.Equal(t, 2, g.Len())
	assert.Equal(t, candidates.KindGeofeed, lookup(t, g, "192.0.2.1").Candidates[0].Kind)
	assert.Equal(t, candidates.KindGeofeed, lookup(t, g, "2001:db8::1").Candidates[0].Kind)
	assert.Empty(t, lookup(t, g, "198.51.100.1").Candidates)

	n, skips := g.Skipped()
	assert.Equal(t, 4, n)
	var got []string
	for _, s := range skips {
		got = append(got, s.String())
	}
	assert.Equal(t, []string{
		`feed.csv:2: bad prefix "not-a-prefix"`,
		`feed.csv:3: bad country "DEU"`,
		`feed.csv:5: unterminated quoted field`,
		`feed.csv:6: line too long`,
	}, got)
	assert.Equal(t, `feed.csv: skipped 4 bad lines (first: feed.csv:2: bad prefix "not-a-prefix")`, g.SkipSummary())

	clean, err := candidates.ReadGeofeed(strings.NewReader(testFeed), "feed.csv", candidates.GeofeedOptions{Places: fakePlaces})
	require.NoError(t, err)
	n, skips = clean.Skipped()
	assert.Zero(t, n)
	assert.Empty(t, skips)
	assert.Empty(t, clean.SkipSummary())
}

// A feed of many bad lines keeps a bounded list of them and counts all.
func TestGeofeedSkipsAreBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("192.0.2.0/24,DE,,,\n")
	for range 10000 {
		b.WriteString("bad,DE,,,\n")
	}
	g, err := candidates.ReadGeofeed(strings.NewReader(b.String()), "feed.csv", candidates.GeofeedOptions{})
	require.NoError(t, err)
	n, skips := g.Skipped()
	assert.Equal(t, 10000, n)
	assert.Len(t, skips, candidates.MaxGeofeedSkipsKept)
	assert.Equal(t, `feed.csv:2: bad prefix "bad"`, skips[0].String())
	assert.Equal(t, `feed.csv: skipped 10000 bad lines (first: feed.csv:2: bad prefix "bad")`, g.SkipSummary())
}

func TestOpenSniffsGeofeed(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{writeFile(t, dir, "feed.csv", testFeed), writeGzip(t, dir, "feed.csv.gz", testFeed)} {
		s, err := candidates.OpenWith(p, candidates.OpenOptions{Places: fakePlaces})
		require.NoError(t, err)
		g, ok := s.(*candidates.Geofeed)
		require.True(t, ok, "%T", s)
		assert.Equal(t, 7, g.Len())
		assert.Equal(t, "geofeed-feed", g.Name())
		assert.Equal(t, candidates.KindGeofeed, lookup(t, g, "192.0.2.1").Candidates[0].Kind)
	}
	_, err := candidates.Open(writeGzip(t, dir, "words.csv.gz", "a,b,c\n"))
	assert.ErrorIs(t, err, candidates.ErrUnknownFormat)
}

func TestOpenUnknown(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"text.txt":  "hello world\n",
		"empty.csv": "",
		"words.csv": "a,b,c,d\n",
		// ip-location-db's country CSV is no ASN table.
		"dbip-country-ipv4.csv": "1.0.0.0,1.0.0.255,AU\n",
	} {
		_, err := candidates.Open(writeFile(t, dir, name, content))
		require.Error(t, err, name)
		assert.ErrorIs(t, err, candidates.ErrUnknownFormat)
		assert.Contains(t, err.Error(), name)
	}
	_, err := candidates.Open(dir + "/missing.mmdb")
	require.Error(t, err)
}

func TestGeofeedDefaultPlaces(t *testing.T) {
	feed := "192.0.2.0/24,FR,FR-IDF,Paris,\n198.51.100.0/24,BR,,São Paulo,\n203.0.113.0/24,FR,,Nowheresville Sur Mer,\n"
	g, err := candidates.ReadGeofeed(strings.NewReader(feed), "x.csv", candidates.GeofeedOptions{})
	require.NoError(t, err)
	tests := []struct {
		addr     string
		kind     candidates.Kind
		lat, lon float64
	}{
		{"192.0.2.1", candidates.KindGeofeed, 48.857, 2.352},
		{"198.51.100.1", candidates.KindGeofeed, -23.55, -46.633},
		{"203.0.113.1", candidates.KindCountry, 0, 0},
	}
	for _, tt := range tests {
		ans := lookup(t, g, tt.addr)
		require.Len(t, ans.Candidates, 1, tt.addr)
		c := ans.Candidates[0]
		assert.Equal(t, tt.kind, c.Kind, tt.addr)
		if tt.kind == candidates.KindGeofeed {
			assert.InDelta(t, tt.lat, c.Lat, 0.2, tt.addr)
			assert.InDelta(t, tt.lon, c.Lon, 0.2, tt.addr)
		}
	}
}

func TestRDNSPlacesRefusesOtherCountries(t *testing.T) {
	_, _, ok := candidates.RDNSPlaces("Paris", "", "FR")
	assert.True(t, ok)
	_, _, ok = candidates.RDNSPlaces("Paris", "", "JP")
	assert.False(t, ok, "a Paris in Japan is not the French one")
	_, _, ok = candidates.RDNSPlaces("", "", "FR")
	assert.False(t, ok)
}

// A geofeed whose first line is bad (a header, a typo) is still recognised
// by Open and read for its good entries, the bad line counted (RFC 8805 §3;
// issue 16 item 10).
func TestOpenGeofeedWithBadFirstLine(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"header.csv": "prefix,country,region,city,postal\n" + testFeed,
		"typo.csv":   "# feed\n192.0.2.0/33,DE,,,\n" + testFeed,
		"word.csv":   "x,DE,,,\n" + testFeed,
	} {
		s, err := candidates.OpenWith(writeFile(t, dir, name, content), candidates.OpenOptions{Places: fakePlaces})
		require.NoError(t, err, name)
		g, ok := s.(*candidates.Geofeed)
		require.True(t, ok, "%s: %T", name, s)
		assert.Equal(t, 7, g.Len(), name)
		n, _ := g.Skipped()
		assert.Equal(t, 1, n, name)
	}
	// Lines that are no geofeed entry at all are still no geofeed.
	for name, content := range map[string]string{
		"words.csv": "a,b,c,d\ne,f,g,h\n",
		"prose.txt": "hello world\nhow are you\n",
	} {
		_, err := candidates.Open(writeFile(t, dir, name, content))
		assert.ErrorIs(t, err, candidates.ErrUnknownFormat, name)
	}
}
