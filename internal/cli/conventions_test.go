package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/rdns"
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

// learnTrace is a traceroute from Chicago through an operator whose codes
// no dictionary knows: Chicago, Detroit, Indianapolis, Omaha, with RTTs
// light in fibre allows from Chicago.
func learnTrace(n int) string {
	return fmt.Sprintf(`traceroute to 203.0.113.9 (203.0.113.9), 30 hops max, 60 byte packets
 1  ae-%[1]d.chcg-b%[1]d-link.ip.example-carrier.net (62.115.0.%[1]d)  0.801 ms  0.700 ms  0.900 ms
 2  ae-%[1]d.dtrt-b%[1]d-link.ip.example-carrier.net (62.115.3.%[1]d)  5.001 ms  5.100 ms  5.200 ms
 3  ae-%[1]d.ipls-b%[1]d-link.ip.example-carrier.net (62.115.1.%[1]d)  9.201 ms  9.100 ms  9.300 ms
 4  ae-%[1]d.omha-b%[1]d-link.ip.example-carrier.net (62.115.2.%[1]d)  16.401 ms  16.300 ms  16.500 ms
`, n)
}

func TestLearn(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i := 1; i <= 2; i++ {
		p := filepath.Join(dir, fmt.Sprintf("t%d.txt", i))
		require.NoError(t, os.WriteFile(p, []byte(learnTrace(i)), 0o644))
		files = append(files, p)
	}
	conv := filepath.Join(dir, "conv.json")
	r := run(t, "", nil, append([]string{"learn", "--no-db", "--from", "41.88,-87.63", "-o", conv}, files...)...)
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Empty(t, r.stdout)
	assert.Equal(t, "2 traces read; learned 4 codes in 1 domain, 0 codes rejected (reasons in the file)\n", r.stderr)
	f, err := os.Open(conv)
	require.NoError(t, err)
	c, err := rdns.ReadConventions(f, conv)
	f.Close()
	require.NoError(t, err)
	got := map[string]string{}
	for _, e := range c.Entries {
		assert.Equal(t, "example-carrier.net", e.Domain)
		assert.Equal(t, 2, e.Support, e.Code)
		got[e.Code] = e.Place.Name
	}
	assert.Equal(t, map[string]string{"chcg": "Chicago", "ipls": "Indianapolis", "omha": "Omaha", "dtrt": "Detroit"}, got)

	// What was learned reads names never seen.
	r = run(t, "", nil, "hints", "--conventions", conv, "ae-9.ipls-b9-link.ip.example-carrier.net")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"place":"Indianapolis"`)
	assert.Contains(t, r.stdout, `"kind":"operator-site"`)

	// regeo --fuse learns in its first pass and places the hops with it.
	r = run(t, "", nil, append([]string{"regeo", "--fuse", "--no-db", "--from", "41.88,-87.63"}, files...)...)
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"city":"Omaha"`)
	assert.Contains(t, r.stdout, `"source":"rdns:omha","kind":"hint:operator-site"`)

	// To standard output; a bad input is reported, the good ones still
	// count, exit 1.
	bad := filepath.Join(dir, "bad.txt")
	require.NoError(t, os.WriteFile(bad, []byte("not a traceroute\n"), 0o644))
	r = run(t, "", nil, append([]string{"learn", "--no-db", "-q", "--from", "41.88,-87.63", bad}, files...)...)
	assert.Equal(t, ExitPartial, r.code)
	assert.Contains(t, r.stderr, "bad.txt")
	assert.Contains(t, r.stdout, `"format": "geoloc-conventions/1"`)
	assert.Contains(t, r.stdout, `"code":"omha"`)

	// Usage errors.
	r = run(t, "", nil, "learn")
	assert.Equal(t, ExitUsage, r.code)
	assert.Contains(t, r.stderr, "no input")
	r = run(t, "", nil, "learn", "-")
	assert.Equal(t, ExitUsage, r.code)
	r = run(t, "", nil, "learn", "--no-db", filepath.Join(dir, "missing.txt"))
	assert.Equal(t, ExitPartial, r.code)
	assert.Contains(t, r.stderr, "missing.txt: cannot open")
}
