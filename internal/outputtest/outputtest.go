// Package outputtest builds geoloc.TraceResult fixtures by hand for the
// writers' tests: real cities, real operators' ASNs and naming conventions,
// documentation-range addresses, ECMP, unlocated hops, a path that crosses
// the antimeridian, one that leaves a country and comes back, and hostile
// strings of the kind anyone controlling a reverse zone can publish.
package outputtest

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/traceroute"
)

func f(v float64) *float64 { return &v }

func loc(lat, lon, radiusKm float64, city, cc string) *geoloc.Location {
	return &geoloc.Location{Lat: lat, Lon: lon, RadiusKm: radiusKm, City: city, Country: cc}
}

func hop(ttl int, addr, name string, rtt float64, asn uint32, org string, l *geoloc.Location, conf float64, method string) geoloc.HopResult {
	h := geoloc.HopResult{TTL: ttl, Addr: netip.MustParseAddr(addr), Name: name, RTTMs: rtt, ASN: asn, ASOrg: org, Location: l, Confidence: conf, Method: method}
	if l != nil && method != "" {
		h.Evidence = []geoloc.Evidence{{Source: method, Kind: "hint", Lat: l.Lat, Lon: l.Lon, City: l.City, Country: l.Country, Status: geoloc.StatusChosen}}
	}
	return h
}

// Oslo is where the sample traces start (a RIPE Atlas-like probe with a
// known position).
var Oslo = traceroute.Endpoint{Addr: netip.MustParseAddr("192.0.2.10"), Lat: f(59.9139), Lon: f(10.7522), ProbeID: "6001"}

