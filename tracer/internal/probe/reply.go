package probe

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// This file builds replies as routers and hosts send them. The network
// emulator answers probes with them, and tests feed them to the parser.

// IPv4 wraps an IPv4 transport payload in a header from src to dst.
func IPv4(src, dst netip.Addr, proto uint8, ttl uint8, payload []byte) []byte {
	b := make([]byte, 20+len(payload))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	b[8] = ttl
	b[9] = proto
	s, d := src.As4(), dst.As4()
	copy(b[12:16], s[:])
	copy(b[16:20], d[:])
	binary.BigEndian.PutUint16(b[10:], ^fold(sum16(b[:20])))
	copy(b[20:], payload)
	return b
}

// IPv6 wraps an IPv6 payload in a header from src to dst.
func IPv6(src, dst netip.Addr, nextHeader uint8, hopLimit uint8, payload []byte) []byte {
	b := make([]byte, 40+len(payload))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[6] = nextHeader
	b[7] = hopLimit
	s, d := src.As16(), dst.As16()
	copy(b[8:24], s[:])
	copy(b[24:40], d[:])
	copy(b[40:], payload)
	return b
}

// ICMPError builds the whole IP datagram of an ICMP error sent by from to
// to, quoting the probe datagram quoted. kind is KindTimeExceeded,
// KindUnreachable (code = ICMP code; mtu for IPv4 code 4) or
// KindPacketTooBig (IPv6). A non-empty mpls adds an RFC 4950 extension
// (with the RFC 4884 length field and a 128-byte padded quote).
func ICMPError(from, to netip.Addr, ttl uint8, kind Kind, code uint8, mtu int, quoted []byte, mpls []Label) []byte {
	v4 := from.Is4()
	const maxQuote = 128
	if len(mpls) == 0 {
		// RFC 1812 routers quote at least 8 bytes; modern ones as much as fits.
		if len(quoted) > 512 {
			quoted = quoted[:512]
		}
	} else if len(quoted) > maxQuote {
		quoted = quoted[:maxQuote]
	}
	var exts []icmp.Extension
	if len(mpls) > 0 {
		ls := &icmp.MPLSLabelStack{Class: 1, Type: 1}
		for _, l := range mpls {
			ls.Labels = append(ls.Labels, icmp.MPLSLabel{Label: int(l.Label), TC: int(l.TC), S: l.S, TTL: int(l.TTL)})
		}
		exts = []icmp.Extension{ls}
	}
	m := icmp.Message{Code: int(code)}
	switch kind {
	case KindTimeExceeded:
		m.Body = &icmp.TimeExceeded{Data: quoted, Extensions: exts}
		m.Type = ipv4.ICMPTypeTimeExceeded
		if !v4 {
			m.Type = ipv6.ICMPTypeTimeExceeded
		}
	case KindPacketTooBig:
		m.Type = ipv6.ICMPTypePacketTooBig
		m.Body = &icmp.PacketTooBig{MTU: mtu, Data: quoted}
	default:
		m.Body = &icmp.DstUnreach{Data: quoted, Extensions: exts}
		m.Type = ipv4.ICMPTypeDestinationUnreachable
		if !v4 {
			m.Type = ipv6.ICMPTypeDestinationUnreachable
		}
	}
	if v4 {
		b, err := m.Marshal(nil)
		if err != nil {
			panic(err) // only on impossible bodies
		}
		if kind == KindUnreachable && code == 4 {
			binary.BigEndian.PutUint16(b[6:], uint16(mtu))
			b[2], b[3] = 0, 0
			binary.BigEndian.PutUint16(b[2:], Checksum(from, to, 0, b))
		}
		return IPv4(from, to, 1, ttl, b)
	}
	b, err := m.Marshal(icmp.IPv6PseudoHeader(from.AsSlice(), to.AsSlice()))
	if err != nil {
		panic(err)
	}
	return IPv6(from, to, protoICMPv6, ttl, b)
}

// EchoReply builds the reply of from to an echo request (the ICMP message
// echo, without IP header) sent by to.
func EchoReply(from, to netip.Addr, ttl uint8, echo []byte) []byte {
	b := append([]byte(nil), echo...)
	b[2], b[3] = 0, 0
	if from.Is4() {
		b[0] = v4EchoReply
		binary.BigEndian.PutUint16(b[2:], Checksum(from, to, 0, b))
		return IPv4(from, to, 1, ttl, b)
	}
	b[0] = v6EchoReply
	binary.BigEndian.PutUint16(b[2:], Checksum(from, to, protoICMPv6, b))
	return IPv6(from, to, protoICMPv6, ttl, b)
}

// TCPReply builds the answer of from to the SYN syn (TCP header, no IP
// header) sent by to: SYN-ACK when open, else RST-ACK.
func TCPReply(from, to netip.Addr, ttl uint8, syn []byte, open bool) []byte {
	b := make([]byte, 20)
	copy(b[0:2], syn[2:4])
	copy(b[2:4], syn[0:2])
	seq := binary.BigEndian.Uint32(syn[4:])
	binary.BigEndian.PutUint32(b[8:], seq+1)
	b[12] = 5 << 4
	if open {
		binary.BigEndian.PutUint32(b[4:], 0x1000)
		b[13] = 0x12
		binary.BigEndian.PutUint16(b[14:], 65535)
	} else {
		b[13] = 0x14
	}
	binary.BigEndian.PutUint16(b[16:], Checksum(from, to, uint8(TCP), b))
	if from.Is4() {
		return IPv4(from, to, uint8(TCP), ttl, b)
	}
	return IPv6(from, to, uint8(TCP), ttl, b)
}
