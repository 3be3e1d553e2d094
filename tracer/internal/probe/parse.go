package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/net/icmp"
)

// Kind classifies a reply.
type Kind uint8

// Reply kinds.
const (
	KindNone         Kind = iota
	KindTimeExceeded      // a router on the way (ICMP time exceeded)
	KindUnreachable       // ICMP destination unreachable (incl. port unreachable)
	KindPacketTooBig      // ICMPv6 packet too big (IPv4 uses KindUnreachable code 4)
	KindParamProblem      // ICMP parameter problem
	KindEchoReply         // the destination answered an ICMP echo
	KindTCP               // the destination answered a SYN (SYN-ACK or RST)
)

func (k Kind) String() string {
	switch k {
	case KindTimeExceeded:
		return "time-exceeded"
	case KindUnreachable:
		return "unreachable"
	case KindPacketTooBig:
		return "packet-too-big"
	case KindParamProblem:
		return "param-problem"
	case KindEchoReply:
		return "echo-reply"
	case KindTCP:
		return "tcp"
	}
	return "none"
}

// Label is one MPLS label stack entry from an RFC 4950 ICMP extension.
type Label struct {
	Label uint32
	TC    uint8
	S     bool
	TTL   uint8
}

// Reply is a decoded answer to a probe. Flow fields and Tag name the probe
// it answers, taken from the quoted datagram of an ICMP error or from the
// echo reply / TCP segment itself.
type Reply struct {
	Kind       Kind
	From       netip.Addr // who sent the reply
	ReplyTTL   int        // IP TTL / hop limit of the reply; 0 when unknown
	Type, Code uint8      // ICMP type and code (family-specific numbers)
	MTU        int        // next-hop MTU of "fragmentation needed" / packet too big
	MPLS       []Label
	TCPFlags   uint8 // for KindTCP

	// Identity of the probe answered.
	Proto            Proto
	Src, Dst         netip.Addr // Src is invalid when the reply does not tell
	SrcPort, DstPort uint16     // UDP and TCP
	ID               uint16     // ICMP echo identifier
	Tag              uint16
	// QuotedChecksum is the ICMP checksum of a quoted echo request, 0
	// otherwise: a router that rewrote the probe changed it.
	QuotedChecksum uint16
}

// Final reports whether the reply comes from (or for) the end of the path:
// the destination answered, or a router said it cannot go on.
func (r *Reply) Final() bool {
	switch r.Kind {
	case KindEchoReply, KindTCP, KindUnreachable, KindParamProblem, KindPacketTooBig:
		return true
	}
	return false
}

// ErrNotReply is returned (wrapped) for packets that are not answers to
// probes of any kind this package sends: echo requests, unrelated TCP, ...
var ErrNotReply = errors.New("not a probe reply")

// ErrChecksum is returned (wrapped) for an ICMP message whose checksum does
// not verify: corrupted on the way, or forged by someone who did not care.
var ErrChecksum = errors.New("bad checksum")

func errf(format string, a ...any) error { return fmt.Errorf(format, a...) }

