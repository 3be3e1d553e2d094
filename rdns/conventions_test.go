package rdns

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const smallConventions = `{
  "format": "geoloc-conventions/1",
  "about": "test",
  "sources": {"lg": "a looking glass"},
  "domains": [
    {"domain": "bb.example.net", "also": ["example.org"], "operator": "Example (AS64500)", "pattern": "^(?P<loc>[a-z]{3,4})-[a-z]+\\d+$", "sources": ["test"]}
  ],
  "entries": [
    {"domain": "bb.example.net", "code": "ipls", "place": {"name": "Indianapolis", "country": "US", "lat": 39.777, "lon": -86.146}, "source": "lg"},
    {"domain": "bb.example.net", "code": "sng", "place": {"name": "Singapore", "country": "SG", "lat": 1.3, "lon": 103.8}, "support": 4, "source": "learned"},
    {"domain": "bb.example.net", "code": "ewr", "source": "lg", "rejected": "two sites"}
  ]
}
`

func TestReadConventions(t *testing.T) {
	c, err := ReadConventions(strings.NewReader(smallConventions), "small.json")
	require.NoError(t, err)
	assert.Equal(t, "small.json", c.Name)
	require.Len(t, c.Domains, 1)
	require.Len(t, c.Entries, 3)
	assert.Equal(t, "Indianapolis", c.Entries[0].Place.Name)
	assert.Equal(t, 4, c.Entries[1].Support)
	assert.Nil(t, c.Entries[2].Place)

	// WriteJSON gives back what was read.
	var buf bytes.Buffer
	require.NoError(t, c.WriteJSON(&buf))
	c2, err := ReadConventions(&buf, "again.json")
	require.NoError(t, err)
	c2.Name = c.Name
	assert.Equal(t, c, c2)
}

