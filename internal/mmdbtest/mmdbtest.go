// Package mmdbtest writes small MaxMind DB files for tests, in the record
// layouts of the databases geoloc reads: MaxMind GeoIP2/GeoLite2 City,
// Country and ASN (nested), DB-IP Lite (GeoIP2-compatible, no accuracy
// radius), IPinfo Lite (flat, country + AS) and ip-location-db's flat city
// schema (country_code, state1, state2, city, postcode, latitude, longitude,
// timezone; one file per address family).
//
// Every writer has two forms: WriteXxx(t, path, records, opts...) fails the
// test on error, BuildXxx(records, opts...) returns the file's bytes (for fuzz
// seeds and benchmarks). Documentation and other reserved ranges are allowed,
// so tests can use 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and
// 2001:db8::/32.
package mmdbtest

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Database types as the real databases set them in their metadata.
const (
	TypeGeoIP2City     = "GeoIP2-City"
	TypeGeoLite2City   = "GeoLite2-City"
	TypeGeoIP2Country  = "GeoIP2-Country"
	TypeGeoLite2ASN    = "GeoLite2-ASN"
	TypeDBIPCityLite   = "DBIP-City-Lite"
	TypeDBIPCountry    = "DBIP-Country-Lite"
	TypeDBIPASNLite    = "DBIP-ASN-Lite (compat=GeoLite2-ASN)"
	TypeIPinfoLite     = "ipinfo ipinfo_lite.mmdb"
	TypeFlatCityIPv4   = "city ipv4" // ip-location-db (sapics/ip-location-to-mmdb)
	TypeFlatCityIPv6   = "city ipv6"
	TypeFlatASNIPv4    = "asn ipv4"
	TypeFlatCountryIP4 = "country ipv4"
)

// DefaultBuild is the build time written when no Built option is given, so
// that source names in tests are stable ("...-2026-06").
func DefaultBuild() time.Time { return time.Date(2026, 6, 5, 12, 0, 0, 0, time.UTC) }

// CityRecord is one network of a city (or country) database.
type CityRecord struct {
	Prefix     string  // "192.0.2.0/24"
	Lat, Lon   float64 // degrees; both zero and NoLocation set = no location
	AccuracyKm uint16  // location.accuracy_radius; 0 = not written
	City       string  // English city name; "" = no city
	Region     string  // subdivision ISO code ("HE") or, for flat schema, state1
	RegionName string  // subdivision English name
	Country    string  // ISO 3166-1 alpha-2
	Continent  string  // continent code ("EU")
	Postal     string
	TimeZone   string
	// NoLocation leaves out the location (lat/lon) entirely.
	NoLocation bool
}

// ASNRecord is one network of an ASN database (or IPinfo Lite).
type ASNRecord struct {
	Prefix  string
	ASN     uint32
	Org     string
	Domain  string // IPinfo as_domain
	Country string // IPinfo Lite country_code
}

// Entry is a raw record for Build, for schemas the helpers do not cover.
type Entry struct {
	Prefix string
	Data   mmdbtype.Map
}

type options struct {
	dbType     string
	built      time.Time
	ipVersion  int
	desc       string
	noAliasing bool
	recordSize int
}

// Option changes the metadata of a written database.
type Option func(*options)

// Type sets metadata.database_type.
func Type(s string) Option { return func(o *options) { o.dbType = s } }

// Built sets metadata.build_epoch.
func Built(t time.Time) Option { return func(o *options) { o.built = t } }

// IPVersion sets metadata.ip_version (4 or 6; default 6).
func IPVersion(v int) Option { return func(o *options) { o.ipVersion = v } }

// RecordSize sets the search tree's record size in bits (24, 28 or 32;
// default 28).
func RecordSize(bits int) Option { return func(o *options) { o.recordSize = bits } }

// DisableAliasing writes an IPv6 tree without mmdbwriter's IPv4 aliases
// (::ffff:0:0/96 and others pointing at ::/96), as ip-location-db does.
func DisableAliasing() Option { return func(o *options) { o.noAliasing = true } }

// Description sets the English description.
func Description(s string) Option { return func(o *options) { o.desc = s } }

func names(en string) mmdbtype.Map {
	return mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(en)}}
}

