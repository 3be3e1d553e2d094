package candidates

import (
	"net/netip"
	"time"

	"github.com/geoloc-dev/geoloc/rdns"
)

// Kind is the kind of evidence a candidate comes from.
type Kind string

// Candidate kinds.
const (
	KindGeoIP   Kind = "geoip"   // a GeoIP database's city-level placement
	KindCountry Kind = "country" // a country-level placement (centroid or default point)
	KindHint    Kind = "hint"    // a location code in the router's name
	KindGeofeed Kind = "geofeed" // an RFC 8805 geofeed entry
	KindLatency Kind = "latency" // a place measurements suggest (the vantage point that hears the address soonest)
)

// Candidate is one possible location of an address, from one source.
type Candidate struct {
	Lat      float64 `json:"lat"` // degrees, WGS84
	Lon      float64 `json:"lon"`
	RadiusKm float64 `json:"radius_km"` // the source's own uncertainty, in km
	City     string  `json:"city,omitempty"`
	Region   string  `json:"region,omitempty"`
	Country  string  `json:"country,omitempty"` // ISO 3166-1 alpha-2
	// Source names the database (with its build date, "dbip-city-lite-2026-06")
	// or the hint dictionary that gave the candidate.
	Source string `json:"source"`
	Kind   Kind   `json:"kind"`
	// Hint is the name hint behind a KindHint candidate.
	Hint *rdns.Hint `json:"hint,omitempty"`
}

// ASInfo says who announces an address.
type ASInfo struct {
	Number uint32       `json:"asn"`
	Org    string       `json:"as_org,omitempty"`
	Prefix netip.Prefix `json:"prefix,omitzero"`
	Source string       `json:"source,omitempty"`
}

// Query is what a Source is asked about: an address, and its PTR name and the
// hints read from that name when known.
type Query struct {
	Addr  netip.Addr
	Name  string
	Hints []rdns.Hint
}

// Answer is what a Source knows about one address. Both parts may be empty.
type Answer struct {
	Candidates []Candidate
	AS         *ASInfo
}

// Source gives candidate locations and AS data for addresses. Lookups are
// local (memory-mapped databases, tables in memory) and safe for concurrent
// use; they never touch the network.
type Source interface {
	// Name identifies the source in evidence ("dbip-city-lite-2026-06").
	Name() string
	// Lookup answers for q. An address the source does not cover gives an
	// empty Answer and no error.
	Lookup(q Query) (Answer, error)
}

// An Appender is a Source that can answer into the caller's memory. The
// engine looks up every hop of millions of traces, and an Answer costs two
// allocations each time (its slice and its ASInfo); it uses AppendLookup
// when a source has it. AppendLookup answers as Lookup does.
type Appender interface {
	Source
	// AppendLookup appends the candidates for q to dst and returns the
	// extended slice, with who announces the address (hasAS false when
	// the source does not say). On error dst comes back as it was.
	AppendLookup(dst []Candidate, q Query) (cands []Candidate, as ASInfo, hasAS bool, err error)
}

// Info describes an opened source for listings (`geoloc db list`).
type Info struct {
	Name    string    `json:"name"`
	Path    string    `json:"path,omitempty"`
	Kind    string    `json:"kind"` // "mmdb-city", "mmdb-asn", "asn-csv", "geofeed", ...
	Built   time.Time `json:"built,omitzero"`
	License string    `json:"license,omitempty"`
}
