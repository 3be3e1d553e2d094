package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	log.SetOutput(io.Discard) // the generator's progress lines
	os.Exit(m.Run())
}

func TestSpellings(t *testing.T) {
	cases := map[string][]string{
		"München":                  {"muenchen", "munchen"},
		"Frankfurt am Main":        {"frankfurtammain", "frankfurt"},
		"St. Louis":                {"stlouis", "saintlouis"},
		"'s-Gravenhage (Den Haag)": {"denhaag"},
		"Zürich":                   {"zuerich", "zurich"},
		"Kraków":                   {"krakow"},
		"Düsseldorf":               {"duesseldorf", "dusseldorf"},
	}
	for name, want := range cases {
		got := spellings(name)
		for _, w := range want {
			assert.Contains(t, got, w, name)
		}
	}
	assert.Empty(t, spellings("東京"))
	assert.Empty(t, spellings(""))
}

func TestNameWords(t *testing.T) {
	for in, want := range map[string]string{
		"Zürich": "zurich", "St. Louis": "st louis", "Xi’an": "xi an", "Palo Alto": "palo alto",
		"Frankfurt am Main": "frankfurt am main", "Ōsaka": "osaka", "Ålesund": "alesund",
	} {
		assert.Equal(t, want, nameWords(in), in)
	}
}

func TestParseLocodeCoord(t *testing.T) {
	lat, lon, ok := parseLocodeCoord("5007N 00841E")
	require.True(t, ok)
	assert.InDelta(t, 50.1167, lat, 1e-3)
	assert.InDelta(t, 8.6833, lon, 1e-3)
	lat, lon, ok = parseLocodeCoord("3352S 15112W")
	require.True(t, ok)
	assert.InDelta(t, -33.8667, lat, 1e-3)
	assert.InDelta(t, -151.2, lon, 1e-3)
	for _, bad := range []string{"", "5007N", "5007X 00841E", "5099N 00841E", "9100N 00000E", "50a7N 00841E", "5007N 18100E"} {
		_, _, ok := parseLocodeCoord(bad)
		assert.False(t, ok, bad)
	}
}

func readGz(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	require.NoError(t, err)
	b, err := io.ReadAll(zr)
	require.NoError(t, err)
	return string(b)
}

// The generator is deterministic and reads each input as documented.
func TestRunFixtures(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	require.NoError(t, run("testdata/data", a))
	require.NoError(t, run("testdata/data", b))
	files, err := filepath.Glob(filepath.Join(a, "*.tsv.gz"))
	require.NoError(t, err)
	require.Len(t, files, 6)
	for _, f := range files {
		x, err := os.ReadFile(f)
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(b, filepath.Base(f)))
		require.NoError(t, err)
		assert.Equal(t, x, y, "%s differs between two runs", filepath.Base(f))
	}

	places := readGz(t, filepath.Join(a, "places.tsv.gz"))
	var munich, vienna string
	for _, line := range strings.Split(places, "\n") {
		switch {
		case strings.HasPrefix(line, "Munich\t"):
			munich = line
		case strings.HasPrefix(line, "Vienna\tAT"):
			vienna = line
		}
	}
	require.NotEmpty(t, munich)
	f := strings.Split(munich, "\t")
	require.Len(t, f, 8)
	assert.Equal(t, "BY", f[2], "region from the admin name Bavaria")
	assert.Contains(t, strings.Fields(f[6]), "muenchen", "native name from UN/LOCODE (Latin-1 München)")
	assert.Contains(t, strings.Fields(f[6]), "munchen")
	assert.Equal(t, "munich", f[7])
	require.NotEmpty(t, vienna)
	assert.Contains(t, strings.Fields(strings.Split(vienna, "\t")[6]), "wien", "LOCODE without coordinates, linked through airport VIE")

	airports := readGz(t, filepath.Join(a, "airports.tsv.gz"))
	assert.Contains(t, airports, "fra\teddf\tFrankfurt am Main\tDE\tHE\t50.027\t8.558\t3\t764104\n")
	locodes := readGz(t, filepath.Join(a, "locodes.tsv.gz"))
	assert.Contains(t, locodes, "defra\tFrankfurt am Main\tHE\t50.12\t8.68\t")
	assert.Contains(t, locodes, "demuc\tMünchen\tBY\t")
	metros := readGz(t, filepath.Join(a, "metros.tsv.gz"))
	assert.Contains(t, metros, "nyc\tNew York\tUS\t")
}

func TestRunMissingInput(t *testing.T) {
	err := run(t.TempDir(), t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ourairports-countries.csv")
}

func TestIsAirportName(t *testing.T) {
	for name, want := range map[string]bool{
		"Charles de Gaulle Apt/Paris": true, "Heathrow Apt/London": true, "Flughafen Wien": true,
		"Köln": false, "Praha": false, "Aptos": false, "Warszawa": false,
	} {
		if got := isAirportName(name); got != want {
			t.Errorf("isAirportName(%q) = %v", name, got)
		}
	}
}
