// Package tracer runs live traceroutes: ICMP echo, UDP or TCP SYN probes
// over IPv4 and IPv6 through raw sockets (or Linux ICMP ping sockets when
// raw sockets are refused), Paris-style constant flows, several flows to
// enumerate load-balanced branches, MPLS labels from ICMP extensions and
// kernel receive timestamps. It produces traceroute.Trace values, the same
// model the saved-output parsers of package traceroute produce, so
// everything downstream works on both.
//
// Packet building and parsing, the sockets and the scheduling engine live
// beneath it in internal packages; so do the network emulator and the
// namespace helpers its tests trace through. Importing package traceroute
// (or the engine in package geoloc) does not link any of this.
//
// Probing needs root or CAP_NET_RAW (or, ICMP only, ping sockets); see
// [ErrPrivilege].
package tracer