// geoip2City builds a GeoIP2-City shaped record; withAccuracy false gives
// the DB-IP Lite shape.
func geoip2City(r CityRecord, withAccuracy, withCity bool) mmdbtype.Map {
	m := mmdbtype.Map{}
	if r.Country != "" {
		c := names(r.Country)
		c["iso_code"] = mmdbtype.String(r.Country)
		m["country"] = c
		m["registered_country"] = c
	}
	if r.Continent != "" {
		c := names(r.Continent)
		c["code"] = mmdbtype.String(r.Continent)
		m["continent"] = c
	}
	if !withCity {
		return m
	}
	if r.City != "" {
		m["city"] = names(r.City)
	}
	if r.Region != "" || r.RegionName != "" {
		s := names(r.RegionName)
		if r.Region != "" {
			s["iso_code"] = mmdbtype.String(r.Region)
		}
		m["subdivisions"] = mmdbtype.Slice{s}
	}
	if r.Postal != "" {
		m["postal"] = mmdbtype.Map{"code": mmdbtype.String(r.Postal)}
	}
	if !r.NoLocation {
		loc := mmdbtype.Map{
			"latitude":  mmdbtype.Float64(r.Lat),
			"longitude": mmdbtype.Float64(r.Lon),
		}
		if withAccuracy && r.AccuracyKm > 0 {
			loc["accuracy_radius"] = mmdbtype.Uint16(r.AccuracyKm)
		}
		if r.TimeZone != "" {
			loc["time_zone"] = mmdbtype.String(r.TimeZone)
		}
		m["location"] = loc
	}
	return m
}

func flatCity(r CityRecord) mmdbtype.Map {
	m := mmdbtype.Map{
		"city":         mmdbtype.String(r.City),
		"postcode":     mmdbtype.String(r.Postal),
		"timezone":     mmdbtype.String(r.TimeZone),
		"country_code": mmdbtype.String(r.Country),
		"state1":       mmdbtype.String(r.Region),
		"state2":       mmdbtype.String(""),
	}
	if !r.NoLocation {
		// ip-location-to-mmdb writes coordinates as float32.
		m["latitude"] = mmdbtype.Float32(r.Lat)
		m["longitude"] = mmdbtype.Float32(r.Lon)
	}
	return m
}

func asn(r ASNRecord) mmdbtype.Map {
	return mmdbtype.Map{
		"autonomous_system_number":       mmdbtype.Uint32(r.ASN),
		"autonomous_system_organization": mmdbtype.String(r.Org),
	}
}

func ipinfoLite(r ASNRecord) mmdbtype.Map {
	as := ""
	if r.ASN != 0 {
		as = "AS" + strconv.FormatUint(uint64(r.ASN), 10)
	}
	return mmdbtype.Map{
		"network":        mmdbtype.String(r.Prefix),
		"country":        mmdbtype.String(r.Country),
		"country_code":   mmdbtype.String(r.Country),
		"continent":      mmdbtype.String(""),
		"continent_code": mmdbtype.String(""),
		"asn":            mmdbtype.String(as),
		"as_name":        mmdbtype.String(r.Org),
		"as_domain":      mmdbtype.String(r.Domain),
	}
}

func cityEntries(recs []CityRecord, f func(CityRecord) mmdbtype.Map) []Entry {
	out := make([]Entry, len(recs))
	for i, r := range recs {
		out[i] = Entry{Prefix: r.Prefix, Data: f(r)}
	}
	return out
}

func asnEntries(recs []ASNRecord, f func(ASNRecord) mmdbtype.Map) []Entry {
	out := make([]Entry, len(recs))
	for i, r := range recs {
		out[i] = Entry{Prefix: r.Prefix, Data: f(r)}
	}
	return out
}

// Build writes entries into an MMDB image with the given default type.
func Build(defaultType string, entries []Entry, opts ...Option) ([]byte, error) {
	o := options{dbType: defaultType, built: DefaultBuild(), ipVersion: 6, recordSize: 28}
	for _, f := range opts {
		f(&o)
	}
	if o.desc == "" {
		o.desc = "geoloc test database (" + o.dbType + ")"
	}
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            o.dbType,
		BuildEpoch:              o.built.Unix(),
		Description:             map[string]string{"en": o.desc},
		Languages:               []string{"en"},
		IPVersion:               o.ipVersion,
		RecordSize:              o.recordSize,
		IncludeReservedNetworks: true,
		DisableIPv4Aliasing:     o.noAliasing || o.ipVersion == 4 || o.dbType == TypeFlatCityIPv6,
	})
	if err != nil {
		return nil, fmt.Errorf("mmdbtest: %w", err)
	}
	for _, e := range entries {
		p, err := netip.ParsePrefix(e.Prefix)
		if err != nil {
			return nil, fmt.Errorf("mmdbtest: %w", err)
		}
		p = p.Masked()
		ipnet := &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
		if err := tree.Insert(ipnet, e.Data); err != nil {
			return nil, fmt.Errorf("mmdbtest: insert %s: %w", e.Prefix, err)
		}
	}
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("mmdbtest: write: %w", err)
	}
	return buf.Bytes(), nil
}

