package cli

import (
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
)

// --report N traces N rounds and prints mtr-like statistics, targets in
// argument order; -o still gets the located results.
func TestTraceReportLoopback(t *testing.T) {
	needRoot(t)
	kml := filepath.Join(t.TempDir(), "r.kml")
	r := run(t, "", nil, "trace", "127.0.0.3", "127.0.0.1", "--report", "3", "--interval", "0.05", "--no-db", "--ptr=false", "--max-ttl", "3", "-o", kml)
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "trace to 127.0.0.3 (icmp): 3 rounds, 1 of 1 TTLs answered")
	assert.Less(t, strings.Index(r.stdout, "127.0.0.3"), strings.Index(r.stdout, "trace to 127.0.0.1"), "argument order")
	assert.Regexp(t, `(?m)^TTL HOST +LOSS% +SNT +LAST +AVG +BEST +WRST +STDEV +JTTR +FLAGS`, r.stdout)
	assert.Regexp(t, `(?m)^  1 127\.0\.0\.1 +0\.0% +3 `, r.stdout)
	assert.Contains(t, r.stderr, "2 traces located")
	assert.FileExists(t, kml)

	r = run(t, "", nil, "trace", "127.0.0.1", "--report", "2", "--interval", "0.05", "--no-db", "--ptr=false", "--max-ttl", "2", "--format", "jsonl", "-q")
	require.Equal(t, ExitOK, r.code, r.stderr)
	var res geoloc.TraceResult
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(r.stdout)), &res))
	assert.Equal(t, "127.0.0.1", res.Destination.Addr.String())
	assert.Empty(t, r.stderr)
}

// Piped, several targets come out in argument order, not completion order.
func TestTraceArgumentOrder(t *testing.T) {
	needRoot(t)
	r := run(t, "", nil, "trace", "127.0.0.9", "127.0.0.1", "127.0.0.5", "--no-db", "--ptr=false", "--max-ttl", "2", "-q")
	require.Equal(t, ExitOK, r.code, r.stderr)
	var got []string
	for l := range strings.Lines(r.stdout) {
		var res geoloc.TraceResult
		require.NoError(t, json.Unmarshal([]byte(l), &res))
		got = append(got, res.Destination.Addr.String())
	}
	assert.Equal(t, []string{"127.0.0.9", "127.0.0.1", "127.0.0.5"}, got)
}

func TestTraceRoundUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--report", "-1"}, "--report -1"},
		{[]string{"--interval", "0"}, "--interval 0"},
		{[]string{"--interval", "x"}, "interval"},
		{[]string{"--report", "2", "--raw"}, "--report and --raw exclude each other"},
	} {
		r := run(t, "", nil, append([]string{"trace", "127.0.0.1"}, tc.args...)...)
		assert.Equal(t, ExitUsage, r.code, "%v: %s", tc.args, r.stderr)
		assert.Contains(t, r.stderr, tc.want, "%v", tc.args)
	}
}

// Names from /etc/hosts resolve (Go's resolver skips the file for a name
// with a trailing dot, which made "geoloc trace localhost" fail).
func TestLookupHostsFile(t *testing.T) {
	hosts, err := os.ReadFile("/etc/hosts")
	if err != nil || !regexp.MustCompile(`(?m)^127\.0\.0\.1\s.*\blocalhost\b`).Match(hosts) {
		t.Skip("no 127.0.0.1 localhost line in /etc/hosts")
	}
	addrs, err := lookupAddrs(context.Background(), net.DefaultResolver, "localhost", 5*time.Second)
	require.NoError(t, err)
	assert.Contains(t, addrs, netip.MustParseAddr("127.0.0.1"))
}

func TestTraceLocalhost(t *testing.T) {
	needRoot(t)
	if _, err := lookupAddrs(context.Background(), net.DefaultResolver, "localhost", 5*time.Second); err != nil {
		t.Skip("localhost does not resolve here")
	}
	r := run(t, "", nil, "trace", "localhost", "-4", "--no-db", "--ptr=false", "--max-ttl", "2", "-q")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"destination":{"addr":"127.0.0.1","name":"localhost"}`)
}
