package kml_test

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	goldenfile "github.com/geoloc-dev/geoloc/internal/golden"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/outputtest"
	"github.com/geoloc-dev/geoloc/kml"
	"github.com/geoloc-dev/geoloc/traceroute"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

func render(t testing.TB, results []*geoloc.TraceResult, opts kml.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, kml.Write(&buf, results, opts))
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name    string
		results []*geoloc.TraceResult
		opts    kml.Options
	}{
		{"traces.kml", outputtest.Traces(), kml.Options{Indent: true}},
		{"circles.kml", outputtest.Traces()[:1], kml.Options{Indent: true, Circles: true, Name: "Oslo to Frankfurt"}},
		{"hostile.kml", outputtest.Hostile(), kml.Options{Indent: true, Circles: true}},
		{"empty.kml", nil, kml.Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := render(t, tt.results, tt.opts)
			wellFormed(t, out)
			golden(t, tt.name, out)
		})
	}
}

// wellFormed decodes the whole document with encoding/xml.
func wellFormed(t testing.TB, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, b)
		}
	}
}

// placemark is the part of a point or line Placemark the tests inspect.
type placemark struct {
	Name        string `xml:"name"`
	Description string `xml:"description"`
	Point       *struct {
		Coordinates string `xml:"coordinates"`
	} `xml:"Point"`
	LineString *struct {
		AltitudeMode string `xml:"altitudeMode"`
		Coordinates  string `xml:"coordinates"`
	} `xml:"LineString"`
}

// kmlDoc is the part of KML the tests inspect.
type kmlDoc struct {
	Document struct {
		Name    string `xml:"name"`
		Folders []struct {
			Name        string      `xml:"name"`
			Description string      `xml:"description"`
			Placemarks  []placemark `xml:"Placemark"`
			Folders     []struct {
				Placemarks []struct {
					Polygon *struct{} `xml:"Polygon"`
				} `xml:"Placemark"`
			} `xml:"Folder"`
		} `xml:"Folder"`
	} `xml:"Document"`
}

func decode(t *testing.T, b []byte) kmlDoc {
	t.Helper()
	var k kmlDoc
	require.NoError(t, xml.Unmarshal(b, &k))
	return k
}

func TestStructure(t *testing.T) {
	traces := outputtest.Traces()
	k := decode(t, render(t, traces, kml.Options{Circles: true}))
	require.Len(t, k.Document.Folders, 4)
	assert.Equal(t, "www.example.de (203.0.113.80): Norway → Denmark → Germany", k.Document.Folders[0].Name, "a folder per trace, named with the countries crossed")
	assert.Equal(t, "2001:db8:200::443: Australia → Singapore", k.Document.Folders[3].Name)

	f := k.Document.Folders[0]
	var points, lines, branches int
	for _, p := range f.Placemarks {
		switch {
		case p.Point != nil:
			points++
		case p.LineString != nil:
			lines++
			assert.Equal(t, "relativeToGround", p.LineString.AltitudeMode, "arcs above the ground")
			if strings.HasPrefix(p.Name, "ECMP") {
				branches++
			}
		}
	}
	// Source + 7 located hops (TTL 1 private and TTL 7 unlocated are not drawn).
	assert.Equal(t, 8, points)
	assert.Equal(t, 2, lines, "main path and one ECMP branch")
	assert.Equal(t, 1, branches)
	assert.Contains(t, f.Description, "192.168.1.1")
	assert.Contains(t, f.Description, "198.51.100.40")
	assert.Contains(t, f.Description, "no candidate survived")
	assert.Contains(t, f.Description, "NO → DK → DE")
	require.Len(t, f.Folders, 1)
	assert.Len(t, f.Folders[0].Placemarks, 7, "one uncertainty circle per located hop")

	// The main path runs as arcs from the source on the ground through
	// TTL 2..6, 8, each hop 4 km higher per TTL: every 16th point is a stop.
	var path string
	for _, p := range f.Placemarks {
		if p.Name == "path" {
			path = p.LineString.Coordinates
		}
	}
	pts := strings.Fields(path)
	require.Len(t, pts, 6*16+1)
	var stops []string
	for k := 0; k < len(pts); k += 16 {
		stops = append(stops, pts[k])
	}
	assert.Equal(t, strings.Fields("10.7522,59.9139 10.7522,59.9139,8000 10.7522,59.9139,12000 12.5683,55.6761,16000 9.9937,53.5511,20000 8.6821,50.1109,24000 12.3713,50.4779,32000"), stops)
	// Between hops far apart the arc rises above both ends.
	mid := strings.Split(pts[3*16-8], ",")
	require.Len(t, mid, 3)
	alt, err := strconv.ParseFloat(mid[2], 64)
	require.NoError(t, err)
	assert.Greater(t, alt, 16000.0, "Oslo → Copenhagen bulges upwards")

	hop := f.Placemarks[1]
	assert.Equal(t, "2 ti0001c360-ae1.ti.telenor.net", hop.Name)
	for _, want := range []string{"198.51.100.2", "AS2119 Telenor Norge AS", "Oslo, Norway", "1.204 ms", "0.82", "rdns:city", "chosen rdns:city"} {
		assert.Contains(t, hop.Description, want)
	}
}

