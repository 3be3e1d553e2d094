// Package netemu emulates networks for the live tracer's tests.
//
// A [Network] is a pure description of paths (routers per TTL, per-link
// delays, ECMP alternatives chosen by a per-flow hash, silent and
// rate-limited routers, MPLS label stacks, the destination's behaviour)
// that answers probe datagrams with the datagrams a real network would send
// back, and when. [StartTUN] puts a Network behind a TUN device inside a
// network namespace the test created, so the real tracer, with real
// sockets, traces it. [NewChain] builds the other kind of test network: a
// chain of namespaces joined by veth pairs with forwarding on, for real
// Linux ICMP behaviour.
//
// Everything uses documentation address ranges, and nothing ever leaves a
// namespace the test made.
package netemu

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/tracer/internal/probe"
)

// Router is one router on a path.
type Router struct {
	Addr netip.Addr
	// DelayMs is the one-way delay of the link that reaches this router
	// from the previous hop (or the source), in milliseconds.
	DelayMs float64
	Silent  bool    // never answers
	RatePPS float64 // > 0: answers at most this many probes per second
	MPLS    []probe.Label
	// InitialTTL is the TTL the router's replies start with (default 255).
	InitialTTL uint8
	// Unreachable, when set, makes the router answer every probe that
	// reaches it (whatever its TTL) with destination unreachable Code
	// instead of forwarding it.
	Unreachable bool
	Code        uint8
	// MTU, when set, is the MTU of the link that reaches this router:
	// larger probes get "fragmentation needed" (IPv4, DF set) or "packet
	// too big" (IPv6) from the previous router (or this one at hop 1).
	MTU int
}

// Hop is a TTL's alternatives: one router, or several that per-flow ECMP
// load balancing chooses between.
type Hop []Router

// Path leads from the source to every destination in Dst.
type Path struct {
	Dst  netip.Prefix
	Hops []Hop
	// DestDelayMs is the one-way delay of the last link, to the destination.
	DestDelayMs float64
	DestSilent  bool  // the destination never answers
	TCPOpen     bool  // SYN gets SYN-ACK (else RST)
	DestTTL     uint8 // initial TTL of the destination's replies (default 64)
}

// Network answers probes as its paths would. Methods are safe for
// concurrent use.
type Network struct {
	Paths []Path
	// Forge makes every probe also draw, at once, replies that carry its
	// tag but must be rejected: a time exceeded quoting another flow, one
	// quoting another destination, one that would match but whose ICMP
	// checksum is wrong, and an echo reply or SYN-ACK from a router
	// instead of the destination.
	Forge bool
	// ForgeSource adds, with Forge, a time exceeded that matches the
	// probe in everything but the quoted source address. Raw sockets
	// reject it; ping sockets cannot (their error queue shows no quoted
	// IP header), so tests of ping sockets leave it off.
	ForgeSource bool

	mu      sync.Mutex
	buckets map[netip.Addr]*bucket
	stats   Stats
}

// Stats counts what a Network saw.
type Stats struct {
	Probes   int // datagrams received
	Answered int // replies sent (forged ones excluded)
	Limited  int // answers suppressed by a rate limit
}

type bucket struct {
	tokens float64
	last   time.Time
}

// Reply is a datagram the network sends back after Delay.
type Reply struct {
	Data  []byte
	Delay time.Duration
	// Forged marks replies made by Network.Forge.
	Forged bool
}

// Stats returns counts so far.
func (n *Network) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stats
}

// DelayMsForKm is the one-way delay of light in fibre over km kilometres
// (about 200 km per millisecond), for links between real places.
func DelayMsForKm(km float64) float64 { return km / 200 }

// DelayMsBetween is the fibre delay of the great-circle distance between
// two points given in degrees.
func DelayMsBetween(lat1, lon1, lat2, lon2 float64) float64 {
	return DelayMsForKm(latency.DistanceKm(latency.Point{Lat: lat1, Lon: lon1}, latency.Point{Lat: lat2, Lon: lon2}))
}

// datagram is the parsed part of a probe the network needs.
type datagram struct {
	v6       bool
	ttl      int
	proto    uint8 // transport protocol number (58 for ICMPv6)
	src, dst netip.Addr
	l4       []byte
	raw      []byte
}

func parseDatagram(b []byte) (datagram, bool) {
	var d datagram
	d.raw = b
	switch {
	case len(b) >= 20 && b[0]>>4 == 4:
		ihl := int(b[0]&0xf) * 4
		if ihl < 20 || len(b) < ihl+8 {
			return d, false
		}
		d.ttl, d.proto = int(b[8]), b[9]
		d.src, d.dst = netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
		d.l4 = b[ihl:]
	case len(b) >= 48 && b[0]>>4 == 6:
		d.v6 = true
		d.ttl, d.proto = int(b[7]), b[6]
		d.src, d.dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
		d.l4 = b[40:]
	default:
		return d, false
	}
	return d, true
}

