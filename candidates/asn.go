package candidates

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ASNTable is a Source of AS data from range files — ip-location-db's
// "start,end,asn,org" CSVs (addresses as text or as integers, the -num
// files), iptoasn's "range_start range_end AS_number country_code
// AS_description" TSVs and IPinfo's ASN CSVs (with their header) — compiled
// at open time into sorted range arrays searched by binary search. One
// table may hold both address families (open the IPv4 and the IPv6 file
// together). It is immutable after opening and safe for concurrent use.
type ASNTable struct {
	name string
	info Info

	v4start, v4end []uint32
	v4rec          []uint32
	// v4idx[h] is the first range whose start's top 16 bits are >= h, so
	// a lookup searches only the ranges of its /16 (and the one before).
	v4idx          []uint32
	v6start, v6end []u128
	v6rec          []uint32

	asns    []uint32 // per AS record
	orgOff  []uint32 // org of record i is orgBlob[orgOff[i]:orgOff[i+1]]
	orgBlob string
}

// u128 is an IPv6 address as two big-endian halves.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

func u128From(a netip.Addr) u128 {
	b := a.As16()
	return u128{hi: beUint64(b[:8]), lo: beUint64(b[8:])}
}

func beUint64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

func (a u128) addr() netip.Addr {
	var b [16]byte
	for i := range 8 {
		b[i] = byte(a.hi >> (56 - 8*i))
		b[8+i] = byte(a.lo >> (56 - 8*i))
	}
	return netip.AddrFrom16(b)
}

// OpenASNTable reads one or more ASN range files (any of the layouts
// ASNTable describes, plain or gzip-compressed) into one table. Its name
// comes from the first file's name without the address family and the
// file's modification month ("asn-2026-06").
func OpenASNTable(paths ...string) (*ASNTable, error) {
	if len(paths) == 0 {
		return nil, errors.New("OpenASNTable: no files")
	}
	b := newASNBuilder()
	var mod time.Time
	for _, p := range paths {
		if err := func() error {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			if st, err := f.Stat(); err == nil && st.ModTime().After(mod) {
				mod = st.ModTime()
			}
			r, err := maybeDecompress(f, p)
			if err != nil {
				return err
			}
			defer r.Close()
			return b.read(bufio.NewReaderSize(r, 1<<16), p)
		}(); err != nil {
			return nil, err
		}
	}
	return b.finish(paths[0], mod), nil
}

// readASNTable reads one already-opened file (from Open).
func readASNTable(r *bufio.Reader, name string) (*ASNTable, error) {
	b := newASNBuilder()
	if err := b.read(r, name); err != nil {
		return nil, err
	}
	var mod time.Time
	if st, err := os.Stat(name); err == nil {
		mod = st.ModTime()
	}
	return b.finish(name, mod), nil
}

type asnBuilder struct {
	// recs maps asn (4 bytes) + org to the record index; keyBuf is the
	// reused lookup key, so that only new records allocate.
	recs   map[string]uint32
	keyBuf []byte
	last   uint32
	asns   []uint32
	orgs   []string
	v4     []range4
	v6     []range6
	split  [][]byte
}

type range4 struct{ start, end, rec uint32 }
type range6 struct {
	start, end u128
	rec        uint32
}

func newASNBuilder() *asnBuilder {
	return &asnBuilder{recs: make(map[string]uint32)}
}

func (b *asnBuilder) rec(asn uint32, org []byte) uint32 {
	// Neighbouring ranges often belong to the same AS.
	if n := len(b.asns); n > 0 && b.asns[b.last] == asn && b.orgs[b.last] == string(org) {
		return b.last
	}
	b.last = b.rec1(asn, org)
	return b.last
}

func (b *asnBuilder) rec1(asn uint32, org []byte) uint32 {
	b.keyBuf = append(b.keyBuf[:0], byte(asn>>24), byte(asn>>16), byte(asn>>8), byte(asn))
	b.keyBuf = append(b.keyBuf, org...)
	if i, ok := b.recs[string(b.keyBuf)]; ok {
		return i
	}
	i := uint32(len(b.asns))
	b.asns = append(b.asns, asn)
	b.orgs = append(b.orgs, string(org))
	b.recs[string(b.keyBuf)] = i
	return i
}

