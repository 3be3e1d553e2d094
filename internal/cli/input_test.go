package cli

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
)

// Compressed inputs are read as they are (RIPE Atlas dumps come as .bz2).
func TestCompressedInput(t *testing.T) {
	chdirRoot(t)
	raw, err := os.ReadFile(sample)
	require.NoError(t, err)
	want := run(t, "", nil, "parse", sample, "-q")
	require.Equal(t, ExitOK, want.code)

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err = zw.Write(raw)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	p := filepath.Join(t.TempDir(), "trace.txt.gz")
	require.NoError(t, os.WriteFile(p, gz.Bytes(), 0o644))
	got := run(t, "", nil, "parse", p, "-q")
	require.Equal(t, ExitOK, got.code, got.stderr)
	assert.Equal(t, want.stdout, got.stdout)
	got = run(t, gz.String(), nil, "parse", "-", "-q")
	assert.Equal(t, want.stdout, got.stdout, "compressed standard input too")

	if bz, err := exec.LookPath("bzip2"); err == nil {
		cmd := exec.Command(bz, "-c")
		cmd.Stdin = bytes.NewReader(raw)
		out, err := cmd.Output()
		require.NoError(t, err)
		got = run(t, string(out), nil, "parse", "-", "-q")
		assert.Equal(t, want.stdout, got.stdout, "bzip2")
	}

	bad := run(t, "\x1f\x8bnot really gzip", nil, "parse", "-")
	assert.Equal(t, ExitPartial, bad.code)
	assert.Contains(t, bad.stderr, "gzip")
}

// --ptr looks names up at the --dns server, and a name found there is read
// for hints like a name in the trace. (Public addresses, since the engine
// never looks up documentation ones; the only packets go to the test's own
// DNS server on loopback.)
func TestRegeoPTR(t *testing.T) {
	addr := startDNS(t, map[string][]string{
		"17.116.115.62.in-addr.arpa.": {"ae-5.r21.frnkge13.de.bb.gin.ntt.net."},
	})
	in := "traceroute to example.org (203.0.113.9), 30 hops max, 60 byte packets\n 1  62.115.116.17  1.932 ms  2.011 ms  2.7 ms\n 2  62.115.116.18  2.5 ms  2.6 ms  2.7 ms\n"
	r := run(t, in, nil, "regeo", "-", "--ptr", "--dns", addr, "--no-db", "-q")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"name":"ae-5.r21.frnkge13.de.bb.gin.ntt.net"`)
	assert.Contains(t, r.stdout, `"city":"Frankfurt"`)
	var res geoloc.TraceResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res))
	require.Len(t, res.Hops, 2)
	assert.Empty(t, res.Hops[1].Name, "no PTR for 62.115.116.18: no name invented")
}

func TestDNSServerAddr(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1":      "127.0.0.1:53",
		"127.0.0.1:5353": "127.0.0.1:5353",
		"::1":            "[::1]:53",
		"[::1]":          "[::1]:53",
		"[::1]:5353":     "[::1]:5353",
		"ns.example":     "ns.example:53",
	} {
		got, err := dnsServerAddr(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := dnsServerAddr("")
	assert.Error(t, err)
}