// Traces returns four traces: Oslo→Frankfurt (Arelion, with ECMP and an
// unlocated hop), Oslo→Stockholm→Oslo (tromboning through Sweden),
// Tokyo→Los Angeles (NTT, crosses the antimeridian) and Sydney→Singapore
// over IPv6.
func Traces() []*geoloc.TraceResult {
	fra := &geoloc.TraceResult{
		Format: "traceroute", Source: Oslo, Protocol: "udp", Started: time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC),
		Destination: traceroute.Endpoint{Addr: netip.MustParseAddr("203.0.113.80"), Name: "www.example.de"},
		Hops: []geoloc.HopResult{
			{TTL: 1, Addr: netip.MustParseAddr("192.168.1.1"), RTTMs: 0.512, Why: "private address", Confidence: 0},
			hop(2, "198.51.100.2", "ti0001c360-ae1.ti.telenor.net", 1.204, 2119, "Telenor Norge AS", loc(59.9139, 10.7522, 25, "Oslo", "NO"), 0.82, "rdns:city"),
			hop(3, "198.51.100.9", "osl-b2-link.ip.twelve99.net", 1.87, 1299, "Arelion Sweden AB", loc(59.9139, 10.7522, 25, "Oslo", "NO"), 0.9, "rdns:operator-site"),
			hop(4, "198.51.100.17", "kbn-bb2-link.ip.twelve99.net", 9.633, 1299, "Arelion Sweden AB", loc(55.6761, 12.5683, 30, "Copenhagen", "DK"), 0.88, "rdns:operator-site"),
			hop(5, "198.51.100.21", "hbg-bb1-link.ip.twelve99.net", 14.2, 1299, "Arelion Sweden AB", loc(53.5511, 9.9937, 30, "Hamburg", "DE"), 0.88, "rdns:operator-site"),
			hop(6, "198.51.100.33", "ffm-bb1-link.ip.twelve99.net", 21.05, 1299, "Arelion Sweden AB", loc(50.1109, 8.6821, 30, "Frankfurt am Main", "DE"), 0.91, "rdns:operator-site"),
			hop(6, "198.51.100.34", "ffm-bb2-link.ip.twelve99.net", 21.4, 1299, "Arelion Sweden AB", loc(50.0379, 8.5622, 30, "Frankfurt am Main", "DE"), 0.85, "rdns:operator-site"),
			{TTL: 7, Addr: netip.MustParseAddr("198.51.100.40"), RTTMs: 22.1, ASN: 1299, ASOrg: "Arelion Sweden AB", Why: "no candidate survived the RTT bounds", Confidence: 0},
			hop(8, "203.0.113.80", "www.example.de", 22.6, 24940, "Hetzner Online GmbH", loc(50.4779, 12.3713, 50, "Falkenstein", "DE"), 0.6, "geoip:dbip-city-lite"),
		},
		Countries: []string{"NO", "DK", "DE"},
	}
	fra.Hops[8].Evidence = append(fra.Hops[8].Evidence,
		geoloc.Evidence{Source: "geoip:geolite2-city", Kind: "geoip", Lat: 51.2993, Lon: 9.491, Country: "DE", Status: geoloc.StatusAgrees},
		geoloc.Evidence{Source: "geoip:ipinfo-lite", Kind: "geoip", Lat: 37.751, Lon: -97.822, Country: "US", Status: geoloc.StatusRuledOut, Why: "needs at least 71.3 ms from Oslo, saw 22.6 ms"})

	sto := &geoloc.TraceResult{
		Format: "mtr-json", Source: Oslo, Protocol: "icmp",
		Destination: traceroute.Endpoint{Addr: netip.MustParseAddr("203.0.113.53"), Name: "ns1.example.no"},
		Hops: []geoloc.HopResult{
			hop(1, "198.51.100.2", "ti0001c360-ae1.ti.telenor.net", 0.9, 2119, "Telenor Norge AS", loc(59.9139, 10.7522, 25, "Oslo", "NO"), 0.82, "rdns:city"),
			hop(2, "198.51.100.65", "sto-cr1.se.telenor.net", 7.8, 2119, "Telenor Norge AS", loc(59.3293, 18.0686, 20, "Stockholm", "SE"), 0.8, "rdns:iata"),
			hop(3, "198.51.100.70", "netnod-ix-ge-a-sth-1500.example.se", 8.1, 8674, "Netnod AB", loc(59.3293, 18.0686, 20, "Stockholm", "SE"), 0.75, "geoip:geolite2-city"),
			hop(4, "203.0.113.53", "ns1.example.no", 14.9, 39832, "Opera Norway AS", loc(59.9139, 10.7522, 25, "Oslo", "NO"), 0.7, "rdns:city"),
		},
		Countries: []string{"NO", "SE", "NO"},
	}

	lax := &geoloc.TraceResult{
		Format: "atlas", Protocol: "icmp", Started: time.Date(2026, 3, 1, 21, 30, 0, 0, time.FixedZone("JST", 9*3600)),
		Source:      traceroute.Endpoint{Addr: netip.MustParseAddr("192.0.2.77"), Lat: f(35.6762), Lon: f(139.6503), ProbeID: "7002"},
		Destination: traceroute.Endpoint{Addr: netip.MustParseAddr("203.0.113.200"), Name: "cdn.example.com"},
		Hops: []geoloc.HopResult{
			hop(1, "198.51.100.129", "ae-2.r01.tokyjp05.jp.bb.gin.ntt.net", 1.1, 2914, "NTT America, Inc.", loc(35.6762, 139.6503, 20, "Tokyo", "JP"), 0.9, "rdns:clli"),
			hop(2, "198.51.100.133", "ae-4.r24.osakjp02.jp.bb.gin.ntt.net", 8.2, 2914, "NTT America, Inc.", loc(34.6937, 135.5023, 20, "Osaka", "JP"), 0.86, "rdns:clli"),
			hop(3, "198.51.100.141", "ae-1.r22.lsanca07.us.bb.gin.ntt.net", 104.5, 2914, "NTT America, Inc.", loc(34.0522, -118.2437, 20, "Los Angeles", "US"), 0.9, "rdns:clli"),
			hop(4, "203.0.113.200", "cdn.example.com", 105.3, 13335, "Cloudflare, Inc.", loc(34.0522, -118.2437, 60, "Los Angeles", "US"), 0.4, "geoip:dbip-city-lite"),
		},
		Countries: []string{"JP", "US"},
	}
	lax.Hops[3].Anycast = true

	sin := &geoloc.TraceResult{
		Format: "scamper", Protocol: "icmp",
		Source:      traceroute.Endpoint{Addr: netip.MustParseAddr("2001:db8:100::1"), Lat: f(-33.8688), Lon: f(151.2093)},
		Destination: traceroute.Endpoint{Addr: netip.MustParseAddr("2001:db8:200::443")},
		Hops: []geoloc.HopResult{
			hop(1, "2001:db8:100::fe", "", 0.4, 7545, "TPG Telecom Limited", loc(-33.8688, 151.2093, 40, "Sydney", "AU"), 0.5, "geoip:geolite2-city"),
			hop(2, "2001:db8:150::1", "be-101.sydp-core04.telstraglobal.net", 1.9, 4637, "Telstra Global", loc(-33.8688, 151.2093, 20, "Sydney", "AU"), 0.8, "rdns:operator-site"),
			{TTL: 3, Addr: netip.MustParseAddr("2001:db8:150::9"), RTTMs: 48.2, ASN: 4637, ASOrg: "Telstra Global", Location: loc(-12.4634, 130.8456, 400, "", "AU"), Confidence: 0.2, Method: "neighbour", Inferred: true},
			hop(4, "2001:db8:160::5", "i-93.sgcn-core01.telstraglobal.net", 92.4, 4637, "Telstra Global", loc(1.3521, 103.8198, 20, "Singapore", "SG"), 0.85, "rdns:operator-site"),
			hop(5, "2001:db8:200::443", "", 93.0, 16509, "Amazon.com, Inc.", loc(1.3521, 103.8198, 50, "Singapore", "SG"), 0.55, "geoip:dbip-city-lite"),
		},
		Countries: []string{"AU", "SG"},
	}
	return []*geoloc.TraceResult{fra, sto, lax, sin}
}

