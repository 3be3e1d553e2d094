package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The dictionaries committed under rdns/dictdata are what the generator
// makes from the shared reference data. It runs under -race too (about 11 s
// there): CI runs only -race, and a copy of shared/ sits beside its clone.
// Skipped where that data is absent and in -short runs.
func TestCommittedDataIsFresh(t *testing.T) {
	const data = "../../../shared/data"
	if testing.Short() {
		t.Skip("regenerating the dictionaries takes seconds")
	}
	if _, err := os.Stat(data); err != nil {
		t.Skipf("no reference data at %s", data)
	}
	out := t.TempDir()
	require.NoError(t, run(data, out))
	files, err := filepath.Glob(filepath.Join(out, "*.tsv.gz"))
	require.NoError(t, err)
	for _, f := range files {
		got, err := os.ReadFile(f)
		require.NoError(t, err)
		committed, err := os.ReadFile(filepath.Join("../../rdns/dictdata", filepath.Base(f)))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(got, committed), "rdns/dictdata/%s is stale: run go generate ./rdns", filepath.Base(f))
	}
}
