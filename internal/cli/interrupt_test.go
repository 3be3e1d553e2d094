package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInterruptWhileReading is issue 16 item 3: parse -, regeo -, hints -
// and report - on a pipe ignored SIGINT and SIGTERM while waiting for
// input. A command reading a pipe whose writer has gone quiet stops when
// the signal's cancellation comes, exits 130 (SIGINT) or 143 (SIGTERM),
// and leaves its -o file as it was.
func TestInterruptWhileReading(t *testing.T) {
	chdirRoot(t)
	sample, err := os.ReadFile("testdata/sample/ntt-tokyo-ipv6-traceroute.txt")
	require.NoError(t, err)
	results := run(t, string(sample), nil, "regeo", "--no-db", "--format", "jsonl", "-")
	require.Equal(t, 0, results.code, results.stderr)
	tests := []struct {
		name  string
		args  []string
		first string // what the writer sends before going quiet
		sig   syscall.Signal
		code  int
	}{
		{"parse", []string{"parse", "-"}, string(sample), syscall.SIGINT, 130},
		{"parse SIGTERM", []string{"parse", "-"}, string(sample), syscall.SIGTERM, 143},
		{"regeo to a file", []string{"regeo", "--no-db", "-", "-o", "OUT/route.kml"}, string(sample), syscall.SIGINT, 130},
		{"regeo SIGTERM", []string{"regeo", "--no-db", "-", "-o", "OUT/route.geojson"}, string(sample), syscall.SIGTERM, 143},
		{"hints", []string{"hints", "-"}, "ae-5.r21.frnkge13.de.bb.gin.ntt.net\n", syscall.SIGINT, 130},
		{"report", []string{"report", "-"}, results.stdout, syscall.SIGINT, 130},
		{"parse in a long bad line", []string{"parse", "--input-format", "ripe-atlas", "-"}, strings.Repeat("x", 1<<20), syscall.SIGINT, 130},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := make([]string, len(tc.args))
			var outFile string
			for i, a := range tc.args {
				args[i] = strings.ReplaceAll(a, "OUT", dir)
				if args[i] != a {
					outFile = args[i]
					require.NoError(t, os.WriteFile(outFile, []byte("the map as it was"), 0o644))
				}
			}
			pr, pw := io.Pipe()
			defer pw.Close()
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			var stdout, stderr bytes.Buffer
			done := make(chan int, 1)
			go func() { done <- Run(ctx, args, pr, &stdout, &stderr, func(string) string { return "" }) }()
			// Write returns once the command has read it all: it is now
			// waiting on a quiet pipe.
			_, err := pw.Write([]byte(tc.first))
			require.NoError(t, err)
			start := time.Now()
			cancel(&Interrupted{Signal: tc.sig})
			select {
			case code := <-done:
				t.Logf("stopped %v after the signal", time.Since(start).Round(time.Microsecond))
				assert.Equal(t, tc.code, code, stderr.String())
			case <-time.After(10 * time.Second):
				t.Fatalf("%v still running 10 s after the signal", tc.args)
			}
			assert.Contains(t, stderr.String(), "geoloc "+tc.args[0]+": interrupted")
			assert.NotContains(t, stderr.String(), "context canceled", "the interruption is said once, plainly")
			if outFile != "" {
				b, err := os.ReadFile(outFile)
				require.NoError(t, err)
				assert.Equal(t, "the map as it was", string(b), "the -o file is left as it was")
				entries, err := os.ReadDir(dir)
				require.NoError(t, err)
				assert.Len(t, entries, 1, "no temporary file left beside it")
			}
		})
	}
}

// TestInterruptBetweenFiles: a signal between two inputs stops before the
// second, and a run a signal stopped never writes its -o file, even when
// every input it read was complete.
func TestInterruptBetweenFiles(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "route.kml")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&Interrupted{Signal: syscall.SIGINT})
	var stdout, stderr bytes.Buffer
	code := Run(ctx, []string{"regeo", "--no-db", "testdata/sample/ntt-tokyo-ipv6-traceroute.txt", "-o", out}, nil, &stdout, &stderr, nil)
	assert.Equal(t, 130, code, stderr.String())
	assert.NoFileExists(t, out)
}
