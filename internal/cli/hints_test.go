package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGoldenHints(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		stdin string
	}{
		{"hints-args", []string{"hints", "be3.agr21.fra03.atlas.cogentco.com", "ae-5.r21.frnkge13.de.bb.gin.ntt.net", "dsl-pool-42.example.net"}, ""},
		{"hints-stdin-table", []string{"hints", "-", "--format", "table"}, "xe-0-0-14-1.a02.tokyjp05.jp.bb.gin.ntt.net\n# comment\n\n62.115.116.17 ffm-b4-link.ip.twelve99.net\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.stdin, nil, tt.args...)
			assert.Equal(t, ExitOK, r.code, r.stderr)
			golden(t, tt.name, tt.args, r)
		})
	}
}

func TestHintsShape(t *testing.T) {
	r := run(t, "", nil, "hints", "be3.agr21.fra03.atlas.cogentco.com", "host-1-2-3-4.example.com")
	require.Equal(t, ExitOK, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 2)
	var l struct {
		Name  string           `json:"name"`
		Hints []map[string]any `json:"hints"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &l))
	assert.Equal(t, "be3.agr21.fra03.atlas.cogentco.com", l.Name)
	require.NotEmpty(t, l.Hints)
	assert.Equal(t, "fra", l.Hints[0]["code"])
	assert.Equal(t, "DE", l.Hints[0]["country"])
	assert.Contains(t, lines[1], `"hints":[]`, "a name without hints still gets its line, with [] rather than null")
}