// columns says where the fields are; -1 = absent.
type columns struct{ start, end, asn, org int }

func (b *asnBuilder) read(r *bufio.Reader, name string) error {
	lineNo := 0
	var cols columns
	var sep byte
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("%s:%d: line too long", name, lineNo+1)
		}
		if len(line) > 0 {
			lineNo++
			line = bytes.TrimRight(line, "\r\n")
			if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
				goto next
			}
			if sep == 0 {
				sep = ','
				if bytes.IndexByte(line, '\t') >= 0 {
					sep = '\t'
				}
			}
			fields, perr := splitFields(line, sep, b.split[:0])
			b.split = fields
			if perr != nil {
				return fmt.Errorf("%s:%d: %w", name, lineNo, perr)
			}
			if cols == (columns{}) {
				// First data line: a header, or positional columns.
				if c, ok := headerColumns(fields); ok {
					cols = c
					goto next
				}
				cols = columns{0, 1, 2, 3}
				if sep == '\t' && len(fields) >= 5 {
					cols.org = 4 // iptoasn: start end asn country description
				}
			}
			if err := b.add(fields, cols); err != nil {
				return fmt.Errorf("%s:%d: %w", name, lineNo, err)
			}
		}
	next:
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
	}
	if len(b.v4)+len(b.v6) == 0 {
		return fmt.Errorf("%s: no ASN ranges", name)
	}
	return nil
}

func headerColumns(fields [][]byte) (columns, bool) {
	c := columns{-1, -1, -1, -1}
	for i, f := range fields {
		switch strings.ToLower(strings.TrimSpace(string(f))) {
		case "start_ip", "range_start", "start", "ip_start", "network_start":
			c.start = i
		case "end_ip", "range_end", "end", "ip_end", "network_end":
			c.end = i
		case "asn", "as_number", "autonomous_system_number":
			c.asn = i
		case "name", "as_name", "org", "as_org", "as_description", "autonomous_system_organization":
			if c.org < 0 {
				c.org = i
			}
		}
	}
	if c.start < 0 || c.end < 0 || c.asn < 0 {
		return columns{}, false
	}
	return c, true
}

func (b *asnBuilder) add(f [][]byte, c columns) error {
	need := max(c.start, c.end, c.asn)
	if len(f) <= need {
		return fmt.Errorf("want at least %d fields, have %d", need+1, len(f))
	}
	s, sv6, ok1 := parseRangeBound(string(bytes.TrimSpace(f[c.start])))
	e, ev6, ok2 := parseRangeBound(string(bytes.TrimSpace(f[c.end])))
	if !ok1 || !ok2 {
		return fmt.Errorf("bad address range %q-%q", f[c.start], f[c.end])
	}
	if sv6 != ev6 {
		return fmt.Errorf("range %s-%s mixes address families", s, e)
	}
	if e.Less(s) {
		return fmt.Errorf("range %s-%s ends before it starts", s, e)
	}
	asField := strings.TrimSpace(string(f[c.asn]))
	asn := parseASN(asField)
	if asn == 0 {
		if asField == "" || asField == "0" || strings.EqualFold(asField, "AS0") {
			return nil // not routed / no AS: not an answer
		}
		return fmt.Errorf("bad AS number %q", asField)
	}
	var org []byte
	if c.org >= 0 && c.org < len(f) {
		org = bytes.TrimSpace(f[c.org])
	}
	rec := b.rec(asn, org)
	if !sv6 {
		b.v4 = append(b.v4, range4{start: v4u32(s), end: v4u32(e), rec: rec})
	} else {
		b.v6 = append(b.v6, range6{start: u128From(s), end: u128From(e), rec: rec})
	}
	return nil
}

