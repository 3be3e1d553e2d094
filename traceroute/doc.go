// Package traceroute holds geoloc's trace data model, the interchange JSON
// Lines codec and parsers for the saved output of every common traceroute
// tool. It opens no sockets: the live tracer is package tracer, which
// produces the same [Trace] values.
//
// A [Trace] goes from a source to a destination; each [Hop] (one TTL) carries
// either single [Probe] replies, as traceroute prints them, or per-address
// [Stats] aggregates, as mtr prints them. Saved and live traces are the same
// value, so everything downstream (hints, candidates, the engine, the
// writers) works on both. The package knows nothing of geography or DNS.
//
// [Read] detects the format of an input and streams its traces with memory
// bounded by one trace; [Encoder] writes the interchange format, one trace a
// line, which [Read] reads back losslessly.
package traceroute
