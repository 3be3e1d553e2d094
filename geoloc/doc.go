// Package geoloc is the engine: for every hop of a trace it gathers candidate
// locations (router-name hints, GeoIP databases, geofeeds), discards those
// that break a physical bound (the speed of light in fibre), scores the rest
// and chooses, returning a location with a radius, a confidence and the
// evidence, including what was ruled out and why.
//
// # Use
//
//	e := geoloc.New(geoloc.Options{Sources: dbs})   // zero Options work too
//	r, err := e.Locate(ctx, trace)                  // one trace
//	for r, err := range e.Stream(ctx, traces, 0) {  // many, on every core, in order
//	h, err := e.LocateAddr(ctx, addr, name, rttMs, &geoloc.Vantage{...}) // one address
//
// For fused locating (`geoloc regeo --fuse`), run Observe (or ObserveAll)
// over every trace first, then Locate or Stream them: each address is then
// constrained by every vantage point that saw it.
//
// # Method
//
// Per distinct public address (cached, bounded): the PTR name (from the
// trace, or Options.Resolver), its hints (Options.Hints, rdns.Hints by
// default) turned into candidates, and every Source's candidates and AS
// data. Per trace: the vantage point (the trace's source location,
// Options.VantageOf, Options.From, or inferred from the first located hop
// with a short RTT) gives each hop a hard constraint, rtt/2 × 204.19 km/ms
// plus Options.SlackKm; fused observations add more. Candidates outside any
// hard constraint are ruled out with the numbers ("needs at least 38.1 ms
// from Oslo, saw 2.3 ms"). The rest are scored: a prior by kind (name
// hints by kind of code, geofeeds, city-level database answers,
// country-level answers), plus the support of agreeing candidates from
// independent groups (all hints of a name are one group; each database is
// another, and databases after the first count for half because they copy
// each other), times soft factors: constraints from an inferred vantage
// point, and detours the RTT rise between neighbouring hops cannot pay for
// (weighted by the neighbour's confidence; judged in a second pass over the
// first pass's placements). The best wins; confidence is the strength of its
// support times its margin over the best disagreeing candidate. With no
// surviving candidate, a small feasible region of the constraints is itself
// the location (method "latency"). Private, reserved, CGNAT and
// documentation addresses are never looked up; they may be placed with a
// neighbour of close RTT (method "neighbour", inferred). An address whose
// constraints cannot all hold is flagged anycast. No path outputs a location
// that breaks a hard bound.
//
// internal/accuracy measures all of this on a simulated world against the
// baselines "one database alone" and "names alone".
package geoloc
