package candidates

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/geoloc-dev/geoloc/latency"
)

// DefaultCityRadiusKm is the radius given to a city-level placement from a
// database that publishes no accuracy radius of its own (DB-IP, IPinfo,
// ip-location-db): about the extent of a large city.
const DefaultCityRadiusKm = 25

// CountryLevelAccuracyKm is the accuracy_radius from which a MaxMind
// placement is taken as country-level: at 500 km and more the point is a
// country or region default, not a city.
const CountryLevelAccuracyKm = 500

// schema is the record layout of an MMDB file.
type schema int

const (
	schemaUnknown schema = iota
	schemaNested         // GeoIP2 City/Country, DB-IP Lite: country.iso_code, location.latitude
	schemaASN            // GeoLite2-ASN, DB-IP ASN Lite: autonomous_system_number
	schemaFlat           // ip-location-db and IPinfo: top-level country_code/city/latitude/asn
)

func (s schema) String() string {
	switch s {
	case schemaNested:
		return "nested"
	case schemaASN:
		return "asn"
	case schemaFlat:
		return "flat"
	}
	return "unknown"
}

// UnknownSchemaError is returned by OpenMMDB for a database whose records
// are in no layout geoloc knows.
type UnknownSchemaError struct {
	Path         string
	DatabaseType string
	Fields       []string // top-level record keys seen in the sampled records, sorted
}

func (e *UnknownSchemaError) Error() string {
	return fmt.Sprintf("%s: unknown MMDB schema (database_type %q), record fields: %s",
		e.Path, e.DatabaseType, strings.Join(e.Fields, ", "))
}

// MMDB is a Source over one MaxMind DB file of any supported schema. It is
// safe for concurrent use.
type MMDB struct {
	db       *maxminddb.Reader
	path     string
	name     string
	schema   schema
	hasGeo   bool
	hasAS    bool
	ipv4Only bool
	// no4 is set for an IPv6 database without IPv4 networks
	// (ip-location-db's "-ipv6" files): IPv4 lookups skip the tree.
	no4 bool
	// v4mapped is set when such a database keeps IPv4 under
	// ::ffff:0:0/96 instead: IPv4 lookups go there.
	v4mapped bool
	info     Info
	// cache is allocated on first lookup (512 KiB).
	cache func() *recordCache
	// tree4 walks the tree for IPv4 addresses (nil when maxminddb opened
	// the file: it walks then); unmap releases OpenMMDB's mapping.
	tree4  *tree4
	unmap  func() error
	closed atomic.Bool
}

// sampleRecords is how many records OpenMMDB decodes to learn the layout.
const sampleRecords = 64

// maxSampleVisits bounds the networks (with or without data) OpenMMDB walks.
const maxSampleVisits = 1 << 14

// OpenMMDB opens a MaxMind DB file and recognises its schema from the
// metadata's database_type and the shape of its first records. The file is
// memory-mapped; Close releases it.
func OpenMMDB(path string) (*MMDB, error) {
	b, unmap, err := mapFile(path)
	var db *maxminddb.Reader
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		// No mapping of our own here: maxminddb maps the file (or reads
		// it), and lookups walk its tree.
		db, err = maxminddb.Open(path)
	case err == nil:
		if db, err = maxminddb.OpenBytes(b); err != nil {
			_ = unmap()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: open MMDB: %w", path, err)
	}
	m, err := newMMDB(db, b, path)
	if err != nil {
		_ = db.Close()
		if unmap != nil {
			_ = unmap()
		}
		return nil, err
	}
	m.unmap = unmap
	return m, nil
}

// OpenMMDBBytes is OpenMMDB over a database image in memory (a decompressed
// .mmdb.gz); name stands for the path in errors and source names.
func OpenMMDBBytes(b []byte, name string) (*MMDB, error) {
	db, err := maxminddb.OpenBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%s: open MMDB: %w", name, err)
	}
	m, err := newMMDB(db, b, name)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return m, nil
}

