// Package probe builds traceroute probes and decodes the replies they cause.
//
// It is pure packet code: no sockets, no clocks. A probe is a [Flow] (the
// header fields that stay constant for every probe of a path, so per-flow
// load balancers keep one path, as in Paris traceroute) plus a 16-bit tag
// that names the probe and travels in a header field routers quote back but
// load balancers do not hash:
//
//   - ICMP echo: the sequence number carries the tag; two payload bytes
//     compensate so that the ICMP checksum (hashed by some routers, since it
//     sits where ports would) stays the flow's constant.
//   - UDP: ports are constant; the UDP checksum is the tag, reached by
//     adjusting two payload bytes.
//   - TCP SYN: ports are constant; the high 16 bits of the sequence number
//     are the tag (a SYN-ACK or RST acknowledges seq+1).
//
// [ParseIPv4], [ParseIPv6Packet] and [ParseICMPv6] decode replies back into
// a [Reply] that names the probe (flow fields and tag) it answers, the
// ICMP annotation, the MTU and the RFC 4950 MPLS label stack.
package probe

import (
	"encoding/binary"
	"net/netip"
)

// Proto is an IP protocol number of a probe.
type Proto uint8

// Probe protocols. ICMP means ICMP echo for IPv4 and ICMPv6 echo for IPv6.
const (
	ICMP Proto = 1
	TCP  Proto = 6
	UDP  Proto = 17
)

// IP protocol number of ICMPv6.
const protoICMPv6 = 58

func (p Proto) String() string {
	switch p {
	case ICMP:
		return "icmp"
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return "proto-" + itoa(int(p))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Flow is what every probe of one path shares. Src and Dst are of one
// family. For UDP and TCP, SrcPort and DstPort are used; for ICMP, ID is the
// echo identifier and Checksum the constant ICMP checksum (never 0 or
// 0xffff).
type Flow struct {
	Proto            Proto
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	ID               uint16
	Checksum         uint16
	// FlowLabel is the IPv6 flow label (20 bits), which IPv6 load
	// balancers hash with the addresses (RFC 6438): constant per flow.
	FlowLabel uint32
}

// Payload sizes: enough for the checksum-compensation word and a marker.
const (
	DefaultPayload = 24
	minPayload     = 2
	tcpHeaderLen   = 20
)

// TagOK reports whether tag can name a probe: the UDP checksum 0 means "no
// checksum" and 0xffff is its alternative encoding, so both are excluded for
// every protocol.
func TagOK(tag uint16) bool { return tag != 0 && tag != 0xffff }

// Transport returns the transport header and payload of the probe named tag,
// checksum included. payloadLen is ignored for TCP (a bare SYN) and raised
// to the minimum the compensation needs for ICMP and UDP.
func (f Flow) Transport(tag uint16, payloadLen int) []byte {
	if payloadLen < minPayload {
		payloadLen = minPayload
	}
	switch f.Proto {
	case TCP:
		return f.tcp(tag)
	case UDP:
		return f.udp(tag, payloadLen)
	default:
		return f.icmp(tag, payloadLen)
	}
}

// marker fills payloads so captures show who sent them.
const marker = "geoloc-trace "

func fillPayload(b []byte) {
	for i := range b {
		b[i] = marker[i%len(marker)]
	}
}

func (f Flow) icmp(tag uint16, payloadLen int) []byte {
	b := make([]byte, 8+payloadLen)
	if f.Dst.Is4() {
		b[0] = 8 // echo request
	} else {
		b[0] = 128
	}
	binary.BigEndian.PutUint16(b[4:], f.ID)
	binary.BigEndian.PutUint16(b[6:], tag)
	fillPayload(b[8:])
	var sum uint32
	if !f.Dst.Is4() {
		sum = pseudoSum(f.Src, f.Dst, protoICMPv6, len(b))
	}
	compensate(b, 8, sum, f.Checksum)
	binary.BigEndian.PutUint16(b[2:], f.Checksum)
	return b
}

func (f Flow) udp(tag uint16, payloadLen int) []byte {
	b := make([]byte, 8+payloadLen)
	binary.BigEndian.PutUint16(b[0:], f.SrcPort)
	binary.BigEndian.PutUint16(b[2:], f.DstPort)
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
	fillPayload(b[8:])
	compensate(b, 8, pseudoSum(f.Src, f.Dst, uint8(UDP), len(b)), tag)
	binary.BigEndian.PutUint16(b[6:], tag)
	return b
}

// TCPSeq returns the sequence number that carries tag.
func TCPSeq(tag uint16) uint32 { return uint32(tag)<<16 | 0x6765 }

// TagFromTCPSeq recovers the tag from a sequence number.
func TagFromTCPSeq(seq uint32) uint16 { return uint16(seq >> 16) }

func (f Flow) tcp(tag uint16) []byte {
	b := make([]byte, tcpHeaderLen)
	binary.BigEndian.PutUint16(b[0:], f.SrcPort)
	binary.BigEndian.PutUint16(b[2:], f.DstPort)
	binary.BigEndian.PutUint32(b[4:], TCPSeq(tag))
	b[12] = 5 << 4 // data offset
	b[13] = 0x02   // SYN
	binary.BigEndian.PutUint16(b[14:], 65535)
	s := fold(pseudoSum(f.Src, f.Dst, uint8(TCP), len(b)) + sum16(b))
	binary.BigEndian.PutUint16(b[16:], ^s)
	return b
}

// IPv4Packet returns the whole IPv4 datagram of the probe (for sockets with
// IP_HDRINCL). id is the IP identification; the header checksum is filled.
func (f Flow) IPv4Packet(tag uint16, ttl uint8, id uint16, payloadLen int) []byte {
	l4 := f.Transport(tag, payloadLen)
	b := make([]byte, 20+len(l4))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], id)
	b[6] = 0x40 // DF, so that routers report the path MTU
	b[8] = ttl
	b[9] = uint8(f.Proto)
	s, d := f.Src.As4(), f.Dst.As4()
	copy(b[12:16], s[:])
	copy(b[16:20], d[:])
	binary.BigEndian.PutUint16(b[10:], ^fold(sum16(b[:20])))
	copy(b[20:], l4)
	return b
}