// HostileName is a PTR name nobody should trust: markup, a CDATA end, quotes,
// an ampersand, control characters, a bidi override and non-ASCII.
const HostileName = "<script>alert('x')</script>]]><!--\"&amp;\x00\x1b[31m\u202eevil.\u00fc\u00f1\u00ee\u00e7\u00f8d\u00e9.example\x7f"

// HostileOrg is an organisation string with markup aimed at HTML descriptions.
const HostileOrg = "</description><![CDATA[<img src=x onerror=alert(1)>]]> \"Evil\" & Co. <b>\u65e5\u672c</b>"

// Hostile returns one trace whose every network-controlled string is
// hostile.
func Hostile() []*geoloc.TraceResult {
	return []*geoloc.TraceResult{{
		Format: "traceroute", Protocol: "udp", Source: Oslo,
		Destination: traceroute.Endpoint{Addr: netip.MustParseAddr("203.0.113.66"), Name: HostileName},
		Hops: []geoloc.HopResult{
			{TTL: 1, Addr: netip.MustParseAddr("198.51.100.1"), Name: HostileName, RTTMs: 1.5, ASN: 64496, ASOrg: HostileOrg,
				Location:   &geoloc.Location{Lat: 59.9139, Lon: 10.7522, RadiusKm: 10, City: "<i>Oslo</i>", Region: "\"Oslo\"", Country: "NO"},
				Confidence: 0.5, Method: "rdns:<iata>",
				Evidence: []geoloc.Evidence{{Source: "rdns:<iata>", Kind: "hint", City: "]]>", Status: geoloc.StatusChosen, Why: HostileOrg}}},
			{TTL: 2, Addr: netip.MustParseAddr("198.51.100.2"), Name: HostileName + ".2", ASN: 64497, ASOrg: HostileOrg, Why: "<b>unlocated</b> & \x01"},
			{TTL: 3, Addr: netip.MustParseAddr("203.0.113.66"), Name: HostileName, RTTMs: 9.1, ASN: 64497, ASOrg: HostileOrg,
				Location:   &geoloc.Location{Lat: 55.6761, Lon: 12.5683, RadiusKm: 30, City: "K\u00f8benhavn", Country: "DK"},
				Confidence: 0.7, Method: "geoip:'x'"},
		},
		Countries: []string{"NO", "DK"},
	}}
}

// city is a real city with an operator in it, for Many.
type city struct {
	name     string
	cc       string
	lat, lon float64
	asn      uint32
	org      string
	code     string
}

