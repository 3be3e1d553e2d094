package geoloc

import (
	"encoding/binary"
	"net/netip"
)

// specialRanges are address blocks that never identify a router's place on
// the public Internet (IANA special-purpose registries, RFC 6890 and
// successors). Addresses in them are never looked up.
var specialRanges = func() []specialRange {
	mk := func(s, why string) specialRange { return specialRange{netip.MustParsePrefix(s), why} }
	return []specialRange{
		mk("0.0.0.0/8", "\"this network\" address (RFC 791)"),
		mk("10.0.0.0/8", "private address (RFC 1918)"),
		mk("100.64.0.0/10", "carrier-grade NAT address (RFC 6598)"),
		mk("127.0.0.0/8", "loopback address"),
		mk("169.254.0.0/16", "link-local address"),
		mk("172.16.0.0/12", "private address (RFC 1918)"),
		mk("192.0.0.0/24", "IETF protocol assignment (RFC 6890)"),
		mk("192.0.2.0/24", "documentation address (RFC 5737)"),
		mk("192.88.99.0/24", "6to4 relay anycast (RFC 7526)"),
		mk("192.168.0.0/16", "private address (RFC 1918)"),
		mk("198.18.0.0/15", "benchmarking address (RFC 2544)"),
		mk("198.51.100.0/24", "documentation address (RFC 5737)"),
		mk("203.0.113.0/24", "documentation address (RFC 5737)"),
		mk("224.0.0.0/4", "multicast address"),
		mk("240.0.0.0/4", "reserved address (RFC 1112)"),
		mk("::/128", "unspecified address"),
		mk("::1/128", "loopback address"),
		mk("::ffff:0:0/96", "IPv4-mapped address"),
		mk("64:ff9b:1::/48", "local-use NAT64 address (RFC 8215)"),
		mk("100::/64", "discard-only address (RFC 6666)"),
		mk("2001::/32", "Teredo address (RFC 4380)"),
		mk("2001:2::/48", "benchmarking address (RFC 5180)"),
		mk("2001:db8::/32", "documentation address (RFC 3849)"),
		mk("3fff::/20", "documentation address (RFC 9637)"),
		mk("fc00::/7", "unique local address (RFC 4193)"),
		mk("fe80::/10", "link-local address"),
		mk("ff00::/8", "multicast address"),
	}
}()

// specialV4 are the IPv4 blocks of specialRanges as masks on the address's
// 32 bits, and specialV6 the IPv6 ones, so that an IPv4 address, the most
// common, costs a few integer tests.
var specialV4, specialV6 = func() (v4 []special4, v6 []specialRange) {
	for _, r := range specialRanges {
		if r.p.Addr().Is4() {
			b := r.p.Addr().As4()
			mask := ^uint32(0) << (32 - r.p.Bits())
			v4 = append(v4, special4{base: binary.BigEndian.Uint32(b[:]) & mask, mask: mask, why: r.why})
		} else {
			v6 = append(v6, r)
		}
	}
	return v4, v6
}()

type special4 struct {
	base, mask uint32
	why        string
}

type specialRange struct {
	p   netip.Prefix
	why string
}

// The reasons SpecialReason gives that no range gives.
const (
	reasonNoAddress = "no address"
	reasonBroadcast = "broadcast address"
)

// SpecialReason says why addr is never looked up (private, reserved, CGNAT,
// link-local, documentation, ...), or "" for an ordinary public address. An
// invalid address is special too.
func SpecialReason(addr netip.Addr) string {
	if !addr.IsValid() {
		return reasonNoAddress
	}
	a := addr.Unmap()
	if a.Is4() {
		b := a.As4()
		x := binary.BigEndian.Uint32(b[:])
		if x == 0xffffffff {
			return reasonBroadcast
		}
		for _, r := range specialV4 {
			if x&r.mask == r.base {
				return r.why
			}
		}
		return ""
	}
	for _, r := range specialV6 {
		if r.p.Contains(a) {
			return r.why
		}
	}
	return ""
}