// IPv6Packet returns the whole IPv6 datagram of the probe, for sockets
// with IPV6_HDRINCL (and the emulator's tests).
func (f Flow) IPv6Packet(tag uint16, hopLimit uint8, payloadLen int) []byte {
	l4 := f.Transport(tag, payloadLen)
	b := make([]byte, 40+len(l4))
	binary.BigEndian.PutUint32(b[0:], 6<<28|f.FlowLabel&0xfffff)
	binary.BigEndian.PutUint16(b[4:], uint16(len(l4)))
	b[6] = f.nextHeader()
	b[7] = hopLimit
	s, d := f.Src.As16(), f.Dst.As16()
	copy(b[8:24], s[:])
	copy(b[24:40], d[:])
	copy(b[40:], l4)
	return b
}

func (f Flow) nextHeader() uint8 {
	if f.Proto == ICMP && !f.Dst.Is4() {
		return protoICMPv6
	}
	return uint8(f.Proto)
}

// compensate sets the 16-bit word at b[off:] so that the Internet checksum
// over extra (a pseudo-header sum) and b, with b's checksum field still
// zero, comes out as want.
func compensate(b []byte, off int, extra uint32, want uint16) {
	binary.BigEndian.PutUint16(b[off:], 0)
	s := fold(extra + sum16(b)) // current ones'-complement sum
	// The checksum is ^sum; we need sum' = ^want = s + w (ones' complement).
	need := ^want
	w := onesSub(need, s)
	binary.BigEndian.PutUint16(b[off:], w)
}

// onesSub returns a - b in ones'-complement arithmetic.
func onesSub(a, b uint16) uint16 {
	r := uint32(a) + uint32(^b)
	return fold(r)
}

func sum16(b []byte) uint32 {
	var s uint32
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// pseudoSum is the unfolded sum of the transport pseudo-header.
func pseudoSum(src, dst netip.Addr, proto uint8, length int) uint32 {
	var s uint32
	if src.Is4() && dst.Is4() {
		a, b := src.As4(), dst.As4()
		s = sum16(a[:]) + sum16(b[:])
	} else {
		a, b := src.As16(), dst.As16()
		s = sum16(a[:]) + sum16(b[:])
	}
	return s + uint32(proto) + uint32(length)
}

// Checksum returns the Internet checksum of b with a pseudo-header for
// proto (0 for none, as ICMPv4 and the IPv4 header use).
func Checksum(src, dst netip.Addr, proto uint8, b []byte) uint16 {
	var extra uint32
	if proto != 0 {
		extra = pseudoSum(src, dst, proto, len(b))
	}
	return ^fold(extra + sum16(b))
}
