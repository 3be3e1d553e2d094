package decompress

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func gzipped(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	require.NoError(t, err)
	_, err = zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func zstded(t testing.TB, b []byte) []byte {
	zw, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	defer zw.Close()
	return zw.EncodeAll(b, nil)
}

func TestNewReader(t *testing.T) {
	plain, err := os.ReadFile(filepath.Join("testdata", "plain.txt"))
	require.NoError(t, err)
	bz, err := os.ReadFile(filepath.Join("testdata", "plain.txt.bz2"))
	require.NoError(t, err)
	tests := []struct {
		name   string
		in     []byte
		format Format
	}{
		{"plain", plain, None},
		{"gzip", gzipped(t, plain), Gzip},
		{"gzip, two members (cat a.gz b.gz)", append(gzipped(t, plain[:40]), gzipped(t, plain[40:])...), Gzip},
		{"bzip2 (written by bzip2 1.0.8)", bz, Bzip2},
		{"zstd", zstded(t, plain), Zstd},
		{"empty", nil, None},
		{"BZ but no block size is not bzip2", []byte("BZh hello"), None},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.in), Options{})
			require.NoError(t, err)
			defer r.Close()
			assert.Equal(t, tt.format, r.Format())
			got, err := io.ReadAll(r)
			require.NoError(t, err)
			want := plain
			switch tt.name {
			case "empty":
				want = nil
			case "BZ but no block size is not bzip2":
				want = tt.in
			}
			assert.Equal(t, string(want), string(got))
		})
	}
}

func TestNewReaderCorrupt(t *testing.T) {
	_, err := NewReader(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0}), Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gzip:")

	// A valid gzip header over a damaged body fails on Read, naming gzip.
	z := gzipped(t, bytes.Repeat([]byte("hop 1 192.0.2.1 0.4 ms\n"), 100))
	z[len(z)/2] ^= 0xff
	r, err := NewReader(bytes.NewReader(z), Options{})
	require.NoError(t, err)
	_, err = io.ReadAll(r)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "gzip:")
}

// The size cap: exactly MaxBytes passes, one more byte fails with the cap
// named.
func TestMaxBytes(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000)
	for _, tt := range []struct {
		name string
		max  int64
		ok   bool
	}{{"under", 20000, true}, {"exactly", 10000, true}, {"over", 9999, false}} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(zstded(t, data)), Options{MaxBytes: tt.max})
			require.NoError(t, err)
			defer r.Close()
			got, err := io.ReadAll(r)
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, data, got)
				return
			}
			var le *LimitError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, tt.max, le.LimitBytes)
			assert.Len(t, got, int(tt.max), "everything up to the cap is delivered")
			assert.Equal(t, "zstd: decompressed data exceeds the 9999 B cap", err.Error())
		})
	}
	// Plain data is never capped here: its size is the file's own.
	r, err := NewReader(bytes.NewReader(data), Options{MaxBytes: 10})
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Len(t, got, len(data))
}

// A bomb (gzip of zeros, about 1000:1) stops at the ratio floor, long
// before its full size, with an error that says what was hit.
func TestRatioCapStopsBomb(t *testing.T) {
	// 80 gzip members of 1 MiB of zeros each: one compression, repeated.
	bomb := bytes.Repeat(gzipped(t, make([]byte, 1<<20)), DefaultRatioFloorBytes>>20+16)
	r, err := NewReader(bytes.NewReader(bomb), Options{})
	require.NoError(t, err)
	n, err := io.Copy(io.Discard, r)
	var le *LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, float64(DefaultMaxRatio), le.Ratio)
	assert.LessOrEqual(t, n, int64(DefaultRatioFloorBytes+1<<20), "stops right after the floor")
	assert.Contains(t, err.Error(), "over the 250:1 ratio cap")

	// Negative MaxRatio turns the check off.
	r, err = NewReader(bytes.NewReader(bomb), Options{MaxRatio: -1})
	require.NoError(t, err)
	n, err = io.Copy(io.Discard, r)
	require.NoError(t, err)
	assert.Equal(t, int64(DefaultRatioFloorBytes+16<<20), n)
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{900: "900 B", 1536: "1536 B", 2048: "2 KiB", 64 << 20: "64 MiB", 64<<20 + 300<<10: "65836 KiB", 64<<20 + 1: "64.0 MiB", 1 << 30: "1 GiB", 3 << 29: "1536 MiB", 3<<29 + 1: "1.5 GiB"} {
		assert.Equal(t, want, Size(n))
	}
}

func FuzzNewReader(f *testing.F) {
	plain := []byte("traceroute to example.org (203.0.113.9)\n 1  192.0.2.1  0.4 ms\n")
	f.Add(plain)
	f.Add(gzipped(f, plain))
	f.Add(zstded(f, plain))
	if bz, err := os.ReadFile(filepath.Join("testdata", "plain.txt.bz2")); err == nil {
		f.Add(bz)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := NewReader(bytes.NewReader(in), Options{MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		defer r.Close()
		n, err := io.Copy(io.Discard, r)
		if n > 1<<20 {
			t.Fatalf("read %d bytes past the 1 MiB cap", n)
		}
		var le *LimitError
		if errors.As(err, &le) && le.LimitBytes != 1<<20 {
			t.Fatalf("wrong cap reported: %v", err)
		}
	})
}