func write(t testing.TB, path string, b []byte, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// BuildCity returns a GeoIP2-City schema database (type "GeoIP2-City").
func BuildCity(recs []CityRecord, opts ...Option) ([]byte, error) {
	return Build(TypeGeoIP2City, cityEntries(recs, func(r CityRecord) mmdbtype.Map { return geoip2City(r, true, true) }), opts...)
}

// WriteCity writes a GeoIP2-City schema database to path and returns path.
func WriteCity(t testing.TB, path string, recs []CityRecord, opts ...Option) string {
	t.Helper()
	b, err := BuildCity(recs, opts...)
	return write(t, path, b, err)
}

// BuildCountry returns a GeoIP2-Country schema database.
func BuildCountry(recs []CityRecord, opts ...Option) ([]byte, error) {
	return Build(TypeGeoIP2Country, cityEntries(recs, func(r CityRecord) mmdbtype.Map { return geoip2City(r, false, false) }), opts...)
}

// WriteCountry writes a GeoIP2-Country schema database (country and
// continent only).
func WriteCountry(t testing.TB, path string, recs []CityRecord, opts ...Option) string {
	t.Helper()
	b, err := BuildCountry(recs, opts...)
	return write(t, path, b, err)
}

// BuildDBIPCity returns a DB-IP Lite City database: the GeoIP2 layout
// without accuracy_radius, type "DBIP-City-Lite".
func BuildDBIPCity(recs []CityRecord, opts ...Option) ([]byte, error) {
	return Build(TypeDBIPCityLite, cityEntries(recs, func(r CityRecord) mmdbtype.Map { return geoip2City(r, false, true) }), opts...)
}

// WriteDBIPCity writes a DB-IP Lite City database.
func WriteDBIPCity(t testing.TB, path string, recs []CityRecord, opts ...Option) string {
	t.Helper()
	b, err := BuildDBIPCity(recs, opts...)
	return write(t, path, b, err)
}

// BuildASN returns a GeoLite2-ASN schema database.
func BuildASN(recs []ASNRecord, opts ...Option) ([]byte, error) {
	return Build(TypeGeoLite2ASN, asnEntries(recs, asn), opts...)
}

// WriteASN writes a GeoLite2-ASN schema database (use Type(TypeDBIPASNLite)
// for DB-IP's ASN Lite, which has the same layout).
func WriteASN(t testing.TB, path string, recs []ASNRecord, opts ...Option) string {
	t.Helper()
	b, err := BuildASN(recs, opts...)
	return write(t, path, b, err)
}

// BuildIPinfoLite returns an IPinfo Lite database (flat: country_code,
// country, continent, asn "AS123", as_name, as_domain).
func BuildIPinfoLite(recs []ASNRecord, opts ...Option) ([]byte, error) {
	return Build(TypeIPinfoLite, asnEntries(recs, ipinfoLite), opts...)
}

// WriteIPinfoLite writes an IPinfo Lite database.
func WriteIPinfoLite(t testing.TB, path string, recs []ASNRecord, opts ...Option) string {
	t.Helper()
	b, err := BuildIPinfoLite(recs, opts...)
	return write(t, path, b, err)
}

// BuildFlatCity returns an ip-location-db flat city database for one address
// family (ipVersion 4 or 6), typed "city ipv4"/"city ipv6" as
// ip-location-to-mmdb writes them. Region goes to state1.
func BuildFlatCity(ipVersion int, recs []CityRecord, opts ...Option) ([]byte, error) {
	typ := TypeFlatCityIPv4
	if ipVersion == 6 {
		typ = TypeFlatCityIPv6
	}
	opts = append([]Option{IPVersion(ipVersion)}, opts...)
	return Build(typ, cityEntries(recs, flatCity), opts...)
}

// WriteFlatCity writes an ip-location-db flat city database.
func WriteFlatCity(t testing.TB, path string, ipVersion int, recs []CityRecord, opts ...Option) string {
	t.Helper()
	b, err := BuildFlatCity(ipVersion, recs, opts...)
	return write(t, path, b, err)
}

// WriteRaw writes arbitrary records (for unknown-schema tests).
func WriteRaw(t testing.TB, path, dbType string, entries []Entry, opts ...Option) string {
	t.Helper()
	b, err := Build(dbType, entries, opts...)
	return write(t, path, b, err)
}