// flowHash is what a per-flow load balancer hashes: addresses, protocol
// and the first four transport bytes (ports, or ICMP type, code and
// checksum), for IPv6 also the flow label, plus the hop so that each hop
// balances independently.
func (d *datagram) flowHash(hop int) uint32 {
	h := fnv.New32a()
	h.Write(d.src.AsSlice())
	h.Write(d.dst.AsSlice())
	h.Write([]byte{d.proto, byte(hop)})
	h.Write(d.l4[:4])
	if d.v6 {
		h.Write([]byte{d.raw[1] & 0x0f, d.raw[2], d.raw[3]})
	}
	return h.Sum32()
}

func (n *Network) path(dst netip.Addr) *Path {
	for i := range n.Paths {
		if n.Paths[i].Dst.Contains(dst) {
			return &n.Paths[i]
		}
	}
	return nil
}

// Answer returns the replies to one probe datagram (IPv4 or IPv6 header
// first) received at now.
func (n *Network) Answer(pkt []byte, now time.Time) []Reply {
	d, ok := parseDatagram(pkt)
	if !ok {
		return nil
	}
	n.mu.Lock()
	n.stats.Probes++
	n.mu.Unlock()
	p := n.path(d.dst)
	if p == nil {
		return nil
	}
	var out []Reply
	if n.Forge {
		out = append(out, n.forge(&d, p)...)
	}
	oneWayMs := 0.0
	for i, hop := range p.Hops {
		if len(hop) == 0 {
			continue
		}
		r := hop[int(d.flowHash(i)%uint32(len(hop)))]
		if r.MTU > 0 && len(d.raw) > r.MTU {
			if rep, ok := n.tooBig(&d, p, i, r.MTU, oneWayMs, now); ok {
				out = append(out, rep)
			}
			return out
		}
		oneWayMs += r.DelayMs
		if r.Unreachable || d.ttl == i+1 {
			if rep, ok := n.routerReply(&d, &r, i, oneWayMs, now); ok {
				out = append(out, rep)
			}
			return out
		}
	}
	if p.DestSilent {
		return out
	}
	oneWayMs += p.DestDelayMs
	ttl := p.DestTTL
	if ttl == 0 {
		ttl = 64
	}
	ttl -= uint8(min(len(p.Hops), int(ttl)-1))
	var b []byte
	switch {
	case d.proto == 1 || d.proto == 58:
		if len(d.l4) < 8 || (d.l4[0] != 8 && d.l4[0] != 128) {
			return out
		}
		b = probe.EchoReply(d.dst, d.src, ttl, d.l4)
	case d.proto == 17:
		code := uint8(3)
		if d.v6 {
			code = 4
		}
		b = probe.ICMPError(d.dst, d.src, ttl, probe.KindUnreachable, code, 0, quote(&d), nil)
	case d.proto == 6:
		if len(d.l4) < 20 || d.l4[13] != 0x02 {
			return out
		}
		b = probe.TCPReply(d.dst, d.src, ttl, d.l4, p.TCPOpen)
	default:
		return out
	}
	n.mu.Lock()
	n.stats.Answered++
	n.mu.Unlock()
	return append(out, Reply{Data: b, Delay: ms(2 * oneWayMs)})
}

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// quote returns the probe as a router received it, TTL 1, for the ICMP
// error.
func quote(d *datagram) []byte {
	q := append([]byte(nil), d.raw...)
	if d.v6 {
		q[7] = 1
		return q
	}
	q[8] = 1
	q[10], q[11] = 0, 0
	ihl := int(q[0]&0xf) * 4
	binary.BigEndian.PutUint16(q[10:], probe.Checksum(netip.Addr{}, netip.Addr{}, 0, q[:ihl]))
	return q
}

func (n *Network) routerReply(d *datagram, r *Router, hop int, oneWayMs float64, now time.Time) (Reply, bool) {
	if r.Silent || !r.Addr.IsValid() || r.Addr.Is4() != d.dst.Is4() {
		return Reply{}, false
	}
	if r.RatePPS > 0 && !n.allow(r.Addr, r.RatePPS, now) {
		return Reply{}, false
	}
	ttl := r.InitialTTL
	if ttl == 0 {
		ttl = 255
	}
	ttl -= uint8(min(hop, int(ttl)-1))
	kind, code := probe.KindTimeExceeded, uint8(0)
	if r.Unreachable {
		kind, code = probe.KindUnreachable, r.Code
	}
	b := probe.ICMPError(r.Addr, d.src, ttl, kind, code, 0, quote(d), r.MPLS)
	n.mu.Lock()
	n.stats.Answered++
	n.mu.Unlock()
	return Reply{Data: b, Delay: ms(2 * oneWayMs)}, true
}

