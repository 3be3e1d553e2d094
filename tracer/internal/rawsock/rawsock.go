// Package rawsock owns the sockets of the live tracer: one set per address
// family, shared by every trace in flight, with kernel receive timestamps.
//
// Privileged mode (root or CAP_NET_RAW) sends IPv4 probes of every protocol
// through one IP_HDRINCL socket and IPv6 probes through raw ICMPv6, UDP and
// TCP sockets with a per-packet hop limit; replies come from raw ICMP and TCP
// sockets (the TCP one behind a BPF filter that passes only SYN-ACK and RST).
//
// Unprivileged mode uses Linux ICMP datagram ("ping") sockets where
// net.ipv4.ping_group_range admits the process's group: ICMP echo probes
// only, one shared echo identifier (the kernel's), time-exceeded and
// unreachable errors read from the socket's error queue (IP_RECVERR), so
// no MPLS extensions and no reply TTL for router answers.
//
// Sockets are created when [Open] runs, in the network namespace of the
// calling OS thread; they stay bound to it. Tests rely on that.
package rawsock

import (
	"errors"
	"time"

	"github.com/geoloc-dev/geoloc/tracer/internal/probe"
)

// ErrPrivilege says what to do when raw sockets are refused.
var ErrPrivilege = errors.New("raw sockets need root or CAP_NET_RAW (grant it to the program with setcap cap_net_raw+ep, or run it as root)")

// Mode selects the kind of sockets Open tries.
type Mode int

// Modes.
const (
	Auto         Mode = iota // raw sockets, else ping sockets
	Privileged               // raw sockets only
	Unprivileged             // ping sockets only
)

// Packet is a received reply, decoded, with its arrival time (the kernel's
// timestamp when available).
type Packet struct {
	Reply probe.Reply
	At    time.Time
}

// Probe is one probe to send.
type Probe struct {
	Flow    probe.Flow
	Tag     uint16
	TTL     int
	Payload int // payload bytes for ICMP and UDP
}