func v4u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// parseRangeBound reads an address as text ("1.0.0.0", "2001::") or as an
// integer (ip-location-db's -num files). is6 tells the family.
func parseRangeBound(s string) (a netip.Addr, is6, ok bool) {
	s = strings.Trim(s, `"`)
	if s == "" {
		return netip.Addr{}, false, false
	}
	if c := s[0]; c >= '0' && c <= '9' && !strings.ContainsAny(s, ".:") {
		if v, err := strconv.ParseUint(s, 10, 64); err == nil {
			if v <= 0xFFFFFFFF {
				return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), false, true
			}
			return u128{lo: v}.addr(), true, true
		}
		var n big.Int
		if _, ok := n.SetString(s, 10); !ok || n.Sign() < 0 || n.BitLen() > 128 {
			return netip.Addr{}, false, false
		}
		var buf [16]byte
		n.FillBytes(buf[:])
		return netip.AddrFrom16(buf), true, true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false, false
	}
	a = a.WithZone("")
	if a.Is4In6() {
		a = a.Unmap()
	}
	return a, a.Is6(), true
}

// splitFields splits one CSV/TSV line; fields may be quoted with doubled
// quotes inside. Unquoted fields alias line.
func splitFields(line []byte, sep byte, dst [][]byte) ([][]byte, error) {
	for {
		if len(line) > 0 && line[0] == '"' {
			var field []byte
			i := 1
			for {
				j := bytes.IndexByte(line[i:], '"')
				if j < 0 {
					return dst, errors.New("unterminated quoted field")
				}
				field = append(field, line[i:i+j]...)
				i += j + 1
				if i < len(line) && line[i] == '"' {
					field = append(field, '"')
					i++
					continue
				}
				break
			}
			dst = append(dst, field)
			line = line[i:]
			if len(line) == 0 {
				return dst, nil
			}
			if line[0] != sep {
				return dst, errors.New("text after closing quote")
			}
			line = line[1:]
			continue
		}
		i := bytes.IndexByte(line, sep)
		if i < 0 {
			return append(dst, line), nil
		}
		dst = append(dst, line[:i])
		line = line[i+1:]
	}
}

func (b *asnBuilder) finish(path string, mod time.Time) *ASNTable {
	slices.SortFunc(b.v4, func(x, y range4) int {
		switch {
		case x.start < y.start:
			return -1
		case x.start > y.start:
			return 1
		}
		return 0
	})
	slices.SortFunc(b.v6, func(x, y range6) int {
		switch {
		case x.start.less(y.start):
			return -1
		case y.start.less(x.start):
			return 1
		}
		return 0
	})
	t := &ASNTable{
		v4start: make([]uint32, len(b.v4)), v4end: make([]uint32, len(b.v4)), v4rec: make([]uint32, len(b.v4)),
		v6start: make([]u128, len(b.v6)), v6end: make([]u128, len(b.v6)), v6rec: make([]uint32, len(b.v6)),
		asns: b.asns, orgOff: make([]uint32, len(b.orgs)+1),
	}
	for i, r := range b.v4 {
		t.v4start[i], t.v4end[i], t.v4rec[i] = r.start, r.end, r.rec
	}
	t.v4idx = make([]uint32, 1<<16+1)
	i := 0
	for h := range 1<<16 + 1 {
		for i < len(t.v4start) && int(t.v4start[i]>>16) < h {
			i++
		}
		t.v4idx[h] = uint32(i)
	}
	for i, r := range b.v6 {
		t.v6start[i], t.v6end[i], t.v6rec[i] = r.start, r.end, r.rec
	}
	var blob strings.Builder
	for i, o := range b.orgs {
		t.orgOff[i] = uint32(blob.Len())
		blob.WriteString(o)
	}
	t.orgOff[len(b.orgs)] = uint32(blob.Len())
	t.orgBlob = blob.String()

	stem := strings.ToLower(filepath.Base(path))
	for _, ext := range []string{".gz", ".csv", ".tsv", ".txt"} {
		stem = strings.TrimSuffix(stem, ext)
	}
	stem = stripFamily(strings.TrimSuffix(stem, "-num"))
	stem = dateSuffix.ReplaceAllString(stem, "")
	t.name = strings.Trim(nonAlnum.ReplaceAllString(stem, "-"), "-")
	if t.name == "" {
		t.name = "asn"
	}
	if !mod.IsZero() {
		t.name += mod.UTC().Format("-2006-01")
	}
	t.info = Info{Name: t.name, Path: path, Kind: "asn-ranges", Built: mod.UTC(), License: licenseFor(t.name)}
	return t
}