// newMMDB recognises db's schema; buf is its image when at hand (nil when
// maxminddb opened the file), for IPv4 lookups of its own.
func newMMDB(db *maxminddb.Reader, buf []byte, path string) (m *MMDB, err error) {
	// maxminddb returns errors for bad data; this guards against a decoder
	// bug on a hostile file turning into a crash of the whole program.
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%s: corrupt MMDB: %v", path, r)
		}
	}()
	md := db.Metadata
	if md.IPVersion != 4 && md.IPVersion != 6 {
		return nil, fmt.Errorf("%s: MMDB metadata: ip_version %d", path, md.IPVersion)
	}
	keys := map[string]int{} // key -> kind: 1 map, 2 other
	n, visited := 0, 0
	// Empty networks are yielded too, so that a corrupt tree whose paths
	// all end without data cannot keep the walk going unseen: the walk
	// stops after maxSampleVisits networks of any kind.
	for res := range db.Networks(maxminddb.IncludeNetworksWithoutData()) {
		visited++
		if n >= sampleRecords || visited > maxSampleVisits {
			break
		}
		if err := res.Err(); err != nil {
			return nil, fmt.Errorf("%s: search tree: %w", path, err)
		}
		if !res.Found() {
			continue
		}
		n++
		var rec map[string]any
		if err := res.Decode(&rec); err != nil {
			return nil, fmt.Errorf("%s: record for %s: %w", path, res.Prefix(), err)
		}
		for k, v := range rec {
			if _, ok := v.(map[string]any); ok {
				keys[k] = 1
			} else if keys[k] == 0 {
				keys[k] = 2
			}
		}
	}
	sc, hasGeo, hasAS := classify(md.DatabaseType, keys)
	if sc == schemaUnknown {
		return nil, &UnknownSchemaError{Path: path, DatabaseType: md.DatabaseType, Fields: slices.Sorted(maps.Keys(keys))}
	}
	built := time.Time{}
	if md.BuildEpoch > 0 {
		built = md.BuildTime().UTC()
	}
	m = &MMDB{
		db:       db,
		path:     path,
		name:     sourceName(md.DatabaseType, path, built),
		schema:   sc,
		hasGeo:   hasGeo,
		hasAS:    hasAS,
		ipv4Only: md.IPVersion == 4,
		cache:    sync.OnceValue(func() *recordCache { return new(recordCache) }),
	}
	if buf != nil {
		if m.tree4, err = newTree4(buf, md); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if md.IPVersion == 6 {
		m.no4 = true
		for range db.NetworksWithin(netip.MustParsePrefix("::/96")) {
			m.no4 = false
			break
		}
		if m.no4 {
			for range db.NetworksWithin(netip.MustParsePrefix("::ffff:0:0/96")) {
				m.v4mapped = true
				break
			}
		}
	}
	kind := "mmdb"
	switch {
	case hasGeo && hasAS:
		kind += "-geo+asn"
	case hasAS:
		kind += "-asn"
	case !hasCityKeys(sc, keys, md.DatabaseType):
		kind += "-country"
	default:
		kind += "-city"
	}
	m.info = Info{Name: m.name, Path: path, Kind: kind, Built: built, License: licenseFor(m.name)}
	return m, nil
}

func hasCityKeys(sc schema, keys map[string]int, dbType string) bool {
	switch sc {
	case schemaNested:
		if len(keys) == 0 {
			return !strings.Contains(strings.ToLower(dbType), "country")
		}
		return keys["location"] != 0 || keys["city"] != 0
	case schemaFlat:
		return keys["city"] != 0 || keys["latitude"] != 0 || keys["lat"] != 0
	}
	return false
}

