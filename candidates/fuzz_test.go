package candidates_test

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/internal/mmdbtest"
)

var fuzzAddrs = []netip.Addr{
	netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("1.0.0.1"), netip.MustParseAddr("81.2.69.142"),
	netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::ffff:198.51.100.7"), netip.MustParseAddr("0.0.0.0"),
	netip.MustParseAddr("255.255.255.255"), netip.MustParseAddr("::"),
}

func lookupAll(t *testing.T, s candidates.Source) {
	for _, a := range fuzzAddrs {
		ans, err := s.Lookup(candidates.Query{Addr: a})
		if err != nil {
			continue
		}
		for _, c := range ans.Candidates {
			if c.Source == "" || c.Kind == "" || c.RadiusKm <= 0 || c.Lat < -90 || c.Lat > 90 || c.Lon < -180 || c.Lon > 180 {
				t.Fatalf("bad candidate %+v", c)
			}
			if c.Kind == candidates.KindCountry && c.City != "" {
				t.Fatalf("country-level candidate names a city: %+v", c)
			}
		}
		if ans.AS != nil && ans.AS.Prefix.IsValid() && !ans.AS.Prefix.Contains(a.Unmap()) {
			t.Fatalf("AS prefix %s does not hold %s", ans.AS.Prefix, a)
		}
	}
}

// FuzzASNTable feeds range files (CSV and TSV) to the ASN table compiler.
func FuzzASNTable(f *testing.F) {
	for _, s := range []string{ipLocationDBv4, ipLocationDBv6, ipLocationDBNum, iptoasnTSV, ipinfoASNCSV, ipinfoCountryASNCSV,
		"1.0.0.0,1.0.0.255,1,\"a\"\"b\"\n", "0.0.0.0,255.255.255.255,4294967295,x\n", "::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,1,x\n"} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "asn.csv")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		tab, err := candidates.OpenASNTable(p)
		if err != nil {
			return
		}
		lookupAll(t, tab)
	})
}

// FuzzGeofeed feeds RFC 8805 geofeeds to the reader.
func FuzzGeofeed(f *testing.F) {
	f.Add([]byte(testFeed))
	f.Add([]byte("192.0.2.0/24,DE,DE-HE,Frankfurt am Main,60311\n::ffff:192.0.2.0/120,NL,,Amsterdam,\n"))
	f.Add([]byte("2001:db8::1,GB,GB-ENG,London,\n0.0.0.0/0,US,,,\n"))
	f.Add([]byte("192.0.2.0/24,DE,,,\nx,DE,,,\n198.51.100.0/24,DEU,,,\n\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := candidates.ReadGeofeed(bytes.NewReader(data), "fuzz.csv", candidates.GeofeedOptions{Places: fakePlaces})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv:") {
				t.Fatalf("error does not name the input and line: %v", err)
			}
			return
		}
		// Skipped lines are counted, bounded, in order, each FILE:LINE.
		n, skips := g.Skipped()
		lines := bytes.Count(data, []byte("\n")) + 1
		if n < len(skips) || len(skips) > candidates.MaxGeofeedSkipsKept || n > lines || g.Len()+n > lines {
			t.Fatalf("%d skipped, %d kept, %d entries, %d lines", n, len(skips), g.Len(), lines)
		}
		for i, s := range skips {
			if s.File != "fuzz.csv" || s.Line < 1 || s.Line > lines || (i > 0 && s.Line <= skips[i-1].Line) {
				t.Fatalf("skip %d: %+v", i, s)
			}
		}
		if (n > 0) != (g.SkipSummary() != "") {
			t.Fatalf("%d skipped, summary %q", n, g.SkipSummary())
		}
		lookupAll(t, g)
	})
}

// FuzzOpen writes arbitrary bytes to a file and opens it as any kind:
// never a panic, whatever the file holds. Seeds are real and mmdbwriter
// databases, so mutations exercise the MMDB decoder.
func FuzzOpen(f *testing.F) {
	for _, p := range []string{"maxmind/GeoLite2-City-Test.mmdb", "maxmind/GeoLite2-ASN-Test.mmdb",
		"maxmind/GeoIP2-City-Test-Broken-Double-Format.mmdb", "ipinfo/ip_country_asn_sample.mmdb", "ipinfo/ip_geolocation_sample.mmdb"} {
		b, err := os.ReadFile(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, build := range []func() ([]byte, error){
		func() ([]byte, error) { return mmdbtest.BuildCity(testCities) },
		func() ([]byte, error) { return mmdbtest.BuildFlatCity(4, testCities[:4]) },
		func() ([]byte, error) {
			return mmdbtest.BuildIPinfoLite([]mmdbtest.ASNRecord{{Prefix: "192.0.2.0/24", ASN: 1, Org: "x", Country: "DE"}})
		},
	} {
		b, err := build()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(ipLocationDBv4))
	f.Add([]byte(testFeed))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "db.mmdb")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := candidates.Open(p)
		if err != nil {
			return
		}
		defer candidates.CloseSource(s)
		lookupAll(t, s)
	})
}
