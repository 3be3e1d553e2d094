package traceroute

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestAppendAddrs checks that AppendAddrs keeps what dst held, lists a
// hop's distinct responding addresses in order of first appearance (lost
// probes and invalid addresses left out, probes before statistics), and
// dedupes within the hop only.
func TestAppendAddrs(t *testing.T) {
	a, b, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("2001:db8::3")
	tests := []struct {
		name string
		dst  []netip.Addr
		hop  Hop
		want []netip.Addr
	}{
		{"empty hop", nil, Hop{TTL: 1}, nil},
		{"lost and invalid left out", nil, Hop{Probes: []Probe{{Addr: a, Lost: true}, {}, {Addr: b}}}, []netip.Addr{b}},
		{"first appearance order", nil, Hop{Probes: []Probe{{Addr: b}, {Addr: a}, {Addr: b}}}, []netip.Addr{b, a}},
		{"statistics after probes", nil, Hop{Probes: []Probe{{Addr: a}}, Stats: []Stats{{Addr: c}, {Addr: a}}}, []netip.Addr{a, c}},
		{"dst kept, not deduped against", []netip.Addr{a}, Hop{Probes: []Probe{{Addr: a}, {Addr: c}}}, []netip.Addr{a, a, c}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.hop.AppendAddrs(tt.dst))
			if tt.dst == nil {
				assert.Equal(t, tt.want, tt.hop.Addrs(), "Addrs is AppendAddrs(nil)")
			}
		})
	}
}
