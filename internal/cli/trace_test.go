package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
)

// Live tracing only ever targets loopback here (network safety rule); the
// tracer's own tests cover real paths in namespaces they build.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live tracing needs root or CAP_NET_RAW; CI runs as root")
	}
}

func TestTraceLoopback(t *testing.T) {
	needRoot(t)
	r := run(t, "", nil, "trace", "127.0.0.1", "--raw", "--max-ttl", "3", "-q")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"destination":{"addr":"127.0.0.1"}`)
	assert.Contains(t, r.stdout, `"format":"geoloc"`)

	r = run(t, "", nil, "trace", "127.0.0.1", "--no-db", "--ptr=false", "--max-ttl", "3")
	require.Equal(t, ExitOK, r.code, r.stderr)
	var res geoloc.TraceResult
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(r.stdout)), &res))
	require.Len(t, res.Hops, 1)
	assert.Nil(t, res.Hops[0].Location, "loopback is never looked up")
	assert.Contains(t, r.stderr, "1 trace located")
}

func TestTraceUsage(t *testing.T) {
	for _, args := range [][]string{
		{"trace"},
		{"trace", "-I", "-T", "127.0.0.1"},
		{"trace", "-4", "-6", "127.0.0.1"},
		{"trace", "--protocol", "sctp", "127.0.0.1"},
		{"trace", "--max-ttl", "0", "127.0.0.1"},
	} {
		r := run(t, "", nil, args...)
		assert.Equal(t, ExitUsage, r.code, "%v: %s", args, r.stderr)
	}
}

// geoloc har without --list: every address of every host (recorded and
// resolved through a loopback DNS server) is traced, and one combined map
// is written.
func TestHARTraceLoopback(t *testing.T) {
	needRoot(t)
	dnsAddr := startDNS(t, map[string][]string{"a.test.": {"127.0.0.2"}})
	dir := t.TempDir()
	harPath := filepath.Join(dir, "page.har")
	require.NoError(t, os.WriteFile(harPath, []byte(`{"log":{"entries":[
		{"request":{"url":"http://a.test/"},"serverIPAddress":"127.0.0.1"},
		{"request":{"url":"http://b.test/x"},"serverIPAddress":"[::1]"}]}}`), 0o644))
	kml := filepath.Join(dir, "page.kml")
	r := run(t, "", nil, "har", harPath, "--dns", dnsAddr, "--no-db", "--ptr=false", "--max-ttl", "3", "-o", kml)
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "b.test: no such host (tracing the addresses the HAR recorded)")
	assert.Contains(t, r.stderr, "3 traces located")
	k := parseKML(t, kml)
	assert.Equal(t, 3, k.folders, "one folder per traced address, in one map")
}