func TestASColourStable(t *testing.T) {
	a := render(t, outputtest.Traces()[:1], kml.Options{})
	b := render(t, outputtest.Traces()[:2], kml.Options{})
	re := regexp.MustCompile(`<Style id="as1299"><IconStyle><color>([0-9a-f]{8})</color>`)
	ma, mb := re.FindSubmatch(a), re.FindSubmatch(b)
	require.NotNil(t, ma)
	require.NotNil(t, mb)
	assert.Equal(t, string(ma[1]), string(mb[1]), "AS1299 has the same colour in every document")
	assert.Contains(t, string(a), "AS1299 Arelion Sweden AB", "legend names the AS")
}

func TestHostile(t *testing.T) {
	out := render(t, outputtest.Hostile(), kml.Options{Circles: true})
	wellFormed(t, out)
	s := string(out)
	// No raw markup from the network survives XML decoding as markup: after
	// one level of XML unescaping, descriptions hold only escaped HTML.
	k := decode(t, out)
	for _, f := range k.Document.Folders {
		for _, d := range append([]string{f.Description}, descs(f.Placemarks)...) {
			assert.NotContains(t, d, "<script")
			assert.NotContains(t, d, "<img")
			assert.NotContains(t, d, "<b>unlocated")
			assert.NotContains(t, d, "</description>")
			assert.NotContains(t, d, "\x00")
			assert.NotContains(t, d, "\x1b")
		}
		assert.NotContains(t, f.Name, "\x00")
	}
	assert.NotContains(t, s, "<script")
	assert.NotContains(t, s, "]]>")
	assert.NotContains(t, s, "\x1b")
	assert.NotContains(t, s, "\u202e")
	assert.Contains(t, s, "evil.\u00fc\u00f1\u00ee\u00e7\u00f8d\u00e9.example", "non-ASCII text is kept")
}

func descs(ps []placemark) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Description, p.Name)
	}
	return out
}

func TestKMZ(t *testing.T) {
	fixed := time.Date(2026, 11, 26, 21, 30, 42, 0, time.UTC)
	tests := []struct {
		name string
		opts kml.Options
		// want is the entry's date; zero means "the time of writing".
		want time.Time
	}{
		{"fixed date", kml.Options{Modified: fixed}, fixed},
		{"fixed date elsewhere", kml.Options{Modified: fixed.In(time.FixedZone("UTC+9", 9*3600)), Circles: true}, fixed},
		{"zero means now", kml.Options{}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().Truncate(2 * time.Second) // DOS dates count in 2 s steps
			var buf bytes.Buffer
			require.NoError(t, kml.WriteKMZ(&buf, outputtest.Traces(), tt.opts))
			zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			require.NoError(t, err)
			require.Len(t, zr.File, 1)
			f := zr.File[0]
			assert.Equal(t, "doc.kml", f.Name)
			assert.Equal(t, zip.Deflate, f.Method)
			if tt.want.IsZero() {
				assert.False(t, f.Modified.Before(before), "entry dated %v, written after %v", f.Modified, before)
			} else {
				assert.True(t, tt.want.Equal(f.Modified), "entry dated %v, want %v", f.Modified, tt.want)
			}
			// The DOS date fields themselves (what unzip -l shows) are set.
			assert.NotZero(t, f.ModifiedDate, "DOS date")
			rc, err := f.Open()
			require.NoError(t, err)
			inner, err := io.ReadAll(rc)
			require.NoError(t, err)
			assert.Equal(t, render(t, outputtest.Traces(), tt.opts), inner)

			if !tt.opts.Modified.IsZero() {
				var again bytes.Buffer
				require.NoError(t, kml.WriteKMZ(&again, outputtest.Traces(), tt.opts))
				assert.Equal(t, buf.Bytes(), again.Bytes(), "a fixed date makes the archive reproducible")
			}
		})
	}
}

func TestXmllint(t *testing.T) {
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (Debian libxml2-utils)")
	}
	for name, rs := range map[string][]*geoloc.TraceResult{"traces": outputtest.Traces(), "hostile": outputtest.Hostile(), "many": outputtest.Many(50)} {
		path := filepath.Join(t.TempDir(), name+".kml")
		require.NoError(t, os.WriteFile(path, render(t, rs, kml.Options{Circles: true}), 0o644))
		out, err := exec.Command(bin, "--noout", "--nonet", path).CombinedOutput()
		assert.NoError(t, err, "%s: %s", name, out)
		assert.Empty(t, string(out))
	}
}

