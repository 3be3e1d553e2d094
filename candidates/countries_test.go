package candidates_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/geoloc-dev/geoloc/candidates"
)

func TestLookupCountry(t *testing.T) {
	tests := []struct {
		iso          string
		name         string
		minKm, maxKm float64
	}{
		{"DE", "Germany", 300, 700},
		{"us", "United States", 2000, 3500}, // contiguous states from (38,-97)
		{"FR", "France", 400, 900},          // mainland, not the overseas departments
		{"GF", "French Guiana", 100, 400},   // merged into France in Natural Earth
		{"SG", "Singapore", 10, 60},
		{"VA", "Vatican City", 10, 10},
		{"XK", "Kosovo", 50, 200},
	}
	for _, tt := range tests {
		c, ok := candidates.LookupCountry(tt.iso)
		if assert.True(t, ok, tt.iso) {
			assert.Equal(t, tt.name, c.Name)
			assert.GreaterOrEqual(t, c.RadiusKm, tt.minKm, tt.iso)
			assert.LessOrEqual(t, c.RadiusKm, tt.maxKm, tt.iso)
		}
	}
	for _, bad := range []string{"", "D", "DEU", "ZZ", "eu"} {
		_, ok := candidates.LookupCountry(bad)
		assert.False(t, ok, bad)
	}
}

func TestIsDefaultPoint(t *testing.T) {
	assert.True(t, candidates.IsDefaultPoint("US", 37.751, -97.822))
	assert.True(t, candidates.IsDefaultPoint("DE", 51.0, 9.0))
	assert.False(t, candidates.IsDefaultPoint("DE", 50.1109, 8.6821))
	assert.False(t, candidates.IsDefaultPoint("US", 40.7128, -74.006))
}
