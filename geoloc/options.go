package geoloc

import (
	"context"
	"log/slog"
	"net/netip"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/rdns"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// DefaultSlackKm is the slack added to every distance bound when
// Options.SlackKm is zero: it absorbs the distance between a city's
// coordinates and the building (or the far side of the metro area) and small
// errors in a vantage point's own position.
const DefaultSlackKm = 25

// DefaultCacheSize is the number of distinct addresses whose candidates the
// engine keeps when Options.CacheSize is zero.
const DefaultCacheSize = 1 << 17

// DefaultCacheBytes bounds the memory of the engine's cache of what it
// knows about each address when Options.CacheBytes is zero: 8 MiB, about
// 5,000–15,000 addresses with names and three databases. Small on purpose:
// the garbage collector scans the cache on every cycle, and under geoloc's
// 100 MiB memory limit a 32 MiB cache cost more CPU in collection than its
// hits saved, even on input whose addresses repeat (scripts/bench-regeo.sh).
const DefaultCacheBytes = 8 << 20

// Resolver looks up the PTR name of an address. *rdns.Resolver implements it.
type Resolver interface {
	// LookupPTR returns the first (sanitised) name of addr, "" if none.
	LookupPTR(ctx context.Context, addr netip.Addr) (string, error)
}

// Options configure an Engine. The zero value is usable: no databases,
// names from the trace only (read with rdns.Hints), vantage points only
// from the traces themselves.
type Options struct {
	// Sources give candidate locations and AS data (GeoIP databases, ASN
	// tables, geofeeds). Each is asked about every
	// distinct public address once (answers are cached).
	Sources []candidates.Source
	// Conventions are naming conventions used beside the embedded ones
	// (files 'geoloc learn' writes, or written by hand), in order: a later
	// set wins for the same domain and code. Router names are read with
	// rdns.NewReader(Conventions...): location hints, and words that look
	// like location codes no dictionary knows, which the engine reads as
	// abbreviations of places inside each hop's feasible region
	// (rdns.Reader.Expand).
	Conventions []*rdns.Conventions
	// Hints, when set, reads location hints from a router name instead of
	// the reader of Conventions; codes no dictionary knows are then not
	// read. The engine turns hints into candidates itself, so KindHint
	// candidates from a Source are used only when Hints gives none.
	Hints func(name string) []rdns.Hint
	// Learn makes Observe (the first pass of fused locating) learn naming
	// conventions from the names it sees and the RTT bounds they come
	// with (rdns.Learner): per operator domain, which label carries the
	// location and what each code means, accepted where every
	// observation's bounds agree. Learned returns them; ObserveAll applies
	// them to every Locate after it.
	Learn bool
	// Reliability, when set, weighs a database's answers by its name
	// (Source.Name(), or the candidate's own Source): 1 is the default
	// weight, 0.5 halves the prior of its candidates, 2 doubles it. Nil,
	// or a result of 0 or less, means 1.
	Reliability func(source string) float64
	// Resolver, when set, looks up PTR names of addresses the trace gives
	// no name for. Nil means no lookups: names come from the trace.
	Resolver Resolver
	// From is the vantage point of traces that carry no source location
	// of their own and that VantageOf does not know (a --from flag).
	From *Vantage
	// VantageOf, when set, is asked for the vantage point of traces without
	// a source location (for example a table of RIPE Atlas probe
	// positions, see package vantage), before From is used.
	VantageOf func(*traceroute.Trace) (Vantage, bool)
	// NoInferVantage stops the engine from guessing a missing vantage point
	// from the trace's first located hops.
	NoInferVantage bool
	// SlackKm is added to every distance bound; zero means DefaultSlackKm,
	// negative means none.
	SlackKm float64
	// CacheSize bounds the number of distinct addresses whose candidates
	// are cached; zero means DefaultCacheSize, negative disables the cache.
	CacheSize int
	// CacheBytes bounds the memory of that cache (its estimate of what the
	// entries hold); zero means DefaultCacheBytes. Whichever of CacheSize
	// and CacheBytes is reached first evicts entries, oldest first. While
	// lookups almost never hit (every address new), the cache keeps only
	// one new address in eight, until hits come back.
	CacheBytes int64
	// MaxConstraintsPerAddr bounds the (vantage point, RTT) constraints
	// Observe keeps per distinct address for fused locating: the tightest
	// ones win. Zero means 4, the most it keeps.
	MaxConstraintsPerAddr int
	// Logger receives debug and warning messages; nil means silent.
	Logger *slog.Logger
}

func (o *Options) slackKm() float64 {
	switch {
	case o.SlackKm == 0:
		return DefaultSlackKm
	case o.SlackKm < 0:
		return 0
	}
	return o.SlackKm
}
