// Package examples holds complete programs built on geoloc's library; the
// README shows each of them in full.
package examples

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README shows every example program as it is: an edit to one and not
// the other fails here.
func TestREADMEShowsEachProgram(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	mains, err := filepath.Glob(filepath.Join("*", "main.go"))
	require.NoError(t, err)
	require.Len(t, mains, 3)
	for _, m := range mains {
		src, err := os.ReadFile(m)
		require.NoError(t, err)
		assert.Contains(t, string(readme), "```go\n"+strings.TrimRight(string(src), "\n")+"\n```", "README.md does not show %s as it is", m)
	}
}
