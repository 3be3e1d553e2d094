package style

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/outputtest"
)

func TestForTrace(t *testing.T) {
	trs := outputtest.Traces()
	tests := []struct {
		name      string
		tr        *geoloc.TraceResult
		countries []string
		trombone  bool
		unlocated int
	}{
		{"Oslo-Frankfurt", trs[0], []string{"NO", "DK", "DE"}, false, 2},
		{"Oslo-Stockholm-Oslo", trs[1], []string{"NO", "SE", "NO"}, true, 0},
		{"Tokyo-LA", trs[2], []string{"JP", "US"}, false, 0},
		{"Sydney-Singapore", trs[3], []string{"AU", "SG"}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ForTrace(tt.tr, 0)
			assert.Equal(t, tt.countries, got.Countries)
			assert.Equal(t, tt.trombone, got.Trombone)
			assert.Equal(t, tt.unlocated, got.Unlocated)
			// The engine's own countries list agrees with point in polygon.
			assert.Equal(t, tt.tr.Countries, got.Countries)
		})
	}
	sto := ForTrace(trs[1], 1)
	assert.Equal(t, []string{"NO"}, sto.Returns)
	require.Len(t, sto.Steps, 3)
	assert.Equal(t, Step{Country: "SE", Name: "Sweden", FromTTL: 2, ToTTL: 3, Hops: 2, MinConfidence: 0.75, MeanConfidence: 0.775}, sto.Steps[1])
}

// A hop placed just off the coast (New York harbour is outside the 1:50m
// outline) still counts for the country; one in mid-ocean falls back to
// the engine's country code; one with neither counts as unlocated.
func TestCountryOf(t *testing.T) {
	assert.Equal(t, "US", CountryOf(&geoloc.Location{Lat: 40.7128, Lon: -74.006}))
	assert.Equal(t, "PT", CountryOf(&geoloc.Location{Lat: 38, Lon: -30, Country: "pt"}))
	assert.Equal(t, "", CountryOf(&geoloc.Location{Lat: 38, Lon: -30}))
	assert.Equal(t, "", CountryOf(nil))
	tr := &geoloc.TraceResult{Hops: []geoloc.HopResult{
		{TTL: 1, Addr: netip.MustParseAddr("198.51.100.1"), Location: &geoloc.Location{Lat: 38, Lon: -30}},
		{TTL: 2, Addr: netip.MustParseAddr("198.51.100.2"), Location: &geoloc.Location{Lat: 40.7128, Lon: -74.006}, Confidence: 0.5},
	}}
	got := ForTrace(tr, 0)
	assert.Equal(t, []string{"US"}, got.Countries)
	assert.Equal(t, 1, got.Unlocated)
	assert.Equal(t, "trace 1", got.Title)
}

// ECMP across a border is not tromboning; a real detour is, even when the
// detour TTL also has a silent address.
func TestTromboneECMP(t *testing.T) {
	at := func(ttl int, lat, lon float64) geoloc.HopResult {
		return geoloc.HopResult{TTL: ttl, Addr: netip.MustParseAddr("198.51.100.1"), Confidence: 0.5, Location: &geoloc.Location{Lat: lat, Lon: lon}}
	}
	oslo, sto, cph := [2]float64{59.9139, 10.7522}, [2]float64{59.3293, 18.0686}, [2]float64{55.6761, 12.5683}
	tests := []struct {
		name      string
		hops      []geoloc.HopResult
		countries []string
		trombone  bool
	}{
		{"ECMP NO|SE then NO", []geoloc.HopResult{at(1, oslo[0], oslo[1]), at(2, sto[0], sto[1]), at(2, oslo[0], oslo[1]), at(3, oslo[0], oslo[1])}, []string{"NO", "SE", "NO"}, false},
		{"NO SE NO", []geoloc.HopResult{at(1, oslo[0], oslo[1]), at(2, sto[0], sto[1]), at(3, oslo[0], oslo[1])}, []string{"NO", "SE", "NO"}, true},
		{"NO SE|DK NO", []geoloc.HopResult{at(1, oslo[0], oslo[1]), at(2, sto[0], sto[1]), at(2, cph[0], cph[1]), at(3, oslo[0], oslo[1])}, []string{"NO", "SE", "DK", "NO"}, true},
		{"NO SE DK", []geoloc.HopResult{at(1, oslo[0], oslo[1]), at(2, sto[0], sto[1]), at(3, cph[0], cph[1])}, []string{"NO", "SE", "DK"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ForTrace(&geoloc.TraceResult{Hops: tt.hops}, 0)
			assert.Equal(t, tt.countries, got.Countries)
			assert.Equal(t, tt.trombone, got.Trombone, "%v", got.Countries)
		})
	}
}
