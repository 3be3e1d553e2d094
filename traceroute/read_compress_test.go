package traceroute_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/traceroute"
)

func readAll(t *testing.T, in []byte, opts traceroute.ReadOptions) ([]*traceroute.Trace, []error) {
	t.Helper()
	var trs []*traceroute.Trace
	var errs []error
	for tr, err := range traceroute.Read(bytes.NewReader(in), opts) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		trs = append(trs, tr)
	}
	return trs, errs
}

// Read takes gzip, bzip2 and zstd as they come, whatever the name: the
// same traces as the plain file.
func TestReadCompressed(t *testing.T) {
	for _, fixture := range []string{
		"text/jc/generic/traceroute3.out",
		"json/interchange/golden.jsonl",
		"json/mtr-json/mtr_json_1.json",
	} {
		plain, err := os.ReadFile(filepath.Join("testdata", fixture))
		require.NoError(t, err)
		want, wantErrs := readAll(t, plain, traceroute.ReadOptions{})
		require.NotEmpty(t, want)

		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write(plain)
		require.NoError(t, zw.Close())
		enc, err := zstd.NewWriter(nil)
		require.NoError(t, err)
		zst := enc.EncodeAll(plain, nil)
		enc.Close()
		inputs := map[string][]byte{"gzip": gz.Bytes(), "zstd": zst}
		if bz, err := exec.Command("bzip2", "-c", filepath.Join("testdata", fixture)).Output(); err == nil {
			inputs["bzip2 (the bzip2 program)"] = bz
		} else {
			t.Logf("bzip2 not installed (%v): bzip2 case skipped here, internal/decompress tests a bzip2 file", err)
		}
		for name, in := range inputs {
			t.Run(fixture+"/"+name, func(t *testing.T) {
				got, errs := readAll(t, in, traceroute.ReadOptions{Input: "x"})
				assert.Equal(t, want, got)
				assert.Len(t, errs, len(wantErrs))
			})
		}
	}
}

// A compressed input past the size cap stops with one error naming the
// input and the cap; the traces before it still come.
func TestReadDecompressionCap(t *testing.T) {
	line := " 1  gw.example (192.0.2.1)  0.447 ms  0.391 ms  0.5 ms\n"
	var text strings.Builder
	for range 2000 {
		text.WriteString("traceroute to example.org (203.0.113.9), 30 hops max, 60 byte packets\n" + line)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(text.String()))
	require.NoError(t, zw.Close())

	trs, errs := readAll(t, gz.Bytes(), traceroute.ReadOptions{Input: "big.txt.gz", MaxDecompressedBytes: 64 << 10})
	require.NotEmpty(t, errs)
	last := errs[len(errs)-1]
	var le *traceroute.DecompressionLimitError
	require.True(t, errors.As(last, &le), "%v", last)
	assert.Equal(t, int64(64<<10), le.LimitBytes)
	assert.Contains(t, last.Error(), "big.txt.gz:")
	assert.Contains(t, last.Error(), "gzip: decompressed data exceeds the 64 KiB cap")
	assert.Greater(t, len(trs), 100, "the traces before the cap are read")
	assert.Less(t, len(trs), 2000)

	// Negative: no size cap.
	trs, errs = readAll(t, gz.Bytes(), traceroute.ReadOptions{MaxDecompressedBytes: -1})
	assert.Empty(t, errs)
	assert.Len(t, trs, 2000)
}

// A bomb (1 MiB of gzip expanding to 1 GiB) fails fast: the ratio cap stops
// it after 64 MiB, with an error that says so.
func TestReadDecompressionBomb(t *testing.T) {
	member := func(b []byte) []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(b)
		require.NoError(t, zw.Close())
		return buf.Bytes()
	}
	// A real header, then about 1 MiB of gzip members holding 1 GiB of
	// blank lines (skipped without a word: the cost is the
	// decompression; a line without end would make the reader give up
	// at 16 MiB before the ratio cap is reached).
	bomb := member([]byte("traceroute to example.org (203.0.113.9), 30 hops max, 60 byte packets\n"))
	bomb = append(bomb, bytes.Repeat(member(bytes.Repeat([]byte("\n"), 1<<20)), 1024)...)
	require.Less(t, len(bomb), 2<<20)
	_, errs := readAll(t, bomb, traceroute.ReadOptions{Input: "bomb.gz"})
	require.NotEmpty(t, errs)
	last := errs[len(errs)-1]
	var le *traceroute.DecompressionLimitError
	require.True(t, errors.As(last, &le), "%v", last)
	assert.LessOrEqual(t, le.Out, int64(65<<20), "stopped right after the 64 MiB floor")
	assert.Contains(t, last.Error(), "bomb.gz:")
	assert.Contains(t, last.Error(), "ratio cap")
}

// Library errors speak of the library, not of CLI flags.
func TestReadUnknownFormatWords(t *testing.T) {
	_, errs := readAll(t, []byte("hello world\nthis is not a traceroute\n"), traceroute.ReadOptions{})
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], traceroute.ErrUnknownFormat)
	assert.NotContains(t, errs[0].Error(), "--")
	assert.Contains(t, errs[0].Error(), "ReadOptions.Format")
}
