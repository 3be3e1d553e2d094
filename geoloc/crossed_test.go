package geoloc

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCrossed(t *testing.T) {
	a := netip.MustParseAddr("198.51.100.1")
	tokyo := &Location{Lat: 35.68, Lon: 139.69, RadiusKm: 25, City: "Tokyo", Country: "JP"}
	hk := &Location{Lat: 22.32, Lon: 114.17, RadiusKm: 25, City: "Hong Kong", Country: "HK"}
	sterling := &Location{Lat: 39.01, Lon: -77.43, RadiusKm: 25, City: "Sterling", Country: "US"}
	ocean := &Location{Lat: 30, Lon: -40, RadiusKm: 25}
	hop := func(ttl int, l *Location, conf float64, mod ...func(*HopResult)) HopResult {
		h := HopResult{TTL: ttl, Addr: a, Location: l, Confidence: conf}
		for _, m := range mod {
			m(&h)
		}
		return h
	}
	inferred := func(h *HopResult) { h.Inferred = true }
	anycast := func(h *HopResult) { h.Anycast = true }
	wide := func(h *HopResult) { l := *h.Location; l.RadiusKm = 450; h.Location = &l }
	ev := func(ccs ...string) func(*HopResult) {
		return func(h *HopResult) {
			for _, cc := range ccs {
				h.Evidence = append(h.Evidence, Evidence{Country: cc, Status: StatusUnlikely})
			}
			h.Evidence = append(h.Evidence, Evidence{Country: "BR", Status: StatusRuledOut})
		}
	}
	as := func(n uint32, org string) func(*HopResult) { return func(h *HopResult) { h.ASN, h.ASOrg = n, org } }
	tests := []struct {
		name      string
		hops      []HopResult
		countries []string
		uncertain []UncertainHop
		networks  []Network
	}{
		{"sure hops, repeats folded", []HopResult{hop(1, tokyo, 0.9), hop(2, tokyo, 0.8), hop(3, sterling, 0.7)}, []string{"JP", "US"}, nil, nil},
		{"a 0.00 placement names no country", []HopResult{hop(1, tokyo, 0.9), hop(2, hk, 0), hop(3, tokyo, 0.9), hop(4, tokyo, 0.1)}, []string{"JP"},
			[]UncertainHop{{TTL: 2, Addr: a, Countries: []string{"HK"}}}, nil},
		{"low confidence names no country, even when the evidence agrees", []HopResult{hop(1, hk, 0.3, ev("HK", "HK"))}, []string{},
			[]UncertainHop{{TTL: 1, Addr: a, Countries: []string{"HK"}}}, nil},
		{"low confidence and survivors disagree", []HopResult{hop(1, hk, 0.3, ev("HK", "CN"))}, []string{},
			[]UncertainHop{{TTL: 1, Addr: a, Countries: []string{"HK", "CN"}}}, nil},
		{"neighbour-placed copy of a crossed country adds nothing", []HopResult{hop(1, tokyo, 0.9), hop(2, tokyo, 0.5, inferred)}, []string{"JP"}, nil, nil},
		{"neighbour-placed hop elsewhere is uncertain", []HopResult{hop(1, tokyo, 0.9), hop(2, hk, 0.5, inferred)}, []string{"JP"},
			[]UncertainHop{{TTL: 2, Addr: a, Countries: []string{"HK"}}}, nil},
		{"anycast is uncertain", []HopResult{hop(1, sterling, 0.9, anycast)}, []string{},
			[]UncertainHop{{TTL: 1, Addr: a, Countries: []string{"US"}}}, nil},
		{"a radius spanning borders is uncertain", []HopResult{hop(1, hk, 0.9, wide)}, []string{},
			[]UncertainHop{{TTL: 1, Addr: a, Countries: []string{"HK"}}}, nil},
		{"no country at the point and none given", []HopResult{hop(1, ocean, 0.9)}, []string{}, nil, nil},
		{"ECMP across a border is not a detour", []HopResult{hop(1, tokyo, 0.9), hop(2, hk, 0.9), hop(2, tokyo, 0.9), hop(3, tokyo, 0.9)}, []string{"JP", "HK", "JP"}, nil, nil},
		{"networks folded with their TTL runs", []HopResult{hop(1, tokyo, 0.9, as(2914, "NTT")), hop(2, tokyo, 0.9, as(2914, "")), hop(3, nil, 0), hop(4, hk, 0.9, as(4637, "Telstra"))},
			[]string{"JP", "HK"}, nil, []Network{{ASN: 2914, Org: "NTT", FromTTL: 1, ToTTL: 2}, {ASN: 4637, Org: "Telstra", FromTTL: 4, ToTTL: 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Crossed(tt.hops)
			assert.Equal(t, tt.countries, got.Countries)
			assert.Equal(t, tt.uncertain, got.Uncertain)
			assert.Equal(t, tt.networks, got.Networks)
		})
	}
}

func TestLocationCountry(t *testing.T) {
	tests := []struct {
		name string
		l    *Location
		want string
	}{
		{"own code wins (border cities)", &Location{Lat: 22.5431, Lon: 114.0579, City: "Shenzhen", Country: "cn"}, "CN"},
		{"outline without a code", &Location{Lat: 40.7128, Lon: -74.006}, "US"},
		{"own code off the map", &Location{Lat: 38, Lon: -30, Country: "pt"}, "PT"},
		{"nothing", &Location{Lat: 38, Lon: -30}, ""},
		{"junk code", &Location{Lat: 38, Lon: -30, Country: "1<"}, ""},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, LocationCountry(tt.l))
		})
	}
}
