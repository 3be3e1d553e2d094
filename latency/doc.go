// Package latency is the physics of round-trip times: the distance an RTT
// allows (light in fibre), discs around vantage points, feasibility of a
// candidate location, intersection of several discs, and the constraints
// between hops of one trace. Pure functions, no I/O.
package latency
