package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// report reads what regeo wrote: the two commands chain.
func TestGoldenReport(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	results := filepath.Join(dir, "results.jsonl")
	r := run(t, "", nil, "regeo", sample, "--db", "testdata/mmdb/GeoLite2-City-Test.mmdb", "-o", results)
	require.Equal(t, ExitOK, r.code, r.stderr)
	b, err := os.ReadFile(results)
	require.NoError(t, err)
	bad := filepath.Join(dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, append([]byte("{\"not\":\"a result\"}\nnot json\n"), b...), 0o644))

	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
	}{
		{"report-table", []string{"report", "-"}, string(b), ExitOK},
		{"report-json", []string{"report", "--format", "json", "-"}, string(b) + string(b), ExitOK},
		{"report-bad-lines", []string{"report", "-", "-q"}, "{\"not\":\"a result\"}\nnot json\n" + string(b), ExitPartial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.stdin, nil, tt.args...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			golden(t, tt.name, tt.args, r)
		})
	}
	r = run(t, "", nil, "report", "--format", "json", bad)
	assert.Equal(t, ExitPartial, r.code)
	var rep struct {
		Destinations int `json:"destinations"`
		Methods      []struct {
			Method string `json:"method"`
			Hops   int    `json:"hops"`
		} `json:"methods"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	assert.Equal(t, 1, rep.Destinations)
	assert.NotEmpty(t, rep.Methods)
	assert.Contains(t, r.stderr, bad+":1: results: no \"hops\"")
	assert.Contains(t, r.stderr, bad+":2: results: invalid character")
}
