package cli

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/traceroute"
)

func TestGoldenParse(t *testing.T) {
	chdirRoot(t)
	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
	}{
		{"parse-sample", []string{"parse", sample}, "", ExitOK},
		{"parse-stdin", []string{"parse", "-"}, "traceroute to example.org (203.0.113.9), 30 hops max, 60 byte packets\n 1  gw.example (192.0.2.1)  0.447 ms  0.391 ms *\n 2  198.51.100.1  1.932 ms !H  2.011 ms  2.7 ms\n", ExitOK},
		{"parse-garbage-empty-missing", []string{"parse", "-", "testdata/sample/missing.txt", sample}, "this is not traceroute output\nat all\n", ExitPartial},
		{"parse-empty", []string{"parse", "-q", "-"}, "", ExitPartial},
		{"parse-binary", []string{"parse", "-"}, "\x00\x01\x02\x03binary", ExitPartial},
		{"parse-formats", []string{"parse", "--formats"}, "", ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.stdin, nil, tt.args...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			golden(t, tt.name, tt.args, r)
		})
	}
}

// What parse writes reads back as the same traces (interchange round trip
// through the command line).
func TestParseRoundTrip(t *testing.T) {
	chdirRoot(t)
	first := run(t, "", nil, "parse", sample, "-q")
	require.Equal(t, ExitOK, first.code, first.stderr)
	second := run(t, first.stdout, nil, "parse", "-", "-q")
	require.Equal(t, ExitOK, second.code, second.stderr)
	assert.Equal(t, first.stdout, second.stdout)
	var n int
	for tr, err := range traceroute.Read(strings.NewReader(second.stdout), traceroute.ReadOptions{Format: traceroute.FormatGeoloc}) {
		require.NoError(t, err)
		assert.Len(t, tr.Hops, 9)
		n++
	}
	assert.Equal(t, 1, n)
}