// tooBig answers for the router before hop i (hop i itself when it is the
// first) that cannot forward d over a link of the given MTU.
func (n *Network) tooBig(d *datagram, p *Path, i, mtu int, oneWayMs float64, now time.Time) (Reply, bool) {
	at := i - 1
	if at < 0 {
		at = 0
	}
	hop := p.Hops[at]
	r := hop[int(d.flowHash(at)%uint32(len(hop)))]
	if i == 0 {
		oneWayMs = r.DelayMs
	}
	if r.Silent || !r.Addr.IsValid() {
		return Reply{}, false
	}
	if !d.v6 && d.raw[6]&0x40 == 0 {
		return Reply{}, false // IPv4 without DF: the router would fragment
	}
	kind, code := probe.KindUnreachable, uint8(4)
	if d.v6 {
		kind, code = probe.KindPacketTooBig, 0
	}
	b := probe.ICMPError(r.Addr, d.src, 255-uint8(at), kind, code, mtu, quote(d), nil)
	n.mu.Lock()
	n.stats.Answered++
	n.mu.Unlock()
	return Reply{Data: b, Delay: ms(2 * oneWayMs)}, true
}

// allow is a token bucket per router with a burst of one second's worth.
func (n *Network) allow(a netip.Addr, pps float64, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.buckets == nil {
		n.buckets = map[netip.Addr]*bucket{}
	}
	b := n.buckets[a]
	burst := math.Max(1, pps)
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		n.buckets[a] = b
	}
	b.tokens = math.Min(burst, b.tokens+now.Sub(b.last).Seconds()*pps)
	b.last = now
	if b.tokens < 1 {
		n.stats.Limited++
		return false
	}
	b.tokens--
	return true
}

// Forger addresses: inside the documentation ranges, never on a path.
var (
	forger4 = netip.MustParseAddr("192.0.2.66")
	forger6 = netip.MustParseAddr("2001:db8:66::66")
)

func (n *Network) forge(d *datagram, p *Path) []Reply {
	from := forger4
	if d.v6 {
		from = forger6
	}
	var out []Reply
	add := func(b []byte) { out = append(out, Reply{Data: b, Forged: true}) }
	// A time exceeded quoting the same tag on another flow (ids/ports +1).
	q := quote(d)
	l4off := len(q) - len(d.l4)
	binary.BigEndian.PutUint16(q[l4off+4:], binary.BigEndian.Uint16(q[l4off+4:])+1) // ICMP id
	if d.proto == 6 || d.proto == 17 {
		binary.BigEndian.PutUint16(q[l4off:], binary.BigEndian.Uint16(q[l4off:])+1) // source port
	}
	add(probe.ICMPError(from, d.src, 250, probe.KindTimeExceeded, 0, 0, q, nil))
	// One quoting the probe as if sent to another destination.
	q = quote(d)
	if d.v6 {
		q[39] ^= 0x55
	} else {
		q[19] ^= 0x55
	}
	add(probe.ICMPError(from, d.src, 250, probe.KindUnreachable, 3, 0, q, nil))
	// A perfect time exceeded, but for its checksum.
	b := probe.ICMPError(from, d.src, 250, probe.KindTimeExceeded, 0, 0, quote(d), nil)
	l3 := 20
	if d.v6 {
		l3 = 40
	}
	b[l3+2] ^= 0x5a
	add(b)
	if n.ForgeSource {
		// One quoting the probe as if another host had sent it.
		q = quote(d)
		if d.v6 {
			q[23] ^= 0x55
		} else {
			q[15] ^= 0x55
			q[10], q[11] = 0, 0
			binary.BigEndian.PutUint16(q[10:], probe.Checksum(netip.Addr{}, netip.Addr{}, 0, q[:int(q[0]&0xf)*4]))
		}
		add(probe.ICMPError(from, d.src, 250, probe.KindTimeExceeded, 0, 0, q, nil))
	}
	// The destination's answer, but from someone else.
	switch d.proto {
	case 1, 58:
		add(probe.EchoReply(from, d.src, 64, d.l4))
	case 6:
		if len(d.l4) >= 20 {
			add(probe.TCPReply(from, d.src, 64, d.l4, true))
		}
	}
	_ = p
	return out
}