// classify decides the schema from the record keys seen, falling back on the
// database type for an empty database.
func classify(dbType string, keys map[string]int) (sc schema, hasGeo, hasAS bool) {
	t := strings.ToLower(dbType)
	if len(keys) == 0 {
		switch {
		case strings.Contains(t, "asn") && (strings.HasPrefix(t, "geo") || strings.HasPrefix(t, "dbip")):
			return schemaASN, false, true
		case strings.HasPrefix(t, "geoip2") || strings.HasPrefix(t, "geolite2") || strings.HasPrefix(t, "dbip"):
			return schemaNested, true, false
		case strings.HasPrefix(t, "city ipv") || strings.HasPrefix(t, "country ipv"):
			return schemaFlat, true, false
		case strings.HasPrefix(t, "asn ipv"):
			return schemaASN, false, true
		}
		return schemaUnknown, false, false
	}
	nested := keys["country"] == 1 || keys["location"] == 1 || keys["city"] == 1 ||
		keys["registered_country"] == 1 || keys["continent"] == 1 || keys["subdivisions"] != 0
	_, hasMMASN := keys["autonomous_system_number"]
	if nested {
		return schemaNested, true, hasMMASN
	}
	if hasMMASN {
		return schemaASN, false, true
	}
	flatGeo := keys["country_code"] == 2 || keys["country"] == 2 || keys["latitude"] == 2 ||
		keys["lat"] == 2 || keys["city"] == 2
	flatAS := keys["asn"] == 2
	if flatGeo || flatAS {
		return schemaFlat, flatGeo, flatAS
	}
	return schemaUnknown, false, false
}

var (
	dateSuffix = regexp.MustCompile(`[-_](\d{4}-\d{2}(-\d{2})?|\d{8}|\d{6})$`)
	nonAlnum   = regexp.MustCompile(`[^a-z0-9]+`)
)

// sourceName builds "dbip-city-lite-2026-06": the database's name from its
// type (or, for ip-location-db's generic types, the file name without the
// address-family suffix) and the build month.
func sourceName(dbType, path string, built time.Time) string {
	stem := filepath.Base(path)
	for _, ext := range []string{".gz", ".mmdb", ".csv", ".tsv"} {
		stem = strings.TrimSuffix(stem, ext)
	}
	stem = strings.ToLower(stem)
	stem = dateSuffix.ReplaceAllString(stem, "")
	t := strings.ToLower(dbType)
	if i := strings.Index(t, " (compat="); i > 0 {
		t = t[:i]
	}
	var base string
	switch {
	case t == "" || strings.HasPrefix(t, "city ipv") || strings.HasPrefix(t, "country ipv") || strings.HasPrefix(t, "asn ipv"):
		// ip-location-db types name no vendor: the file name does.
		base = stripFamily(stem)
	case strings.HasPrefix(t, "ipinfo"):
		base = "ipinfo-" + strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(t, "ipinfo")), ".mmdb")
		base = strings.ReplaceAll(base, "ipinfo-ipinfo", "ipinfo")
	default:
		base = t
	}
	base = strings.Trim(nonAlnum.ReplaceAllString(base, "-"), "-")
	if base == "" {
		base = "mmdb"
	}
	if !built.IsZero() {
		base += built.Format("-2006-01")
	}
	return base
}

func stripFamily(s string) string {
	for _, suf := range []string{"-ipv4", "-ipv6", "_ipv4", "_ipv6", "-v4", "-v6"} {
		if strings.HasSuffix(s, suf) {
			return strings.TrimSuffix(s, suf)
		}
	}
	return s
}

// licenseFor names the licence of the well-known free databases from the
// source name; "" when unknown.
func licenseFor(name string) string {
	switch {
	case strings.HasPrefix(name, "geolite2") || strings.HasPrefix(name, "geoip2"):
		return "GeoLite2 EULA (MaxMind)"
	case strings.HasPrefix(name, "dbip"):
		return "CC-BY-4.0 (DB-IP.com)"
	case strings.HasPrefix(name, "ipinfo"):
		return "CC-BY-SA-4.0 (IPinfo)"
	case strings.HasPrefix(name, "asn"):
		return "CC-BY-4.0 (RouteViews, DB-IP.com)"
	}
	return ""
}

// Name implements Source.
func (m *MMDB) Name() string { return m.name }

// Info describes the database.
func (m *MMDB) Info() Info { return m.info }

// Metadata returns the database's metadata.
func (m *MMDB) Metadata() maxminddb.Metadata { return m.db.Metadata }

// Close releases the memory map.
func (m *MMDB) Close() error {
	m.closed.Store(true) // lookups after Close fail as maxminddb's do, not on unmapped memory
	err := m.db.Close()
	if m.unmap != nil {
		err = errors.Join(err, m.unmap())
		m.unmap = nil
	}
	return err
}

