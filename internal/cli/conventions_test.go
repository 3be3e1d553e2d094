package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An operator no built-in convention knows, with the convention a
// conventions file gives it.
const testConventions = `{
  "format": "geoloc-conventions/1",
  "domains": [
    {"domain": "bb.example-carrier.net", "operator": "Example Carrier", "pattern": "^(?P<loc>[a-z]+)-bb\\d+$", "sources": ["test"]}
  ],
  "entries": [
    {"domain": "bb.example-carrier.net", "code": "win", "place": {"name": "Vienna", "country": "AT", "lat": 48.208, "lon": 16.372}, "source": "test"}
  ]
}
`

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func TestConventionsFlag(t *testing.T) {
	conv := writeTemp(t, "conv.json", testConventions)
	const name = "win-bb1.bb.example-carrier.net"
	firstHint := func(r result) map[string]any {
		t.Helper()
		require.Equal(t, ExitOK, r.code, r.stderr)
		var l struct {
			Hints []map[string]any `json:"hints"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &l))
		require.NotEmpty(t, l.Hints)
		return l.Hints[0]
	}
	// Without the file: Winton airport, Australia; with it: Vienna.
	assert.Equal(t, "AU", firstHint(run(t, "", nil, "hints", name))["country"])
	h := firstHint(run(t, "", nil, "hints", "--conventions", conv, name))
	assert.Equal(t, "Vienna", h["place"])
	assert.Equal(t, "operator-site", h["kind"])
	assert.Equal(t, "Example Carrier site code win: Vienna, AT (source: test)", h["why"])

	// The engine reads names with it too.
	trace := writeTemp(t, "t.txt", "traceroute to 192.0.2.9 (192.0.2.9), 30 hops max, 60 byte packets\n"+
		" 1  "+name+" (62.115.0.1)  1.201 ms  1.100 ms  1.300 ms\n")
	r := run(t, "", nil, "regeo", "--no-db", "--from", "48.2,16.4", "--conventions", conv, trace)
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"city":"Vienna"`)

	// A bad file: its name and line, exit 1, nothing written.
	bad := writeTemp(t, "bad.json", strings.Replace(testConventions, `"lat": 48.208`, `"lat": 148.208`, 1))
	r = run(t, "", nil, "hints", "--conventions", bad, name)
	assert.Equal(t, ExitPartial, r.code)
	assert.Empty(t, r.stdout)
	assert.Equal(t, "geoloc hints: "+bad+`:7: conventions: entry 1 ("bb.example-carrier.net" "win"): place: coordinates 148.208,16.372 off the Earth`+"\n", r.stderr)
	r = run(t, "", nil, "regeo", "--no-db", "--conventions", filepath.Join(t.TempDir(), "missing.json"), trace)
	assert.Equal(t, ExitPartial, r.code)
	assert.Contains(t, r.stderr, "missing.json: cannot open")
	r = run(t, "", nil, "hints", "--conventions", trace, name)
	assert.Equal(t, ExitPartial, r.code)
	assert.Contains(t, r.stderr, "t.txt:1: conventions: not a conventions file")
}