func TestReadConventionsErrors(t *testing.T) {
	entry := func(s string) string {
		return strings.Replace(smallConventions, `{"domain": "bb.example.net", "code": "ewr", "source": "lg", "rejected": "two sites"}`, s, 1)
	}
	domain := func(s string) string {
		return strings.Replace(smallConventions, `{"domain": "bb.example.net", "also": ["example.org"], "operator": "Example (AS64500)", "pattern": "^(?P<loc>[a-z]{3,4})-[a-z]+\\d+$", "sources": ["test"]}`, s, 1)
	}
	for _, c := range []struct{ name, in, want string }{
		{"empty", "", "x.json:1: conventions: empty input"},
		{"text", "traceroute to x", "x.json:1: conventions: not a conventions file: want a JSON object"},
		{"cut short", `{"format": "geoloc-conventions/1", "domains": [`, "x.json:1: conventions: unexpected end of input"},
		{"not an object", "[1,2]", "x.json:1: conventions: not a conventions file: want a JSON object"},
		{"no format", `{"domains": []}`, `x.json:1: conventions: not a conventions file: no "format": "geoloc-conventions/1"`},
		{"wrong format", `{"format": "geoloc-conventions/9"}`, `x.json:1: conventions: format "geoloc-conventions/9", want "geoloc-conventions/1"`},
		{"unknown member", `{"format": "geoloc-conventions/1", "operators": []}`, `x.json:1: conventions: unknown member "operators"`},
		{"twice", `{"format": "geoloc-conventions/1", "format": "geoloc-conventions/1"}`, `member "format" given twice`},
		{"trailing", smallConventions + "{}", `x.json:14: conventions: data after the end of the JSON object`},
		{"syntax", strings.Replace(smallConventions, `"lg"},`, `"lg"`, 1), `x.json:9: conventions: bad JSON`},
		{"no place", entry(`{"domain": "bb.example.net", "code": "ewr", "source": "lg"}`), `x.json:11: conventions: entry 3 ("bb.example.net" "ewr"): no place (only a rejected entry may omit it)`},
		{"no source", entry(`{"domain": "bb.example.net", "code": "ewr", "source": " ", "rejected": "x"}`), `x.json:11: conventions: entry 3 ("bb.example.net" "ewr"): no source`},
		{"bad code", entry(`{"domain": "bb.example.net", "code": "E W", "source": "lg", "rejected": "x"}`), `x.json:11: conventions: entry 3 ("bb.example.net" "E W"): code "E W": want lower-case letters, digits and '-'`},
		{"bad domain", entry(`{"domain": "net", "code": "ewr", "source": "lg", "rejected": "x"}`), `domain "net": want a lower-case DNS suffix of two labels or more`},
		{"upper domain", entry(`{"domain": "Example.net", "code": "ewr", "source": "lg", "rejected": "x"}`), `want a lower-case DNS suffix`},
		{"off the earth", entry(`{"domain": "bb.example.net", "code": "x", "place": {"name": "X", "country": "US", "lat": 91, "lon": 0}, "source": "lg"}`), `place: coordinates 91,0 off the Earth`},
		{"bad country", entry(`{"domain": "bb.example.net", "code": "x", "place": {"name": "X", "country": "usa", "lat": 1, "lon": 0}, "source": "lg"}`), `country "usa": want an ISO 3166-1 alpha-2 code`},
		{"negative support", entry(`{"domain": "bb.example.net", "code": "x", "place": {"name": "X", "country": "US", "lat": 1, "lon": 0}, "support": -1, "source": "lg"}`), `support and conflicts must be counts`},
		{"control character", entry(`{"domain": "bb.example.net", "code": "x", "place": {"name": "X\u001b[31m", "country": "US", "lat": 1, "lon": 0}, "source": "lg"}`), `place: control character U+001B in text`},
		{"wrong type", entry(`{"domain": "bb.example.net", "code": 7, "source": "lg"}`), `x.json:11: conventions: code: want string, got number`},
		{"unknown field", entry(`{"domain": "bb.example.net", "code": "x", "city": "X", "source": "lg"}`), `x.json:11: conventions: json: unknown field "city"`},
		{"bad pattern", domain(`{"domain": "bb.example.net", "pattern": "(?P<loc>[a-z]+", "sources": ["t"]}`), `x.json:6: conventions: domain 1 ("bb.example.net"): pattern: error parsing regexp`},
		{"no loc group", domain(`{"domain": "bb.example.net", "pattern": "([a-z]+)", "sources": ["t"]}`), `pattern has no (?P<loc>...) group`},
		{"long pattern", domain(`{"domain": "bb.example.net", "pattern": "(?P<loc>` + strings.Repeat("a", 600) + `)", "sources": ["t"]}`), `pattern longer than 512 bytes`},
		{"huge repeat", domain(`{"domain": "bb.example.net", "pattern": "(?P<loc>((a{1000}){1000}){1000})", "sources": ["t"]}`), `pattern: error parsing regexp`},
		{"bad kind", domain(`{"domain": "bb.example.net", "pattern": "(?P<loc>[a-z]+)", "kinds": ["operator-site"], "sources": ["t"]}`), `kind "operator-site": want one of`},
		{"nothing", domain(`{"domain": "bb.example.net", "sources": ["t"]}`), `neither a pattern nor a default place`},
		{"twice declared", domain(`{"domain": "bb.example.net", "also": ["bb.example.net"], "pattern": "(?P<loc>[a-z]+)"}`), `suffix "bb.example.net" declared twice`},
		{"no pattern anywhere", `{"format": "geoloc-conventions/1", "entries": [{"domain": "a.example", "code": "x", "place": {"name": "X", "country": "US", "lat": 1, "lon": 0}, "source": "s"}]}`,
			`entry 1 ("a.example" "x"): no pattern, and no domain "a.example" with one in this file`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadConventions(strings.NewReader(c.in), "x.json")
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			var ce *ConventionsError
			assert.True(t, errors.As(err, &ce))
			assert.Equal(t, "x.json", ce.Name)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestReadConventionsBounded(t *testing.T) {
	// More than the size limit: refused without reading it all.
	r := &endless{}
	_, err := ReadConventions(r, "big.json")
	require.ErrorContains(t, err, "big.json: conventions: larger than 64 MiB")
	assert.LessOrEqual(t, r.n, maxConventionsBytes+1+64<<10)

	// Too many distinct patterns.
	var b strings.Builder
	b.WriteString(`{"format": "geoloc-conventions/1", "entries": [`)
	for i := 0; i <= maxPatterns; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(`{"domain": "a.example", "pattern": "(?P<loc>[a-z]+)x` + itoa(i) + `", "code": "x", "place": {"name": "X", "country": "US", "lat": 1, "lon": 0}, "source": "s"}`)
	}
	b.WriteString("]}")
	_, err = ReadConventions(strings.NewReader(b.String()), "many.json")
	require.ErrorContains(t, err, "many.json:10001: conventions: entry 10001")
	require.ErrorContains(t, err, "more than 10000 distinct patterns")
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}

// endless is an input that never ends, counting what was read.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	e.n += len(p)
	return len(p), nil
}

func TestEmbeddedConventions(t *testing.T) {
	c := EmbeddedConventions()
	assert.Equal(t, "embedded", c.Name)
	c.Entries[0].Code = "changed"
	assert.NotEqual(t, "changed", EmbeddedConventions().Entries[0].Code, "each call returns a copy")

	// Arelion's published router list is carried, scoped to its domain.
	codes := map[string]string{}
	rejected := map[string]bool{}
	for _, e := range c.Entries {
		if e.Domain != "ip.twelve99.net" {
			continue
		}
		if e.Rejected != "" {
			rejected[e.Code] = true
			continue
		}
		codes[e.Code] = e.Place.Name
	}
	assert.GreaterOrEqual(t, len(codes), 110)
	for code, city := range map[string]string{"tky": "Tokyo", "ipls": "Indianapolis", "omha": "Omaha", "bei": "Berlin", "win": "Vienna",
		"zgb": "Zagreb", "mans": "Manassas", "sfia": "Sofia", "sng": "Singapore", "oso": "Oslo", "bpt": "Budapest", "nug": "Nuremberg"} {
		assert.Equal(t, city, codes[code], code)
	}
	assert.True(t, rejected["ewr"], "a code Arelion uses for two sites is dropped")

	// The embedded file is in the form WriteJSON writes.
	var buf bytes.Buffer
	require.NoError(t, embeddedConventions().WriteJSON(&buf))
	assert.Equal(t, string(conventionsJSON), buf.String(), "conventions.json is not in WriteJSON's form")
}

func TestReaderConventionsOutrankGeneric(t *testing.T) {
	r := NewReader()
	for name, want := range map[string]string{
		"sng-b7-link.ip.twelve99.net":  "Singapore", // not San Ignacio, BO
		"oso-b2-link.ip.twelve99.net":  "Oslo",      // not Osborne Mine, AU
		"bpt-b1-link.ip.twelve99.net":  "Budapest",  // not Beaumont, US
		"nug-b1-link.ip.twelve99.net":  "Nuremberg", // not Nuguria, PG
		"bei-b3-link.ip.twelve99.net":  "Berlin",    // not Beica, ET
		"win-bb1-link.ip.twelve99.net": "Vienna",    // not Winton, AU
		"tky-bb1-link.ip.twelve99.net": "Tokyo",
		"ipls-b2-link.twelve99.net":    "Indianapolis",
		"omha-b1-link.ip.twelve99.net": "Omaha",
		"zgb-b1-link.ip.twelve99.net":  "Zagreb",
		"mans-b1-link.ip.twelve99.net": "Manassas",
		"sfia-b1-link.ip.twelve99.net": "Sofia",
		// A customer interconnect: the router's own name at the end.
		"linode-ic342731-sjo-b21.ip.twelve99-cust.net": "San Jose",
	} {
		hs := r.Hints(name)
		require.NotEmpty(t, hs, name)
		assert.Equal(t, want, hs[0].Place, name)
		assert.Equal(t, KindOperatorSite, hs[0].Kind, name)
		assert.Contains(t, hs[0].Why, "Arelion", name)
	}
	// A customer's name is never read as a site. A site code missing from
	// the table is read as an airport with scheduled service only, less
	// surely; one that is none is left to Codes and Expand.
	assert.Empty(t, r.Hints("sjo-ic-339275.ip.twelve99-cust.net"))
	hs := r.Hints("ewr-bb1-link.ip.twelve99.net") // rejected: two sites
	require.NotEmpty(t, hs)
	assert.Equal(t, KindIATA, hs[0].Kind)
	assert.Equal(t, 0.9, hs[0].Confidence)
	assert.Equal(t, "under the Arelion (Telia Carrier, AS1299) convention, IATA airport code ewr (Newark, US)", hs[0].Why)
	assert.Empty(t, r.Hints("xyz-b1-link.ip.twelve99.net"))
	cl := r.Codes("xyz-b1-link.ip.twelve99.net")
	require.Len(t, cl, 1)
	assert.Equal(t, CodeLabel{Code: "xyz", Label: "xyz-b1-link", Domain: "ip.twelve99.net"}, cl[0])
}

func TestReaderExtraConventions(t *testing.T) {
	c, err := ReadConventions(strings.NewReader(smallConventions), "small.json")
	require.NoError(t, err)
	r := NewReader(c)
	hs := r.Hints("ipls-core1.bb.example.net")
	require.NotEmpty(t, hs)
	assert.Equal(t, "Indianapolis", hs[0].Place)
	assert.Equal(t, 0.95, hs[0].Confidence)
	assert.Equal(t, "Example (AS64500) site code ipls: Indianapolis, US (source: lg)", hs[0].Why)
	// An "also" suffix shares the entries; a learned entry is a little
	// less sure than a published one.
	hs = r.Hints("sng-core2.example.org")
	require.NotEmpty(t, hs)
	assert.Equal(t, "Singapore", hs[0].Place)
	assert.Equal(t, 0.89, hs[0].Confidence)
	assert.Contains(t, hs[0].Why, "learned from 4 observations")
	// Without the file, the generic reading.
	assert.NotEqual(t, "Indianapolis", firstPlace(NewReader().Hints("ipls-core1.bb.example.net")))

	// A later set wins for the same domain and code; a rejected entry
	// withdraws the mapping.
	over := &Conventions{Entries: []Entry{
		{Domain: "bb.example.net", Pattern: c.Domains[0].Pattern, Code: "ipls", Place: &Place{Name: "Somewhere", Country: "US", Lat: 40, Lon: -86}, Source: "test"},
		{Domain: "bb.example.net", Code: "sng", Source: "test", Rejected: "wrong"},
		{Domain: "ip.twelve99.net", Code: "ffm", Source: "test", Rejected: "withdrawn"},
	}}
	r = NewReader(c, over)
	assert.Equal(t, "Somewhere", firstPlace(r.Hints("ipls-core1.bb.example.net")))
	assert.NotEqual(t, "Singapore", firstPlace(r.Hints("sng-core2.bb.example.net")))
	assert.Empty(t, r.Hints("ffm-bb1-link.ip.twelve99.net"))
	// The default reader is unchanged.
	assert.Equal(t, "Frankfurt", firstPlace(Hints("ffm-bb1-link.ip.twelve99.net")))

	// Invalid domains and entries of a hand-built set are skipped.
	bad := &Conventions{
		Domains: []Domain{{Domain: "x", Pattern: "(?P<loc>"}, {Domain: "bad.example", Pattern: "("}},
		Entries: []Entry{{Domain: "bad.example", Pattern: "(", Code: "abc", Place: &Place{Name: "X", Country: "US", Lat: 1, Lon: 1}, Source: "s"},
			{Domain: "bad.example", Code: "abd", Place: &Place{Name: "X", Country: "US", Lat: 100, Lon: 1}, Source: "s"}},
	}
	r = NewReader(bad, nil)
	assert.Empty(t, r.Hints("abc1.bad.example"))
	assert.NotEqual(t, "X", firstPlace(r.Hints("abd1.bad.example")))
}

// An ambiguous learned code gives its place and its alternatives, the
// alternatives less surely, for the engine to choose with latency.
func TestReaderAlternatives(t *testing.T) {
	c := &Conventions{
		Domains: []Domain{{Domain: "example-carrier.net", Pattern: `^(?P<loc>[a-z]+)-bb\d+$`, Sources: []string{"learned"}}},
		Entries: []Entry{{Domain: "example-carrier.net", Code: "hng", Place: &Place{Name: "Hong Kong", Country: "HK", Lat: 22.3, Lon: 114.2},
			Alternatives: []Place{{Name: "Hangzhou", Country: "CN", Lat: 30.25, Lon: 120.17}}, Support: 6, Source: "learned"}},
	}
	var buf bytes.Buffer
	require.NoError(t, c.WriteJSON(&buf))
	text := buf.String()
	back, err := ReadConventions(&buf, "alt.json")
	require.NoError(t, err)
	hs := NewReader(back).Hints("hng-bb2.example-carrier.net")
	require.Len(t, hs, 2)
	assert.Equal(t, "Hong Kong", hs[0].Place)
	assert.Equal(t, 0.7, hs[0].Confidence)
	assert.Equal(t, "Hangzhou", hs[1].Place)
	assert.Equal(t, 0.6, hs[1].Confidence)
	assert.Contains(t, hs[1].Why, "a less likely reading than Hong Kong")

	bad := strings.Replace(text, `"lat":30.25`, `"lat":-95`, 1)
	_, err = ReadConventions(strings.NewReader(bad), "alt.json")
	require.ErrorContains(t, err, "alternative 1: coordinates -95,120.17 off the Earth")
}

func firstPlace(hs []Hint) string {
	if len(hs) == 0 {
		return ""
	}
	return hs[0].Place
}

func TestHintsWhy(t *testing.T) {
	for name, want := range map[string]string{
		"be3.agr21.fra03.atlas.cogentco.com":  "under the Cogent (AS174) convention, IATA airport code fra (Frankfurt am Main, DE)",
		"ae-5.r21.frnkge13.de.bb.gin.ntt.net": "under the NTT Global IP Network (AS2914) convention, CLLI-style code frnkge: frnk abbreviates Frankfurt the CLLI way, ge = DE",
		"core1.wien.example.net":              "place name wien spelled out: Vienna, AT",
		"xe-1.defra1.example.net":             "UN/LOCODE defra (Frankfurt am Main, DE)",
		"ae1.eddf-r1.example.net":             "ICAO airport code eddf (Frankfurt am Main, DE)",
		"as15169-10g-sk1.sthix.net":           "single-site network Stockholm Internet eXchange (SthIX): Stockholm, SE",
		"xe-0-0-0.cr1.lhr1.uk.level3.net":     "under the Lumen / Level 3 (AS3356) convention, IATA airport code lhr (London, GB)",
	} {
		hs := Hints(name)
		require.NotEmpty(t, hs, name)
		assert.Equal(t, want, hs[0].Why, name)
	}
}
