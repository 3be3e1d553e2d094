package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStdoutIsFile(t *testing.T) {
	regular, err := os.Create(filepath.Join(t.TempDir(), "out.jsonl"))
	require.NoError(t, err)
	defer regular.Close()
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer devNull.Close()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	tests := []struct {
		name string
		w    io.Writer
		want bool
	}{
		{"regular file", regular, true},
		{"/dev/null", devNull, true},
		{"pipe: read live", w, false},
		{"not a file", &bytes.Buffer{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, stdoutIsFile(tt.w))
		})
	}
}

// TestBufferedStdoutSameLines runs regeo into a regular file (buffered) and
// into a pipe (a line at a time): the same JSON Lines, all of them.
func TestBufferedStdoutSameLines(t *testing.T) {
	chdirRoot(t)
	args := []string{"regeo", "--no-db", "--ptr=false", "-q", "--format", "jsonl",
		"testdata/sample/ntt-tokyo-ipv6-traceroute.txt", "testdata/sample/ntt-tokyo-ipv6-traceroute.txt"}
	f, err := os.Create(filepath.Join(t.TempDir(), "out.jsonl"))
	require.NoError(t, err)
	var errb bytes.Buffer
	require.Equal(t, 0, Run(context.Background(), args, nil, f, &errb, nil), errb.String())
	require.NoError(t, f.Close())
	fromFile, err := os.ReadFile(f.Name())
	require.NoError(t, err)

	r, w, err := os.Pipe()
	require.NoError(t, err)
	got := make(chan []byte)
	go func() {
		var b bytes.Buffer
		_, _ = b.ReadFrom(r)
		got <- b.Bytes()
	}()
	require.Equal(t, 0, Run(context.Background(), args, nil, w, &errb, nil), errb.String())
	require.NoError(t, w.Close())
	fromPipe := <-got
	require.NoError(t, r.Close())

	assert.Equal(t, 2, bytes.Count(fromFile, []byte("\n")))
	assert.Equal(t, string(fromPipe), string(fromFile))
}
