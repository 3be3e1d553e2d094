package fold

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVariants(t *testing.T) {
	for in, want := range map[string][]string{
		"paris":     {"paris"},
		"münchen":   {"muenchen", "munchen"},
		"são paulo": {"sao paulo"},
		"københavn": {"kobenhavn", "koebenhavn"},
		"straße":    {"strasse"},
		"kraków":    {"krakow"},
		"st. louis": {"st. louis"},
		"東京":        nil,
		"":          {""},
	} {
		assert.Equal(t, want, Variants(in), in)
	}
	assert.Len(t, Variants("äöüäöüäöü"), MaxVariants)
}

func TestBase(t *testing.T) {
	for r, want := range map[rune]string{'ü': "u", 'ß': "ss", 'æ': "ae", 'ø': "o", 'å': "a", 'ł': "l", 'ș': "s"} {
		got, ok := Base(r)
		assert.True(t, ok, string(r))
		assert.Equal(t, want, got, string(r))
	}
	_, ok := Base('東')
	assert.False(t, ok)
}