// TestOgrinfo opens the KML and the KMZ with GDAL and counts the features
// it sees per folder (layer).
func TestOgrinfo(t *testing.T) {
	bin, err := exec.LookPath("ogrinfo")
	if err != nil {
		t.Skip("ogrinfo not installed (Debian gdal-bin)")
	}
	dir := t.TempDir()
	kmlPath := filepath.Join(dir, "traces.kml")
	require.NoError(t, os.WriteFile(kmlPath, render(t, outputtest.Traces(), kml.Options{}), 0o644))
	var kmz bytes.Buffer
	require.NoError(t, kml.WriteKMZ(&kmz, outputtest.Traces(), kml.Options{}))
	kmzPath := filepath.Join(dir, "traces.kmz")
	require.NoError(t, os.WriteFile(kmzPath, kmz.Bytes(), 0o644))

	// Per trace (a folder named with the countries crossed): source +
	// located hops + lines. GDAL makes a layer of each nested folder too:
	// the radii of the two traces with uncertain hops.
	want := map[string]int{
		"www.example.de (203.0.113.80): Norway → Denmark → Germany": 1 + 7 + 2,
		"ns1.example.no (203.0.113.53): Norway → Sweden → Norway":   1 + 4 + 1,
		"cdn.example.com (203.0.113.200): Japan → United States":    1 + 4 + 1,
		"2001:db8:200::443: Australia → Singapore":                  1 + 5 + 1,
		"uncertainty":      1,
		"uncertainty (#2)": 1,
	}
	for _, path := range []string{kmlPath, kmzPath} {
		t.Run(filepath.Ext(path), func(t *testing.T) {
			out, err := exec.Command(bin, "-ro", "-al", "-so", path).CombinedOutput()
			if filepath.Ext(path) == ".kmz" && err != nil && strings.Contains(string(out), "nable to open") {
				t.Skip("this GDAL build has no LIBKML driver for KMZ")
			}
			require.NoError(t, err, "%s", out)
			got := layerCounts(string(out))
			assert.Equal(t, want, got, "%s", out)
		})
	}
}

// layerCounts parses `ogrinfo -al -so` output into layer name → feature count.
func layerCounts(out string) map[string]int {
	got := map[string]int{}
	var layer string
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if name, ok := strings.CutPrefix(line, "Layer name: "); ok {
			layer = name
		}
		if n, ok := strings.CutPrefix(line, "Feature Count: "); ok {
			c, _ := strconv.Atoi(n)
			got[layer] = c
		}
	}
	return got
}

func FuzzKML(f *testing.F) {
	f.Add(outputtest.HostileName, outputtest.HostileOrg, "Oslo", "rdns:iata")
	f.Add("a.example", "Org", "", "")
	f.Add("\xff\xfe<", "]]>", "&#0;", "\u2028")
	f.Fuzz(func(t *testing.T, name, org, city, method string) {
		rs := outputtest.Hostile()
		rs[0].Destination.Name = name
		for i := range rs[0].Hops {
			h := &rs[0].Hops[i]
			h.Name, h.ASOrg, h.Method, h.Why = name, org, method, city
			if h.Location != nil {
				h.Location.City, h.Location.Region, h.Location.Country = city, org, name
			}
		}
		rs[0].Countries = []string{name, city}
		var buf bytes.Buffer
		require.NoError(t, kml.Write(&buf, rs, kml.Options{Circles: true}))
		wellFormed(t, buf.Bytes())
		k := decode(t, buf.Bytes())
		require.Len(t, k.Document.Folders, 1)
		for _, p := range k.Document.Folders[0].Placemarks {
			// Decoded once, a description must still hold no raw tag
			// that came from the network.
			assert.NotContains(t, p.Description, "<script")
			if strings.Contains(name+org+city+method, "<") {
				assert.NotRegexp(t, `<[^/tr]`, strings.NewReplacer("<table>", "", "<tr>", "", "<th>", "", "<td>", "").Replace(p.Description))
			}
		}
	})
}