// ParseIPv4 decodes an IPv4 datagram (header included, as raw IPv4 sockets
// deliver it) carrying ICMP or TCP.
//
// It verifies the ICMP checksum: Linux hands raw IPv4 sockets every ICMP
// datagram before icmp_rcv checks it, so nothing else does. TCP checksums
// are not verified: the kernel does not for raw sockets either, and
// segments of local connections (loopback, veth) reach them with the
// checksum only partly computed (left to an offload that never ran), so
// checking would refuse the real answers of local destinations.
func ParseIPv4(b []byte) (Reply, error) {
	var r Reply
	if len(b) < 20 || b[0]>>4 != 4 {
		return r, errf("ipv4: short or not version 4 (%d bytes)", len(b))
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 || len(b) < ihl {
		return r, errf("ipv4: bad header length %d", ihl)
	}
	if tl := int(binary.BigEndian.Uint16(b[2:])); tl >= ihl && tl < len(b) {
		b = b[:tl]
	}
	r.From = netip.AddrFrom4([4]byte(b[12:16]))
	to := netip.AddrFrom4([4]byte(b[16:20]))
	r.ReplyTTL = int(b[8])
	proto := b[9]
	body := b[ihl:]
	switch proto {
	case 1:
		if Checksum(netip.Addr{}, netip.Addr{}, 0, body) != 0 {
			return r, fmt.Errorf("icmp from %s: %w", r.From, ErrChecksum)
		}
		return parseICMP(r, 1, body, to)
	case 6:
		return parseTCP(r, body, r.From, to)
	}
	return r, fmt.Errorf("ipv4: protocol %d: %w", proto, ErrNotReply)
}

// ParseIPv6Packet decodes a whole IPv6 datagram carrying ICMPv6 or TCP
// directly after the fixed header. It verifies the ICMPv6 checksum (with
// the pseudo-header) as the kernel does before raw ICMPv6 sockets see a
// message; TCP checksums are not verified (see [ParseIPv4]).
func ParseIPv6Packet(b []byte) (Reply, error) {
	if len(b) < 40 || b[0]>>4 != 6 {
		return Reply{}, errf("ipv6: short or not version 6 (%d bytes)", len(b))
	}
	pl := int(binary.BigEndian.Uint16(b[4:]))
	body := b[40:]
	if pl < len(body) {
		body = body[:pl]
	}
	from := netip.AddrFrom16([16]byte(b[8:24]))
	to := netip.AddrFrom16([16]byte(b[24:40]))
	switch b[6] {
	case protoICMPv6:
		if Checksum(from, to, protoICMPv6, body) != 0 {
			return Reply{}, fmt.Errorf("icmpv6 from %s: %w", from, ErrChecksum)
		}
		return ParseICMPv6(from, to, int(b[7]), body)
	case 6:
		r := Reply{From: from, ReplyTTL: int(b[7])}
		return parseTCP(r, body, from, to)
	}
	return Reply{}, fmt.Errorf("ipv6: next header %d: %w", b[6], ErrNotReply)
}

// ParseICMPv6 decodes an ICMPv6 message (as raw ICMPv6 sockets deliver it,
// without the IPv6 header) sent by from to the local address to (may be
// invalid) with the given hop limit (0 if unknown).
//
// It does not verify the checksum, which needs the pseudo-header: the
// kernel already has. A raw ICMPv6 socket always has IPV6_CHECKSUM
// semantics at offset 2 (RFC 3542 section 3.1; Linux sets it in
// rawv6_init_sk and drops a message that fails it in rawv6_recvmsg), and
// ICMPv6 ping sockets only get messages icmpv6_rcv has verified.
func ParseICMPv6(from, to netip.Addr, hopLimit int, b []byte) (Reply, error) {
	r := Reply{From: from, ReplyTTL: hopLimit}
	return parseICMP(r, protoICMPv6, b, to)
}

// ParseTCP decodes a TCP segment sent by from to to (raw IPv6 TCP sockets
// deliver segments without the IPv6 header).
func ParseTCP(from, to netip.Addr, hopLimit int, b []byte) (Reply, error) {
	return parseTCP(Reply{From: from, ReplyTTL: hopLimit}, b, from, to)
}

func parseTCP(r Reply, b []byte, from, to netip.Addr) (Reply, error) {
	if len(b) < 20 {
		return r, errf("tcp: short segment (%d bytes)", len(b))
	}
	flags := b[13]
	const syn, rst, ack = 0x02, 0x04, 0x10
	if flags&ack == 0 || (flags&rst == 0 && flags&(syn|ack) != syn|ack) {
		return r, fmt.Errorf("tcp: flags %#x: %w", flags, ErrNotReply)
	}
	r.Kind = KindTCP
	r.TCPFlags = flags
	r.Proto = TCP
	// The reply goes from the probe's destination back to its source.
	r.Src, r.Dst = to, from
	r.SrcPort = binary.BigEndian.Uint16(b[2:])
	r.DstPort = binary.BigEndian.Uint16(b[0:])
	r.Tag = TagFromTCPSeq(binary.BigEndian.Uint32(b[8:]) - 1)
	return r, nil
}

// ICMP type numbers.
const (
	v4EchoReply    = 0
	v4Unreach      = 3
	v4TimeExceeded = 11
	v4ParamProblem = 12
	v6Unreach      = 1
	v6TooBig       = 2
	v6TimeExceeded = 3
	v6ParamProblem = 4
	v6EchoReply    = 129
)

func parseICMP(r Reply, proto int, b []byte, to netip.Addr) (Reply, error) {
	if len(b) < 8 {
		return r, errf("icmp: short message (%d bytes)", len(b))
	}
	r.Type, r.Code = b[0], b[1]
	v4 := proto == 1
	switch {
	case v4 && r.Type == v4EchoReply, !v4 && r.Type == v6EchoReply:
		r.Kind = KindEchoReply
		r.Proto = ICMP
		r.Src, r.Dst = to, r.From
		r.ID = binary.BigEndian.Uint16(b[4:])
		r.Tag = binary.BigEndian.Uint16(b[6:])
		return r, nil
	case v4 && r.Type == v4TimeExceeded, !v4 && r.Type == v6TimeExceeded:
		r.Kind = KindTimeExceeded
	case v4 && r.Type == v4Unreach, !v4 && r.Type == v6Unreach:
		r.Kind = KindUnreachable
		if v4 && r.Code == 4 {
			r.MTU = int(binary.BigEndian.Uint16(b[6:]))
		}
	case !v4 && r.Type == v6TooBig:
		r.Kind = KindPacketTooBig
		r.MTU = int(binary.BigEndian.Uint32(b[4:]))
	case v4 && r.Type == v4ParamProblem, !v4 && r.Type == v6ParamProblem:
		r.Kind = KindParamProblem
	default:
		return r, fmt.Errorf("icmp: type %d: %w", r.Type, ErrNotReply)
	}
	quoted := b[8:]
	// Extensions (RFC 4884) only exist for time exceeded, unreachable and
	// (v4) parameter problem; x/net/icmp checks the length field, the
	// version and the checksum.
	// An extension structure follows a 128-byte original datagram, so
	// shorter messages carry none: skip the costlier generic parse.
	if (r.Kind == KindTimeExceeded || r.Kind == KindUnreachable) && len(b) >= 8+128+8 {
		if m, err := icmp.ParseMessage(proto, b); err == nil {
			var exts []icmp.Extension
			switch body := m.Body.(type) {
			case *icmp.TimeExceeded:
				exts = body.Extensions
			case *icmp.DstUnreach:
				exts = body.Extensions
			}
			for _, e := range exts {
				if ls, ok := e.(*icmp.MPLSLabelStack); ok {
					for _, l := range ls.Labels {
						r.MPLS = append(r.MPLS, Label{Label: uint32(l.Label) & 0xfffff, TC: uint8(l.TC), S: l.S, TTL: uint8(l.TTL)})
					}
				}
			}
		}
	}
	if err := parseQuoted(&r, quoted); err != nil {
		return r, err
	}
	return r, nil
}

// parseQuoted reads the probe's identity from the datagram an ICMP error
// quotes: its IP header and at least the first 8 transport bytes.
func parseQuoted(r *Reply, q []byte) error {
	if len(q) < 1 {
		return errf("icmp: no quoted datagram")
	}
	var l4 []byte
	var proto uint8
	switch q[0] >> 4 {
	case 4:
		if len(q) < 20 {
			return errf("icmp: quoted ipv4 header short (%d bytes)", len(q))
		}
		ihl := int(q[0]&0x0f) * 4
		if ihl < 20 || len(q) < ihl+8 {
			return errf("icmp: quoted ipv4 datagram short (%d bytes)", len(q))
		}
		r.Src = netip.AddrFrom4([4]byte(q[12:16]))
		r.Dst = netip.AddrFrom4([4]byte(q[16:20]))
		proto, l4 = q[9], q[ihl:]
	case 6:
		if len(q) < 48 {
			return errf("icmp: quoted ipv6 datagram short (%d bytes)", len(q))
		}
		r.Src = netip.AddrFrom16([16]byte(q[8:24]))
		r.Dst = netip.AddrFrom16([16]byte(q[24:40]))
		proto, l4 = q[6], q[40:]
	default:
		return errf("icmp: quoted datagram version %d", q[0]>>4)
	}
	switch proto {
	case 1, protoICMPv6:
		if (proto == 1 && l4[0] != 8) || (proto == protoICMPv6 && l4[0] != 128) {
			return fmt.Errorf("icmp: quoted icmp type %d: %w", l4[0], ErrNotReply)
		}
		r.Proto = ICMP
		r.QuotedChecksum = binary.BigEndian.Uint16(l4[2:])
		r.ID = binary.BigEndian.Uint16(l4[4:])
		r.Tag = binary.BigEndian.Uint16(l4[6:])
	case 17:
		r.Proto = UDP
		r.SrcPort = binary.BigEndian.Uint16(l4[0:])
		r.DstPort = binary.BigEndian.Uint16(l4[2:])
		r.Tag = binary.BigEndian.Uint16(l4[6:])
	case 6:
		r.Proto = TCP
		r.SrcPort = binary.BigEndian.Uint16(l4[0:])
		r.DstPort = binary.BigEndian.Uint16(l4[2:])
		r.Tag = TagFromTCPSeq(binary.BigEndian.Uint32(l4[4:]))
	default:
		return fmt.Errorf("icmp: quoted protocol %d: %w", proto, ErrNotReply)
	}
	return nil
}

// Flags returns the traceroute annotation of a reply ("!H", "!N", "!P",
// "!X", "!<code>", "!F" ...), or nil for time exceeded, echo replies,
// TCP answers and port unreachable from the destination.
func (r *Reply) Flags() []string {
	var f string
	v4 := r.From.Is4()
	switch r.Kind {
	case KindUnreachable:
		if v4 {
			switch r.Code {
			case 0:
				f = "!N"
			case 1:
				f = "!H"
			case 2:
				f = "!P"
			case 3:
				return nil // port unreachable: the destination
			case 4:
				f = "!F"
			case 5:
				f = "!S"
			case 13:
				f = "!X"
			case 14:
				f = "!V"
			case 15:
				f = "!C"
			default:
				f = "!" + itoa(int(r.Code))
			}
		} else {
			switch r.Code {
			case 0:
				f = "!N"
			case 1:
				f = "!X"
			case 2:
				f = "!V" // beyond scope of source address
			case 3:
				f = "!H"
			case 4:
				return nil // port unreachable
			case 5, 6:
				f = "!S"
			default:
				f = "!" + itoa(int(r.Code))
			}
		}
	case KindPacketTooBig:
		f = "!F"
	case KindParamProblem:
		f = "!Z"
	default:
		return nil
	}
	return []string{f}
}

// ParseICMPv4 decodes an ICMP message without IP header (as IPv4 ping
// sockets deliver it) sent by from with the given TTL (0 if unknown). The
// checksum is not verified: ping sockets only get messages icmp_rcv has.
func ParseICMPv4(from netip.Addr, ttl int, b []byte) (Reply, error) {
	return parseICMP(Reply{From: from, ReplyTTL: ttl}, 1, b, netip.Addr{})
}

// ReplyFromError builds the Reply of an ICMP error a ping socket reports on
// its error queue: the kernel gives the ICMP type, code and info (the MTU),
// the offender from, the probe's destination dst and the quoted echo
// request echo (ICMP header first).
func ReplyFromError(from, dst netip.Addr, typ, code uint8, info int, v6 bool, echo []byte) (Reply, error) {
	r := Reply{From: from, Type: typ, Code: code, Proto: ICMP, Dst: dst}
	if len(echo) < 8 {
		return r, errf("error queue: quoted echo short (%d bytes)", len(echo))
	}
	switch {
	case !v6 && typ == v4TimeExceeded, v6 && typ == v6TimeExceeded:
		r.Kind = KindTimeExceeded
	case !v6 && typ == v4Unreach, v6 && typ == v6Unreach:
		r.Kind = KindUnreachable
		if !v6 && code == 4 {
			r.MTU = info
		}
	case v6 && typ == v6TooBig:
		r.Kind = KindPacketTooBig
		r.MTU = info
	case !v6 && typ == v4ParamProblem, v6 && typ == v6ParamProblem:
		r.Kind = KindParamProblem
	default:
		return r, fmt.Errorf("error queue: icmp type %d: %w", typ, ErrNotReply)
	}
	r.QuotedChecksum = binary.BigEndian.Uint16(echo[2:])
	r.ID = binary.BigEndian.Uint16(echo[4:])
	r.Tag = binary.BigEndian.Uint16(echo[6:])
	return r, nil
}
