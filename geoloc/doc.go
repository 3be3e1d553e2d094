// Package geoloc is the engine: for every hop of a trace it gathers candidate
// locations (router-name hints, GeoIP databases, geofeeds), discards those
// that break a physical bound (the speed of light in fibre), and chooses the
// placements of the whole path jointly, returning for each hop a location
// with a radius, a confidence and the evidence, including what was ruled out
// and why; and for the trace the countries and networks it crossed.
//
// # Use
//
//	e := geoloc.New(geoloc.Options{Sources: dbs})   // zero Options work too
//	r, err := e.Locate(ctx, trace)                  // one trace
//	for r, err := range e.Stream(ctx, traces, 0) {  // many, on every core, in order
//	h, err := e.LocateAddr(ctx, addr, name, rttMs, &geoloc.Vantage{...}) // one address
//
// For fused locating (`geoloc regeo --fuse`), run ObserveAll (or Observe)
// over every trace first, then Locate or Stream them: each address is then
// constrained by every vantage point that saw it, and traces of one source
// share one vantage point. The first pass does not depend on the order of
// the traces; FirstPassOf, Fused, Votes and LocateFused let another system
// (an Apache Beam pipeline) run it and get the same answers.
//
// # Method
//
// Per distinct public address (cached, bounded): the PTR name (from the
// trace, or Options.Resolver), its hints (the reader of the embedded and
// Options.Conventions naming conventions) turned into candidates, and every
// Source's candidates and AS data.
//
// Per trace, the hops are solved as a path. Every public hop with
// candidates has states (its candidates, the places of neighbours that
// answered within a millisecond, and "elsewhere") scored by their support:
// a prior by kind (name hints by kind of code, geofeeds, city-level
// database answers, country-level answers) plus agreeing independent
// sources (databases after the first count for half, and a database's
// answer an earlier hop of the trace already got, more than 2 ms apart,
// counts for half: head-office placements repeat). Consecutive hops are
// linked by the bound any two hops of one trace obey whatever the vantage
// point, (rtt_a + rtt_b)/2 × 204.19 km plus slack (hard), by a penalty for
// detours the RTT rise cannot pay for, and by a bonus for two hops close in
// time standing in one place. Max-product dynamic programming gives the best
// joint placement; each hop's max-marginals give its confidence and a
// country confidence.
//
// A known vantage point (the trace's source location, Options.VantageOf,
// Options.From) gives each hop a hard disc, rtt/2 × 204.19 km plus
// Options.SlackKm; fused observations add more. Without one, the vantage
// point is a latent variable: hypotheses come from the candidates of the
// fastest hops, the trace's source address and (fused) the place the
// source's other traces vote for; the path is solved under each, the best
// kept and narrowed by the placements it leads to, and its discs (with its
// radius) are hard from then on. The result says where it was inferred
// (Vantage, Inferred, RadiusKm). A given vantage point that the names
// contradict gives a warning.
//
// Words of router names that look like location codes no dictionary knows
// are then read as abbreviations of places inside each hop's feasible
// region (rdns.Reader.Expand) and the path solved again; with Options.Learn
// the first pass learns per-operator conventions (rdns.Learner) that the
// second applies. Candidates outside any hard bound are ruled out with the
// numbers ("needs at least 38.1 ms from Oslo, saw 2.3 ms"). With no
// surviving candidate, a small feasible region of the bounds is itself the
// location (method "latency"). Private, reserved, CGNAT and documentation
// addresses are never looked up; they may be placed with a neighbour of
// close RTT (method "neighbour", inferred). An address whose fused bounds
// cannot all hold is flagged anycast. With three or more vantage points
// around an address, the places its RTTs suggest (the vantage point that
// hears it soonest, the centre of a small region every RTT allows) become
// candidates too (method "latency:shortest-ping", "latency:multilateration").
// A final pass guarantees that no two
// placements break the pairwise bound and no placement a hard bound.
//
// The countries a trace crossed follow one rule (Crossed): a hop names its
// country where its own evidence places it there with a country confidence
// of at least MinCountryConfidence; less certain hops are listed in
// CountriesUncertain with the countries they allow. Every writer uses it.
//
// internal/accuracy measures all of this on a simulated world, including
// whole paths from vantage points the engine is not told, against the
// baselines "one database alone" and "names alone".
package geoloc
