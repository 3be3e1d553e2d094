package rdns

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/internal/fold"
)

func TestLookupPlace(t *testing.T) {
	cases := []struct {
		name, region, country string
		want                  string // "Place REGION CC", "" for not found
	}{
		{"Paris", "", "", "Paris IDF FR"},
		{"paris", "", "fr", "Paris IDF FR"},
		{"Paris", "", "US", "Paris TX US"}, // the most populous Paris of the US
		{"Paris", "TX", "US", "Paris TX US"},
		{"Paris", "US-TX", "US", "Paris TX US"},
		{"Paris", "", "JP", ""},
		{"São Paulo", "", "BR", "São Paulo SP BR"},
		{"Sao Paulo", "SP", "BR", "São Paulo SP BR"},
		{"München", "", "", "Munich BY DE"},
		{"Muenchen", "", "DE", "Munich BY DE"},
		{"Munchen", "", "", "Munich BY DE"},
		{"Zürich", "", "", "Zürich ZH CH"},
		{"Kraków", "", "PL", "Kraków MA PL"},
		{"New York", "", "", "New York NY US"},
		{"new-york", "NY", "US", "New York NY US"},
		{"St. Louis", "", "US", "St. Louis MO US"},
		{"Santa Clara", "CA", "US", "Santa Clara CA US"},
		{"London", "", "UK", "London  GB"},
		{"London", "ON", "CA", "London ON CA"},
		{"London", "QC", "CA", ""},
		{"Москва", "", "", ""}, // no ASCII spelling
		{"Nowheresville Sur Mer", "", "FR", ""},
		{"", "", "", ""},
		{"-- !", "", "", ""},
		{strings.Repeat("ä", 200), "", "", ""}, // longer than any name
	}
	for _, tt := range cases {
		p, ok := LookupPlace(tt.name, tt.region, tt.country)
		if tt.want == "" {
			assert.False(t, ok, "%q %q %q gave %+v", tt.name, tt.region, tt.country, p)
			continue
		}
		require.True(t, ok, "%q %q %q", tt.name, tt.region, tt.country)
		assert.Equal(t, tt.want, p.Name+" "+p.Region+" "+p.Country, tt.name)
		assert.NotZero(t, p.Population, tt.name)
		assert.True(t, p.Lat != 0 || p.Lon != 0, tt.name)
	}
}

func TestLookupCode(t *testing.T) {
	cases := []struct {
		code string
		kind HintKind
		top  string // "Place CC" of the best hint, "" for none
	}{
		{"fra", KindIATA, "Frankfurt am Main DE"},
		{"FRA", KindIATA, "Frankfurt am Main DE"},
		{" osl ", KindIATA, "Oslo NO"},
		{"nyc", KindIATA, "New York US"}, // metropolitan code
		{"jfk", KindIATA, "New York US"},
		{"eddf", KindICAO, "Frankfurt am Main DE"},
		{"defra", KindLOCODE, "Frankfurt am Main DE"},
		{"frnkge", KindCLLI, "Frankfurt DE"},
		{"dllstx", KindCLLI, "Dallas US"},
		{"zzz", "", ""},
		{"qqqqzz", "", ""},
		{"fra03", "", ""}, // a code alone, not a router label
		{"fr", "", ""},
		{"", "", ""},
	}
	for _, tt := range cases {
		hs := LookupCode(tt.code)
		if tt.top == "" {
			assert.Empty(t, hs, tt.code)
			continue
		}
		require.NotEmpty(t, hs, tt.code)
		assert.Equal(t, tt.kind, hs[0].Kind, tt.code)
		assert.Equal(t, tt.top, hs[0].Place+" "+hs[0].Country, tt.code)
		for i := 1; i < len(hs); i++ {
			assert.GreaterOrEqual(t, hs[i-1].Confidence, hs[i].Confidence, tt.code)
		}
	}
}

func TestSpellingsOf(t *testing.T) {
	assert.Equal(t, []string{"muenchen", "munchen"}, spellingsOf("München"))
	assert.Equal(t, []string{"saopaulo"}, spellingsOf("São Paulo"))
	assert.Equal(t, []string{"strasse"}, spellingsOf("Straße"))
	assert.Nil(t, spellingsOf("東京"))
	assert.Nil(t, spellingsOf(" - "))
	// Many umlauts: the variants stay bounded.
	assert.LessOrEqual(t, len(spellingsOf("äöüäöüäöü")), fold.MaxVariants)
}
