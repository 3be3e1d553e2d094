package candidates

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/geoloc-dev/geoloc/internal/decompress"
)

// ErrUnknownFormat is returned (wrapped) by Open for a file that is none of
// the supported kinds.
var ErrUnknownFormat = errors.New("unknown database format")

// mmdbMarker starts the metadata section of every MaxMind DB file.
var mmdbMarker = []byte("\xab\xcd\xefMaxMind.com")

// MaxDecompressedBytes caps what Open inflates from a compressed database:
// the largest real GeoIP databases are a few hundred MiB, and a compressed
// MaxMind DB is held whole in memory. Past it, or past a 100:1 ratio of
// decompressed to compressed bytes after the first 16 MiB (real MaxMind DB
// files compress 2 to 4 times, CSV tables 5 to 10), opening fails with an
// error naming the cap: a decompression bomb stops after 16 MiB.
const MaxDecompressedBytes = 1 << 30

// Ratio cap on compressed databases (see MaxDecompressedBytes).
const (
	maxDBRatio        = 100
	dbRatioFloorBytes = 16 << 20
)

// Open opens a database of any supported kind, recognised from its content
// (not its name): a MaxMind DB file of any schema OpenMMDB knows, an ASN
// range table (ip-location-db CSV, iptoasn TSV, IPinfo ASN CSV) or an RFC
// 8805 geofeed; each may be compressed with gzip, bzip2 or zstd (see
// MaxDecompressedBytes). The returned Source may hold
// a file mapping: close it with CloseSource when done.
func Open(path string) (Source, error) {
	return OpenWith(path, OpenOptions{})
}

// OpenWith is Open with options (a PlaceResolver for geofeeds).
func OpenWith(path string, opts OpenOptions) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	if decompress.Sniff(head[:n]) != decompress.None {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		dr, err := newDecompressor(f, path)
		if err != nil {
			return nil, err
		}
		defer dr.Close()
		br := bufio.NewReaderSize(dr, 1<<16)
		if sniffText(br) != textUnknown {
			// Text tables are read as a stream, never held whole.
			return openText(br, path, opts)
		}
		b, err := io.ReadAll(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return openBytes(b, path, opts)
	}
	if isMMDBFile(f) {
		return OpenMMDB(path)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return openText(bufio.NewReaderSize(f, 1<<16), path, opts)
}

func isMMDBFile(f *os.File) bool {
	st, err := f.Stat()
	if err != nil {
		return false
	}
	const tail = 128 << 10
	off := max(st.Size()-tail, 0)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	return bytes.Contains(buf, mmdbMarker)
}

func openBytes(b []byte, name string, opts OpenOptions) (Source, error) {
	tail := b[max(len(b)-128<<10, 0):]
	if bytes.Contains(tail, mmdbMarker) {
		return OpenMMDBBytes(b, name)
	}
	return openText(bufio.NewReader(bytes.NewReader(b)), name, opts)
}

// textKind sniffs the first data lines of a text database.
type textKind int

const (
	textUnknown textKind = iota
	textASN              // start,end,asn,org (CSV or TSV, with or without a header)
	textGeofeed          // prefix,country,region,city,postal
)

// sniffLines is how many data lines sniffText looks at: a geofeed may
// start with a header or a bad line, which RFC 8805 §3 has a reader skip.
const sniffLines = 8

func sniffText(br *bufio.Reader) textKind {
	peek, _ := br.Peek(64 << 10)
	n := 0
	for line := range strings.Lines(string(peek)) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if n++; n > sniffLines {
			break
		}
		sep := ","
		if strings.Contains(line, "\t") {
			sep = "\t"
		}
		fields := strings.Split(line, sep)
		f0 := strings.Trim(strings.TrimSpace(fields[0]), `"`)
		if strings.EqualFold(f0, "start_ip") || strings.EqualFold(f0, "range_start") || strings.EqualFold(f0, "start") {
			return textASN // header of an IPinfo/ip-location-db style range file
		}
		if n == 1 && strings.Contains(f0, "/") {
			return textGeofeed
		}
		if _, err := netip.ParsePrefix(f0); err == nil && sep == "," {
			return textGeofeed // past a first line that was none
		}
		if len(fields) >= 3 {
			_, _, ok0 := parseRangeBound(f0)
			_, _, ok1 := parseRangeBound(strings.Trim(strings.TrimSpace(fields[1]), `"`))
			as := strings.Trim(strings.TrimSpace(fields[2]), `"`)
			if ok0 && ok1 && (parseASN(as) != 0 || as == "0" || as == "") {
				return textASN
			}
		}
	}
	return textUnknown
}

func openText(br *bufio.Reader, name string, opts OpenOptions) (Source, error) {
	switch sniffText(br) {
	case textASN:
		return readASNTable(br, name)
	case textGeofeed:
		return readGeofeed(br, name, GeofeedOptions{Places: opts.Places, Logger: opts.Logger})
	}
	return nil, fmt.Errorf("%s: %w (not an MMDB, ASN range CSV/TSV or RFC 8805 geofeed)", name, ErrUnknownFormat)
}

// CloseSource releases what a Source from Open holds (the MMDB mapping); it
// is a no-op for sources that hold nothing.
func CloseSource(s Source) error {
	if c, ok := s.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// newDecompressor opens the decompressed stream of a compressed database,
// capped (MaxDecompressedBytes); errors name the file.
func newDecompressor(r io.Reader, path string) (io.ReadCloser, error) {
	dr, err := decompress.NewReader(r, decompress.Options{MaxBytes: MaxDecompressedBytes, MaxRatio: maxDBRatio, RatioFloorBytes: dbRatioFloorBytes})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return dr, nil
}