// decoded is one data record turned into what a lookup returns.
type decoded struct {
	cand    Candidate
	hasCand bool
	asn     uint32
	org     string
	off     uintptr // the record's data offset, once cached
}

// Lookup implements Source.
func (m *MMDB) Lookup(q Query) (Answer, error) {
	cands, as, hasAS, err := m.AppendLookup(nil, q)
	if err != nil {
		return Answer{}, err
	}
	ans := Answer{Candidates: cands}
	if hasAS {
		ans.AS = &as
	}
	return ans, nil
}

// AppendLookup implements Appender.
func (m *MMDB) AppendLookup(dst []Candidate, q Query) ([]Candidate, ASInfo, bool, error) {
	a := q.Addr.Unmap().WithZone("")
	if !a.IsValid() || (m.ipv4Only && !a.Is4()) || (m.no4 && !m.v4mapped && a.Is4()) {
		return dst, ASInfo{}, false, nil
	}
	q4 := a
	if m.v4mapped && a.Is4() {
		q4 = netip.AddrFrom16(a.As16())
	}
	var res maxminddb.Result
	var prefix netip.Prefix
	if m.tree4 != nil && q4.Is4() && !m.closed.Load() {
		var found bool
		var err error
		if res, prefix, found, err = m.tree4.lookupResult(m.db, q4); err != nil {
			return dst, ASInfo{}, false, fmt.Errorf("%s: lookup %s: %w", m.path, a, err)
		} else if !found {
			return dst, ASInfo{}, false, nil
		}
	} else {
		res = m.db.Lookup(q4)
		if err := res.Err(); err != nil {
			return dst, ASInfo{}, false, fmt.Errorf("%s: lookup %s: %w", m.path, a, err)
		}
		if !res.Found() {
			return dst, ASInfo{}, false, nil
		}
		prefix = prefixOf(res.Prefix(), a)
	}
	d, err := m.record(res)
	if err != nil {
		return dst, ASInfo{}, false, fmt.Errorf("%s: lookup %s: %w", m.path, a, err)
	}
	if d.hasCand {
		dst = append(dst, d.cand)
	}
	if d.asn == 0 {
		return dst, ASInfo{}, false, nil
	}
	return dst, ASInfo{Number: d.asn, Org: d.org, Source: m.name, Prefix: prefix}, true, nil
}

func (m *MMDB) record(res maxminddb.Result) (d *decoded, err error) {
	off := res.Offset()
	cache := m.cache()
	if d := cache.get(off); d != nil {
		return d, nil
	}
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, fmt.Errorf("corrupt record: %v", r)
		}
	}()
	d = new(decoded)
	switch m.schema {
	case schemaNested, schemaASN:
		var r nestedRecord
		if err := res.Decode(&r); err != nil {
			return nil, err
		}
		d.asn, d.org = uint32(r.ASN), r.ASOrg
		if m.hasGeo {
			region, regionName := "", ""
			if len(r.Subdivisions) > 0 {
				region, regionName = r.Subdivisions[0].ISO, r.Subdivisions[0].Names.En
			}
			if region == "" {
				region = regionName
			}
			country := r.Country.ISO
			if country == "" {
				// Anycast and satellite ranges carry only the registered country.
				country = r.RegisteredCountry.ISO
			}
			d.cand, d.hasCand = placement(m.name, r.City.Names.En, region, country,
				r.Location.Lat, r.Location.Lon, r.Location.Accuracy.V)
		}
	case schemaFlat:
		var r flatRecord
		if err := res.Decode(&r); err != nil {
			return nil, err
		}
		d.asn = uint32(r.ASN)
		d.org = r.ASName
		if d.org == "" {
			d.org = r.Name
		}
		if m.hasGeo {
			country := strings.ToUpper(r.CountryCode)
			if country == "" && len(r.Country) == 2 {
				country = strings.ToUpper(r.Country)
			}
			region := r.RegionCode
			if region == "" {
				region = r.Region
			}
			if region == "" {
				region = r.State1
			}
			lat, lon := r.Latitude, r.Longitude
			if !lat.OK {
				lat, lon = r.Lat, r.Lng
			}
			d.cand, d.hasCand = placement(m.name, r.City, region, country, lat, lon, 0)
		}
	}
	cache.put(off, d)
	return d, nil
}

