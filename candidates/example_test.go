package candidates_test

import (
	"fmt"
	"log"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/geoloc-dev/geoloc/candidates"
)

func ExampleOpen() {
	// The MaxMind test database; Open recognises any supported kind.
	src, err := candidates.Open("testdata/maxmind/GeoLite2-City-Test.mmdb")
	if err != nil {
		log.Fatal(err)
	}
	defer candidates.CloseSource(src)
	for _, a := range []string{"81.2.69.142", "67.43.156.1"} {
		ans, err := src.Lookup(candidates.Query{Addr: netip.MustParseAddr(a)})
		if err != nil {
			log.Fatal(err)
		}
		c := ans.Candidates[0]
		fmt.Printf("%s: %s %q %s %.4f,%.4f ±%.0f km\n", a, c.Kind, c.City, c.Country, c.Lat, c.Lon, c.RadiusKm)
	}
	// Output:
	// 81.2.69.142: geoip "London" GB 51.5142,-0.0931 ±10 km
	// 67.43.156.1: country "" BT 27.5000,90.5000 ±180 km
}

func ExampleOpenASNTable() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	v4 := filepath.Join(dir, "asn-ipv4.csv")
	v6 := filepath.Join(dir, "asn-ipv6.csv")
	_ = os.WriteFile(v4, []byte("192.0.2.0,192.0.2.255,64500,\"Example Transit, Inc.\"\n"), 0o644)
	_ = os.WriteFile(v6, []byte("2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64501,Example v6\n"), 0o644)
	tab, err := candidates.OpenASNTable(v4, v6)
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range []string{"192.0.2.77", "2001:db8:1::1"} {
		ans, _ := tab.Lookup(candidates.Query{Addr: netip.MustParseAddr(a)})
		fmt.Printf("%s: AS%d %s (%s)\n", a, ans.AS.Number, ans.AS.Org, ans.AS.Prefix)
	}
	// Output:
	// 192.0.2.77: AS64500 Example Transit, Inc. (192.0.2.0/24)
	// 2001:db8:1::1: AS64501 Example v6 (2001:db8::/32)
}

func ExampleReadGeofeed() {
	feed := "# prefix,country,region,city,postal\n" +
		"192.0.2.0/24,DE,DE-HE,Frankfurt am Main,60311\n" +
		"198.51.100.0/24,US,US-CA,,\n"
	places := func(city, region, country string) (float64, float64, bool) {
		if city == "Frankfurt am Main" && country == "DE" {
			return 50.1109, 8.6821, true
		}
		return 0, 0, false
	}
	g, err := candidates.ReadGeofeed(strings.NewReader(feed), "example-geofeed.csv", candidates.GeofeedOptions{Places: places})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range []string{"192.0.2.1", "198.51.100.1"} {
		ans, _ := g.Lookup(candidates.Query{Addr: netip.MustParseAddr(a)})
		c := ans.Candidates[0]
		fmt.Printf("%s: %s %s/%s %q ±%.0f km\n", a, c.Kind, c.Country, c.Region, c.City, c.RadiusKm)
	}
	// Output:
	// 192.0.2.1: geofeed DE/HE "Frankfurt am Main" ±25 km
	// 198.51.100.1: country US/CA "" ±2600 km
}

func ExampleLookupCountry() {
	c, _ := candidates.LookupCountry("de")
	fmt.Printf("%s %s %.0f,%.0f covers %.0f km\n", c.ISO2, c.Name, c.Lat, c.Lon, c.RadiusKm)
	// Output:
	// DE Germany 51,9 covers 489 km
}

func ExampleMMDB_AppendLookup() {
	city, err := candidates.OpenMMDB("testdata/maxmind/GeoLite2-City-Test.mmdb")
	if err != nil {
		log.Fatal(err)
	}
	defer city.Close()
	asn, err := candidates.OpenMMDB("testdata/maxmind/GeoLite2-ASN-Test.mmdb")
	if err != nil {
		log.Fatal(err)
	}
	defer asn.Close()
	// One slice, reused from address to address: no allocation per lookup.
	var buf []candidates.Candidate
	for _, a := range []string{"81.2.69.142", "1.128.0.1"} {
		q := candidates.Query{Addr: netip.MustParseAddr(a)}
		buf = buf[:0]
		for _, db := range []candidates.Appender{city, asn} {
			var as candidates.ASInfo
			var hasAS bool
			buf, as, hasAS, err = db.AppendLookup(buf, q)
			if err != nil {
				log.Fatal(err)
			}
			if hasAS {
				fmt.Printf("%s: AS%d %s (%s)\n", a, as.Number, as.Org, as.Prefix)
			}
		}
		for _, c := range buf {
			fmt.Printf("%s: %q %s\n", a, c.City, c.Country)
		}
	}
	// Output:
	// 81.2.69.142: "London" GB
	// 1.128.0.1: AS1221 Telstra Pty Ltd (1.128.0.0/11)
}