// Name implements Source.
func (t *ASNTable) Name() string { return t.name }

// Info describes the table.
func (t *ASNTable) Info() Info { return t.info }

// Len returns the number of IPv4 and IPv6 ranges.
func (t *ASNTable) Len() (v4, v6 int) { return len(t.v4start), len(t.v6start) }

func (t *ASNTable) org(rec uint32) string { return t.orgBlob[t.orgOff[rec]:t.orgOff[rec+1]] }

// Lookup implements Source: the AS of the range holding q.Addr, with the
// largest CIDR block inside that range that holds the address as Prefix.
func (t *ASNTable) Lookup(q Query) (Answer, error) {
	a := q.Addr.Unmap().WithZone("")
	if !a.IsValid() {
		return Answer{}, nil
	}
	if a.Is4() {
		x := v4u32(a)
		lo, hi := int(t.v4idx[x>>16]), int(t.v4idx[x>>16+1])
		i, ok := slices.BinarySearch(t.v4start[lo:hi], x)
		i += lo
		if !ok {
			i--
		}
		// Ranges in the files do not overlap; a few steps back cover a
		// range nested in a larger one that starts earlier.
		for j := i; j >= 0 && j > i-8; j-- {
			if t.v4start[j] <= x && x <= t.v4end[j] {
				rec := t.v4rec[j]
				return Answer{AS: &ASInfo{Number: t.asns[rec], Org: t.org(rec),
					Prefix: blockPrefix4(x, t.v4start[j], t.v4end[j]), Source: t.name}}, nil
			}
		}
		return Answer{}, nil
	}
	x := u128From(a)
	i, ok := slices.BinarySearchFunc(t.v6start, x, func(e, tgt u128) int {
		switch {
		case e.less(tgt):
			return -1
		case tgt.less(e):
			return 1
		}
		return 0
	})
	if !ok {
		i--
	}
	for j := i; j >= 0 && j > i-8; j-- {
		if !x.less(t.v6start[j]) && !t.v6end[j].less(x) {
			rec := t.v6rec[j]
			return Answer{AS: &ASInfo{Number: t.asns[rec], Org: t.org(rec),
				Prefix: blockPrefix6(x, t.v6start[j], t.v6end[j]), Source: t.name}}, nil
		}
	}
	return Answer{}, nil
}

// blockPrefix4 is the largest CIDR block holding x inside [start, end].
func blockPrefix4(x, start, end uint32) netip.Prefix {
	for bits := 0; bits <= 32; bits++ {
		mask := uint32(0)
		if bits > 0 {
			mask = ^uint32(0) << (32 - bits)
		}
		lo, hi := x&mask, x|^mask
		if lo >= start && hi <= end {
			return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(lo >> 24), byte(lo >> 16), byte(lo >> 8), byte(lo)}), bits)
		}
	}
	return netip.Prefix{}
}

func blockPrefix6(x, start, end u128) netip.Prefix {
	for bits := 0; bits <= 128; bits++ {
		var m u128
		switch {
		case bits == 0:
		case bits <= 64:
			m.hi = ^uint64(0) << (64 - bits)
		default:
			m.hi = ^uint64(0)
			m.lo = ^uint64(0) << (128 - bits)
		}
		lo := u128{x.hi & m.hi, x.lo & m.lo}
		hi := u128{x.hi | ^m.hi, x.lo | ^m.lo}
		if !lo.less(start) && !end.less(hi) {
			return netip.PrefixFrom(lo.addr(), bits)
		}
	}
	return netip.Prefix{}
}
