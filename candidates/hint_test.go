package candidates_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/rdns"
)

func TestHintSource(t *testing.T) {
	de, _ := candidates.LookupCountry("DE")
	hints := []rdns.Hint{
		{Code: "fra", Kind: rdns.KindIATA, Place: "Frankfurt am Main", Country: "DE", Lat: 50.033, Lon: 8.570, Confidence: 0.9},
		{Code: "frnkge", Kind: rdns.KindCLLI, Place: "Frankfurt am Main", Country: "DE", Lat: 50.11, Lon: 8.68, Confidence: 0.7},
		{Code: "de", Kind: rdns.KindPlace, Country: "DE", Confidence: 0.2},
		{Code: "zz", Kind: rdns.KindPlace, Confidence: 0.1}, // no place, no country: dropped
	}
	tests := []struct {
		name    string
		src     candidates.HintSource
		hints   []rdns.Hint
		radius  []float64
		sources []string
	}{
		{"none", candidates.HintSource{}, nil, nil, nil},
		{"defaults", candidates.HintSource{}, hints, []float64{50, 30, de.RadiusKm}, []string{"hint:iata", "hint:clli-like", "hint:place"}},
		{"override", candidates.HintSource{RadiusKm: map[rdns.HintKind]float64{rdns.KindIATA: 80}}, hints[:1], []float64{80}, []string{"hint:iata"}},
		{"max", candidates.HintSource{Max: 1}, hints, []float64{50}, []string{"hint:iata"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, err := tt.src.Lookup(candidates.Query{Addr: netip.MustParseAddr("192.0.2.1"), Hints: tt.hints})
			require.NoError(t, err)
			assert.Nil(t, ans.AS)
			require.Len(t, ans.Candidates, len(tt.radius))
			for i, c := range ans.Candidates {
				assert.Equal(t, candidates.KindHint, c.Kind)
				assert.Equal(t, tt.radius[i], c.RadiusKm)
				assert.Equal(t, tt.sources[i], c.Source)
				require.NotNil(t, c.Hint)
				assert.Equal(t, tt.hints[i].Code, c.Hint.Code)
				assert.NotZero(t, c.Lat)
			}
		})
	}
	assert.Equal(t, "hints", candidates.HintSource{}.Name())
}
