package geoloc

import (
	"net/netip"
	"time"

	"github.com/geoloc-dev/geoloc/traceroute"
)

// TraceResult is the engine's answer for one trace: one HopResult per distinct
// responding address per TTL, in TTL order. It is the JSON Lines record of
// `geoloc regeo` (one line per input trace) and what every writer draws.
type TraceResult struct {
	Format      string              `json:"format,omitempty"`
	Source      traceroute.Endpoint `json:"source,omitzero"`
	Destination traceroute.Endpoint `json:"destination,omitzero"`
	Protocol    string              `json:"protocol,omitempty"`
	// Started is when the trace began, as the trace had it (zero when the
	// tool did not say); JSON writes it in RFC 3339.
	Started time.Time   `json:"started,omitzero"`
	Hops    []HopResult `json:"hops"`
	// Countries is the ordered list of countries (ISO 3166-1 alpha-2) the
	// trace crossed, consecutive repeats folded: the hops whose evidence
	// places them in a country with adequate confidence (see Crossed).
	Countries []string `json:"countries"`
	// CountriesUncertain are the hops that may stand in another country
	// but are too uncertain to name one, with the countries they allow.
	CountriesUncertain []UncertainHop `json:"countries_uncertain,omitempty"`
	// Networks are the autonomous systems crossed, in order.
	Networks []Network `json:"networks,omitempty"`
	// Vantage is where the engine took the trace to start (nil when
	// unknown). Additive field, not part of the original record.
	Vantage *Vantage `json:"vantage,omitempty"`
	// Error is the trace-level error the tool reported, passed through
	// (additive field).
	Error string `json:"error,omitempty"`
	// Warnings are the engine's doubts about the trace as a whole (a
	// vantage point the RTTs contradict).
	Warnings []string `json:"warnings,omitempty"`
}

// HopResult is where one responding address of one hop is, who runs it, and
// how sure the engine is.
type HopResult struct {
	TTL   int        `json:"ttl"`
	Addr  netip.Addr `json:"addr"`
	Name  string     `json:"name,omitempty"`
	RTTMs float64    `json:"rtt_ms,omitempty"` // minimum RTT of this address at this hop
	ASN   uint32     `json:"asn,omitempty"`
	ASOrg string     `json:"as_org,omitempty"`
	// Location is nil (JSON null) when nothing can be said; Why says why.
	Location   *Location `json:"location"`
	Why        string    `json:"why,omitempty"`
	Confidence float64   `json:"confidence"` // in [0,1]
	// CountryConfidence is how sure the engine is of the location's
	// country, which may be more than of the place itself (two sources
	// naming two cities of one country); 0 when not computed, and then
	// Confidence stands for it.
	CountryConfidence float64 `json:"country_confidence,omitempty"`
	// Method names the evidence that decided ("rdns:iata", "rdns:operator-site",
	// "geoip:dbip-city-lite-2026-06", "neighbour", ...).
	Method   string     `json:"method,omitempty"`
	Inferred bool       `json:"inferred"` // placed from neighbours, not from own evidence
	Anycast  bool       `json:"anycast"`  // constraints cannot all hold for one place
	Evidence []Evidence `json:"evidence,omitempty"`
}

// Location is a chosen place with its uncertainty.
type Location struct {
	Lat      float64 `json:"lat"` // degrees, WGS84
	Lon      float64 `json:"lon"`
	RadiusKm float64 `json:"radius_km"`
	City     string  `json:"city,omitempty"`
	Region   string  `json:"region,omitempty"`
	Country  string  `json:"country,omitempty"` // ISO 3166-1 alpha-2
}

// Evidence status values.
const (
	StatusChosen   = "chosen"
	StatusAgrees   = "agrees"    // within the chosen location's radius
	StatusRuledOut = "ruled-out" // breaks a hard (physical) bound
	StatusUnlikely = "unlikely"  // possible but scored lower
)

// Evidence is one candidate the engine considered, and what became of it.
type Evidence struct {
	Source  string  `json:"source"`
	Kind    string  `json:"kind"`
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
	City    string  `json:"city,omitempty"`
	Country string  `json:"country,omitempty"`
	Status  string  `json:"status"`
	// Why explains the status with numbers ("needs at least 38.1 ms from
	// Oslo, saw 2.3 ms").
	Why string `json:"why,omitempty"`
}

// Vantage is the point a trace was measured from, as the engine used it.
type Vantage struct {
	Lat  float64 `json:"lat"` // degrees, WGS84
	Lon  float64 `json:"lon"`
	Name string  `json:"name,omitempty"` // "Oslo", "probe 6012", "59.9139,10.7522"
	// RadiusKm is how far from Lat, Lon an inferred vantage point may be
	// (0 when given).
	RadiusKm float64 `json:"radius_km,omitempty"`
	// Inferred is true when the engine solved for the vantage point rather
	// than being told: the hypothesis that best explains the trace's
	// placements. Its bounds are hard, like a given vantage point's, but
	// with its radius added.
	Inferred bool `json:"inferred,omitempty"`
}