var cities = []city{
	{"Frankfurt am Main", "DE", 50.1109, 8.6821, 1299, "Arelion Sweden AB", "ffm"},
	{"Amsterdam", "NL", 52.3676, 4.9041, 1200, "Amsterdam Internet Exchange B.V.", "ams"},
	{"London", "GB", 51.5074, -0.1278, 5400, "British Telecommunications PLC", "ldn"},
	{"Paris", "FR", 48.8566, 2.3522, 5511, "Orange S.A.", "par"},
	{"Ashburn", "US", 39.0438, -77.4874, 3356, "Level 3 Parent, LLC", "ash"},
	{"New York", "US", 40.7128, -74.006, 6461, "Zayo Bandwidth", "nyc"},
	{"Chicago", "US", 41.8781, -87.6298, 174, "Cogent Communications", "chi"},
	{"Dallas", "US", 32.7767, -96.797, 7018, "AT&T Services, Inc.", "dal"},
	{"Los Angeles", "US", 34.0522, -118.2437, 2914, "NTT America, Inc.", "lax"},
	{"Sao Paulo", "BR", -23.5505, -46.6333, 16735, "ALGAR TELECOM SA", "gru"},
	{"Johannesburg", "ZA", -26.2041, 28.0473, 37100, "SEACOM Limited", "jnb"},
	{"Mumbai", "IN", 19.076, 72.8777, 9498, "Bharti Airtel Ltd.", "bom"},
	{"Singapore", "SG", 1.3521, 103.8198, 7473, "Singapore Telecommunications Ltd", "sin"},
	{"Hong Kong", "HK", 22.3193, 114.1694, 4637, "Telstra Global", "hkg"},
	{"Tokyo", "JP", 35.6762, 139.6503, 2516, "KDDI CORPORATION", "tyo"},
	{"Sydney", "AU", -33.8688, 151.2093, 7545, "TPG Telecom Limited", "syd"},
	{"Stockholm", "SE", 59.3293, 18.0686, 8674, "Netnod AB", "sto"},
	{"Warsaw", "PL", 52.2297, 21.0122, 5617, "Orange Polska Spolka Akcyjna", "waw"},
	{"Madrid", "ES", 40.4168, -3.7038, 3352, "TELEFONICA DE ESPANA", "mad"},
	{"Milan", "IT", 45.4642, 9.19, 3269, "Telecom Italia S.p.A.", "mil"},
}

// Many returns n deterministic traces from Oslo through Frankfurt or London
// to the cities above in turn, for "a map of every route of a page" tests.
func Many(n int) []*geoloc.TraceResult {
	out := make([]*geoloc.TraceResult, 0, n)
	for i := range n {
		dst := cities[i%len(cities)]
		via := cities[(i/len(cities))%3] // Frankfurt, Amsterdam or London
		tr := &geoloc.TraceResult{
			Format: "atlas", Protocol: "icmp", Source: Oslo,
			Destination: traceroute.Endpoint{Addr: netip.AddrFrom4([4]byte{203, 0, 113, byte(i % 250)}), Name: fmt.Sprintf("s%d.%s.example.net", i, dst.code)},
		}
		tr.Hops = append(tr.Hops,
			hop(1, "198.51.100.2", "ti0001c360-ae1.ti.telenor.net", 1.2, 2119, "Telenor Norge AS", loc(59.9139, 10.7522, 25, "Oslo", "NO"), 0.82, "rdns:city"),
			hop(2, fmt.Sprintf("198.51.100.%d", 10+i%100), via.code+"-bb1-link.ip.twelve99.net", 18+float64(i%7), 1299, "Arelion Sweden AB", loc(via.lat, via.lon, 30, via.name, via.cc), 0.88, "rdns:operator-site"),
		)
		if i%4 == 3 {
			tr.Hops = append(tr.Hops, geoloc.HopResult{TTL: 3, Addr: netip.AddrFrom4([4]byte{198, 51, 100, byte(150 + i%100)}), ASN: dst.asn, ASOrg: dst.org, Why: "no candidate"})
		}
		tr.Hops = append(tr.Hops,
			hop(4, fmt.Sprintf("203.0.113.%d", i%250), tr.Destination.Name, 30+float64(i%11)*9.5, dst.asn, dst.org, loc(dst.lat, dst.lon, 40, dst.name, dst.cc), 0.7, "rdns:iata"),
		)
		tr.Countries = []string{"NO", via.cc}
		if dst.cc != via.cc {
			tr.Countries = append(tr.Countries, dst.cc)
		}
		out = append(out, tr)
	}
	return out
}
