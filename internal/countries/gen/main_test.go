package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReproducible regenerates the embedded files from the shared source
// data and checks they equal the committed ones, so what is embedded is
// what the committed generator makes.
func TestReproducible(t *testing.T) {
	src := "../../../../shared/data/countries"
	if _, err := os.Stat(filepath.Join(src, "countries-50m.json")); err != nil {
		t.Skip("source data ../shared/data/countries not present")
	}
	out := t.TempDir()
	require.NoError(t, run(src, out))
	for _, name := range []string{"outlines-50m.bin", "outlines-110m.bin", "countries.tsv"} {
		want, err := os.ReadFile(filepath.Join("..", name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
		assert.True(t, string(want) == string(got), "%s differs from the generator's output; run go generate ./internal/countries", name)
	}
}

func TestStitch(t *testing.T) {
	arcs := [][][2]int64{
		{{0, 0}, {1, 0}, {1, 1}},
		{{1, 1}, {0, 1}, {0, 0}},
	}
	assert.Equal(t, ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}}, stitch(arcs, []int{0, 1}))
	// ~1 is arc 1 reversed.
	assert.Equal(t, ring{{0, 0}, {0, 1}, {1, 1}}, stitch(arcs, []int{^1}))
}
