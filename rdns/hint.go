package rdns

// HintKind is the kind of location code a hint was read from.
type HintKind string

// Hint kinds, from most to least trusted when ranking ambiguous hints.
const (
	KindIATA         HintKind = "iata"          // IATA airport or metro code (fra, lon)
	KindICAO         HintKind = "icao"          // ICAO airport code (eddf)
	KindCLLI         HintKind = "clli-like"     // CLLI-style city+state/country abbreviation (frnkge, nycmny)
	KindLOCODE       HintKind = "locode"        // UN/LOCODE (defra, usnyc)
	KindPlace        HintKind = "place"         // a place name spelled out (frankfurt, newyork)
	KindOperatorSite HintKind = "operator-site" // an operator's own site code (twelve99 "ffm"), published or learned
	// KindAbbrev is a code read as an abbreviation of a place's name without
	// any dictionary entry for the code ("ipls" = Indianapolis): only ever
	// given for places a caller's feasible region allows ([Reader.Expand]).
	KindAbbrev HintKind = "abbrev"
)

// Hint is one candidate location read from a router name. A name often gives
// several hints; they are ranked, and the engine decides between them with
// latency.
type Hint struct {
	Code    string   `json:"code"` // the code as matched, lower case ("fra", "frnkge")
	Kind    HintKind `json:"kind"`
	Place   string   `json:"place,omitempty"`   // place name ("Frankfurt am Main")
	Region  string   `json:"region,omitempty"`  // first-level region code where known ("HE")
	Country string   `json:"country,omitempty"` // ISO 3166-1 alpha-2, upper case
	Lat     float64  `json:"lat"`               // degrees, WGS84
	Lon     float64  `json:"lon"`
	// Label is the DNS label (or dotted run of labels) the code came from.
	Label string `json:"label,omitempty"`
	// Population of the place, when known; used to rank ambiguous names.
	Population int `json:"population,omitempty"`
	// Confidence in [0,1] that the name means this place.
	Confidence float64 `json:"confidence"`
	// Why says what was matched and why, for a person reading the evidence:
	// "IATA airport code fra (Frankfurt am Main)", "abbreviation of
	// Indianapolis: first letter and consonants".
	Why string `json:"why,omitempty"`
}
