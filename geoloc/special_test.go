package geoloc

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

// specialReasonRef is SpecialReason as the plain walk over specialRanges.
func specialReasonRef(addr netip.Addr) string {
	if !addr.IsValid() {
		return "no address"
	}
	a := addr.Unmap()
	if a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return "broadcast address"
	}
	for _, r := range specialRanges {
		if r.p.Contains(a) {
			return r.why
		}
	}
	return ""
}

// TestSpecialReasonMasks holds SpecialReason's integer masks to the ranges
// they come from: every range's first and last address and its neighbours
// outside, and random IPv4 and IPv6 addresses.
func TestSpecialReasonMasks(t *testing.T) {
	var addrs []netip.Addr
	for _, r := range specialRanges {
		first := r.p.Masked().Addr()
		b := first.AsSlice()
		for i := r.p.Bits(); i < first.BitLen(); i++ {
			b[i/8] |= 0x80 >> (i % 8)
		}
		last, _ := netip.AddrFromSlice(b)
		addrs = append(addrs, first, last, first.Prev(), last.Next())
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		addrs = append(addrs, netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())}))
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if rng.IntN(2) == 0 {
			b[0] = []byte{0x00, 0x20, 0x3f, 0xfc, 0xfe, 0xff}[rng.IntN(6)]
		}
		addrs = append(addrs, netip.AddrFrom16(b))
	}
	addrs = append(addrs, netip.Addr{}, netip.MustParseAddr("255.255.255.255"), netip.MustParseAddr("::ffff:255.255.255.255"))
	for _, a := range addrs {
		require.Equal(t, specialReasonRef(a), SpecialReason(a), "%s", a)
	}
}