func BenchmarkWrite(b *testing.B) {
	rs := outputtest.Many(100)
	var buf bytes.Buffer
	if err := kml.Write(&buf, rs, kml.Options{Circles: true}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := kml.Write(io.Discard, rs, kml.Options{Circles: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSchema validates the output against the OGC KML 2.2 schema (the copy
// in the go-kml module), with local stand-ins for the two schemas it
// imports from elsewhere (Atom author/link and xAL, one of them from the
// network), so xmllint works offline.
func TestSchema(t *testing.T) {
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (Debian libxml2-utils)")
	}
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/twpayne/go-kml/v3").Output()
	if err != nil || len(bytes.TrimSpace(dir)) == 0 {
		t.Skip("go-kml module directory not found (go list -m failed)")
	}
	xsd, err := os.ReadFile(filepath.Join(string(bytes.TrimSpace(dir)), "xsd", "ogckml22.xsd"))
	require.NoError(t, err)
	tmp := t.TempDir()
	xsd = bytes.ReplaceAll(xsd, []byte("http://docs.oasis-open.org/election/external/xAL.xsd"), []byte("xAL.xsd"))
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "ogckml22.xsd"), xsd, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "atom-author-link.xsd"), []byte(`<?xml version="1.0" encoding="UTF-8"?>
<schema xmlns="http://www.w3.org/2001/XMLSchema" targetNamespace="http://www.w3.org/2005/Atom" elementFormDefault="qualified">
  <element name="author"><complexType><sequence><any minOccurs="0" maxOccurs="unbounded" processContents="skip"/></sequence></complexType></element>
  <element name="link"><complexType><anyAttribute processContents="skip"/></complexType></element>
</schema>
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "xAL.xsd"), []byte(`<?xml version="1.0" encoding="UTF-8"?>
<schema xmlns="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:oasis:names:tc:ciq:xsdschema:xAL:2.0" elementFormDefault="qualified">
  <element name="AddressDetails"><complexType><sequence><any minOccurs="0" maxOccurs="unbounded" processContents="skip"/></sequence><anyAttribute processContents="skip"/></complexType></element>
</schema>
`), 0o644))
	for name, rs := range map[string][]*geoloc.TraceResult{"traces": outputtest.Traces(), "hostile": outputtest.Hostile(), "many": outputtest.Many(20), "none": nil} {
		t.Run(name, func(t *testing.T) {
			for suffix, doc := range map[string][]byte{"": render(t, rs, kml.Options{Circles: true}), "-aggregate": renderAggregate(t, rs, kml.Options{})} {
				path := filepath.Join(tmp, name+suffix+".kml")
				require.NoError(t, os.WriteFile(path, doc, 0o644))
				out, err := exec.Command(bin, "--noout", "--nonet", "--schema", filepath.Join(tmp, "ogckml22.xsd"), path).CombinedOutput()
				assert.NoError(t, err, "%s", out)
				assert.Contains(t, string(out), "validates")
			}
		})
	}
}

// TestStartAndUncertain: the start at an inferred vantage point is drawn
// and named as inferred; an uncertain hop uses its AS's faint style and
// its radius is drawn without --circles; the folder names the countries.
func TestStartAndUncertain(t *testing.T) {
	loc := func(lat, lon float64, city, cc string) *geoloc.Location {
		return &geoloc.Location{Lat: lat, Lon: lon, RadiusKm: 40, City: city, Country: cc}
	}
	tr := &geoloc.TraceResult{
		Destination: traceroute.Endpoint{Addr: netip.MustParseAddr("203.0.113.9")},
		Vantage:     &geoloc.Vantage{Lat: 59.91, Lon: 10.75, Name: "inferred vantage near Oslo, NO", Inferred: true},
		Hops: []geoloc.HopResult{
			{TTL: 1, Addr: netip.MustParseAddr("198.51.100.1"), ASN: 64500, Location: loc(59.91, 10.75, "Oslo", "NO"), Confidence: 0.9},
			{TTL: 2, Addr: netip.MustParseAddr("198.51.100.2"), ASN: 64500, Location: loc(55.68, 12.57, "Copenhagen", "DK"), Confidence: 0.3},
		},
		Countries:          []string{"NO"},
		CountriesUncertain: []geoloc.UncertainHop{{TTL: 2, Addr: netip.MustParseAddr("198.51.100.2"), Countries: []string{"DK", "SE"}}},
	}
	b := render(t, []*geoloc.TraceResult{tr}, kml.Options{})
	s := string(b)
	k := decode(t, b)
	require.Len(t, k.Document.Folders, 1)
	f := k.Document.Folders[0]
	assert.Equal(t, "203.0.113.9: Norway", f.Name)
	assert.Contains(t, f.Description, "TTL 2 198.51.100.2: Denmark or Sweden")
	require.NotEmpty(t, f.Placemarks)
	assert.Equal(t, "start (inferred, near Oslo, NO)", f.Placemarks[0].Name)
	assert.Contains(t, s, "<styleUrl>#start-inferred</styleUrl>")
	assert.Contains(t, s, "<styleUrl>#as64500-uncertain</styleUrl>")
	require.Len(t, f.Folders, 1, "the uncertain hop's radius, without --circles")
	assert.Len(t, f.Folders[0].Placemarks, 1)
}
