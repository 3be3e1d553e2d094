// Package latency is the physics of round-trip times: the distance an RTT
// allows (light in fibre), discs around vantage points, feasibility of a
// candidate location, intersection of several discs, and the constraints
// between hops of one trace. Pure functions, no I/O.
//
// The bound is one-way: a reply after rttMs milliseconds proves that the
// replying router is at most rttMs/2 × FibreKmPerMs kilometres (great-circle)
// from the vantage point that sent the probe, because the probe travelled
// there and back no faster than light in fibre. Queueing, detours and
// processing only ever make an RTT longer, so the bound is hard: a location
// outside it is impossible, not merely unlikely. A slack in kilometres is
// added to every bound to absorb the uncertainty of the points themselves
// (a city's coordinates stand for its whole metro area).
//
// Distances are great-circle distances on a sphere of radius EarthRadiusKm;
// angles are degrees (WGS84 latitude and longitude). Discs are s2 caps.
package latency