// prefixOf spells a database network in a's family; the zero Prefix when
// it cannot (a record that ends above ::/96 has no IPv4 spelling).
func prefixOf(p netip.Prefix, a netip.Addr) netip.Prefix {
	if a.Is4() && p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	if p.IsValid() && p.Contains(a) {
		return p
	}
	return netip.Prefix{}
}

// placement turns one record's location into a candidate, recognising
// placements that are not cities: no city name, a MaxMind accuracy radius
// of CountryLevelAccuracyKm or more, no coordinates, or coordinates on the
// country's centroid or a known default point. Those become KindCountry
// candidates at the country's centroid with a radius that covers it.
func placement(source, city, region, country string, lat, lon optFloat, accuracyKm float64) (Candidate, bool) {
	hasLoc := lat.OK && lon.OK && !(lat.V == 0 && lon.V == 0) &&
		lat.V >= -90 && lat.V <= 90 && lon.V >= -180 && lon.V <= 180
	country = strings.ToUpper(strings.TrimSpace(country))
	countryLevel := city == "" || !hasLoc || accuracyKm >= CountryLevelAccuracyKm ||
		IsDefaultPoint(country, lat.V, lon.V)
	if countryLevel {
		return CountryCandidate(source, country)
	}
	r := accuracyKm
	if r <= 0 {
		r = DefaultCityRadiusKm
	}
	return Candidate{
		Lat: lat.V, Lon: lon.V, RadiusKm: r,
		City: city, Region: region, Country: country,
		Source: source, Kind: KindGeoIP,
	}, true
}

// CountryCandidate is the country-level candidate for an ISO 3166-1 alpha-2
// code: the country's centroid with a radius that covers its main territory
// (see Country). ok is false for a code the embedded table does not know.
func CountryCandidate(source, iso2 string) (Candidate, bool) {
	c, ok := LookupCountry(iso2)
	if !ok {
		return Candidate{}, false
	}
	return Candidate{
		Lat: c.Lat, Lon: c.Lon, RadiusKm: c.RadiusKm,
		Country: c.ISO2, Source: source, Kind: KindCountry,
	}, true
}

// defaultPoints are coordinates that vendors use for "somewhere in this
// country" rather than for a place.
var defaultPoints = [...]struct {
	country  string
	lat, lon float64
}{
	{"US", 37.751, -97.822}, // MaxMind's US default
	{"", 37.751, -97.822},
}

// IsDefaultPoint reports whether lat/lon is a vendor's "somewhere in the
// country" point: a known default (MaxMind's 37.751,-97.822 for the US) or
// within 1 km of the country's centroid in the embedded table.
func IsDefaultPoint(country string, lat, lon float64) bool {
	for _, p := range defaultPoints {
		if (p.country == "" || p.country == country) && abs(p.lat-lat) < 0.001 && abs(p.lon-lon) < 0.001 {
			return true
		}
	}
	if c, ok := LookupCountry(country); ok {
		return latency.DistanceKm(latency.Point{Lat: c.Lat, Lon: c.Lon}, latency.Point{Lat: lat, Lon: lon}) < 1
	}
	return false
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// recordCache keeps decoded records by data offset: databases share one
// record among many networks, so repeated lookups skip decoding. It is
// direct-mapped (a colliding record replaces the old one) so its memory is
// bounded, and lock-free.
// A slot points at the decoded record itself, which carries its offset:
// one memory access fewer per lookup than an entry holding both.
type recordCache struct {
	slots [1 << 16]atomic.Pointer[decoded]
}

func (c *recordCache) slot(off uintptr) *atomic.Pointer[decoded] {
	h := uint64(off) * 0x9E3779B97F4A7C15
	return &c.slots[h>>(64-16)]
}

func (c *recordCache) get(off uintptr) *decoded {
	if d := c.slot(off).Load(); d != nil && d.off == off {
		return d
	}
	return nil
}

// put caches d, decoded from the record at off.
func (c *recordCache) put(off uintptr, d *decoded) {
	d.off = off
	c.slot(off).Store(d)
}
