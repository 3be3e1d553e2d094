package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endlessInput is an input that never ends: unit again and again.
type endlessInput struct {
	unit []byte
	off  int
	read int
}

func (e *endlessInput) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], e.unit[e.off:])
		e.off = (e.off + c) % len(e.unit)
		n += c
	}
	e.read += n
	return n, nil
}

// TestEndlessStdinGivesUp is issue 16 item 4 for the CLI's own line
// readers: hints - and report - on /dev/zero or one endless line spun for
// good. They give up with one FILE:LINE line, exit 1, having read a bounded
// amount.
func TestEndlessStdinGivesUp(t *testing.T) {
	tests := []struct {
		args []string
		unit string
		want string
	}{
		{[]string{"hints", "-"}, "\x00", "-:1: no line end in 17 MiB: giving up"},
		{[]string{"hints", "-"}, "a", "-:1: no line end in 17 MiB: giving up"},
		{[]string{"report", "-"}, "a", "-:1: results: no line end in 48 MiB: giving up"},
		{[]string{"report", "-"}, "\x00", "-:1: results: binary data"},
		{[]string{"parse", "-"}, "\x00", "-:1: input: binary data"},
		{[]string{"parse", "--input-format", "linux-traceroute", "-"}, "\x00", "-:1: linux-traceroute: giving up: no line end in 16 MiB"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " ")+" "+strings.ReplaceAll(tc.unit, "\x00", "NUL"), func(t *testing.T) {
			in := &endlessInput{unit: []byte(tc.unit)}
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), tc.args, in, &stdout, &stderr, nil)
			assert.Equal(t, ExitPartial, code, stderr.String())
			require.Contains(t, stderr.String(), tc.want)
			assert.Less(t, in.read, 100<<20)
		})
	}
}
