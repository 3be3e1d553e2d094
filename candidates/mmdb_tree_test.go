package candidates

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/internal/mmdbtest"
)

// checkTree4 requires the IPv4 walker of the database image b to find,
// for every address of addrs, what maxminddb's Lookup finds: found or not,
// the same data offset, the same network.
func checkTree4(t *testing.T, name string, b []byte, addrs []netip.Addr) {
	t.Helper()
	db, err := maxminddb.OpenBytes(b)
	require.NoError(t, err, name)
	tr, err := newTree4(b, db.Metadata)
	require.NoError(t, err, name)
	for range 2 { // the second time from the filled jump table
		for _, a := range addrs {
			want := db.Lookup(a)
			require.NoError(t, want.Err(), "%s %s", name, a)
			res, p, found, err := tr.lookupResult(db, a)
			require.NoError(t, err, "%s %s", name, a)
			require.Equal(t, want.Found(), found, "%s %s: found", name, a)
			require.Equal(t, prefixOf(want.Prefix(), a), p, "%s %s: network", name, a)
			if found {
				require.Equal(t, want.Offset(), res.Offset(), "%s %s: data offset", name, a)
			}
		}
	}
}

// TestTree4SameAsLibrary holds the walker to maxminddb on databases of
// every record size and IP version, with networks from /1 to /32 (edges,
// neighbours and random addresses of each), and on MaxMind's test files.
func TestTree4SameAsLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(40, 2))
	var recs []mmdbtest.ASNRecord
	var addrs []netip.Addr
	seen := map[netip.Prefix]bool{}
	for len(recs) < 400 {
		var b [4]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		p, _ := netip.AddrFrom4(b).Prefix(1 + rng.IntN(32))
		overlap := false
		for q := range seen {
			if q.Overlaps(p) {
				overlap = true
				break
			}
		}
		if overlap || b[0] == 0 && p.Bits() < 8 {
			continue
		}
		seen[p] = true
		recs = append(recs, mmdbtest.ASNRecord{Prefix: p.String(), ASN: uint32(64512 + len(recs)), Org: fmt.Sprint("org ", len(recs))})
		first := p.Addr()
		last := first
		for i := p.Bits(); i < 32; i++ {
			s := last.As4()
			s[i/8] |= 0x80 >> (i % 8)
			last = netip.AddrFrom4(s)
		}
		addrs = append(addrs, first, last, first.Prev(), last.Next())
	}
	for range 20000 {
		addrs = append(addrs, netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())}))
	}
	var valid []netip.Addr
	for _, a := range addrs {
		if a.IsValid() && a.Is4() {
			valid = append(valid, a)
		}
	}
	for _, size := range []int{24, 28, 32} {
		for _, v := range []int{4, 6} {
			b, err := mmdbtest.BuildASN(recs, mmdbtest.RecordSize(size), mmdbtest.IPVersion(v))
			require.NoError(t, err)
			checkTree4(t, fmt.Sprintf("record size %d, IPv%d", size, v), b, valid)
		}
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.mmdb"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		db, err := maxminddb.OpenBytes(b)
		if err != nil {
			continue // the broken test files
		}
		var fileAddrs []netip.Addr
		for res := range db.Networks() {
			if p := res.Prefix(); p.Addr().Is4() || p.Addr().Is4In6() && p.Bits() >= 96 {
				a := p.Addr().Unmap()
				fileAddrs = append(fileAddrs, a, a.Prev(), a.Next())
			}
		}
		var ok []netip.Addr
		for _, a := range fileAddrs {
			if a.IsValid() && a.Is4() {
				ok = append(ok, a)
			}
		}
		checkTree4(t, f, b, append(ok, valid[:2000]...))
	}
}

// TestTree4Records decodes node records of every size as the MaxMind DB
// format lays them out, with values using all their bits (the test
// databases above are too small for the high nibble of 28-bit records).
func TestTree4Records(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, size := range []uint{24, 28, 32} {
		for range 2000 {
			l, r := uint(rng.Uint64()>>(64-size)), uint(rng.Uint64()>>(64-size))
			var node []byte
			switch size {
			case 24:
				node = []byte{byte(l >> 16), byte(l >> 8), byte(l), byte(r >> 16), byte(r >> 8), byte(r)}
			case 28: // the middle byte: left's top nibble, then right's
				node = []byte{byte(l >> 16), byte(l >> 8), byte(l), byte(l>>24)<<4 | byte(r>>24), byte(r >> 16), byte(r >> 8), byte(r)}
			case 32:
				node = []byte{byte(l >> 24), byte(l >> 16), byte(l >> 8), byte(l), byte(r >> 24), byte(r >> 16), byte(r >> 8), byte(r)}
			}
			buf := append(make([]byte, len(node)), node...) // node 1
			tr := &tree4{buf: buf, nodeCount: 2, recordSize: size}
			require.Equal(t, l, tr.record(1, 0), "size %d left", size)
			require.Equal(t, r, tr.record(1, 1), "size %d right", size)
		}
	}
}

// FuzzTree4 looks fuzzed IPv4 addresses up with the walker and with
// maxminddb in databases of each record size.
func FuzzTree4(f *testing.F) {
	recs := []mmdbtest.ASNRecord{
		{Prefix: "1.0.0.0/8", ASN: 1}, {Prefix: "2.128.0.0/9", ASN: 2}, {Prefix: "192.0.2.0/24", ASN: 3},
		{Prefix: "198.51.100.7/32", ASN: 4}, {Prefix: "203.0.113.64/26", ASN: 5}, {Prefix: "128.0.0.0/2", ASN: 6},
	}
	type pair struct {
		db *maxminddb.Reader
		tr *tree4
	}
	var dbs []pair
	for _, size := range []int{24, 28, 32} {
		for _, v := range []int{4, 6} {
			b, err := mmdbtest.BuildASN(recs, mmdbtest.RecordSize(size), mmdbtest.IPVersion(v))
			require.NoError(f, err)
			db, err := maxminddb.OpenBytes(b)
			require.NoError(f, err)
			tr, err := newTree4(b, db.Metadata)
			require.NoError(f, err)
			dbs = append(dbs, pair{db, tr})
		}
	}
	f.Add(uint32(0xc0000201))
	f.Add(uint32(0x01ffffff))
	f.Fuzz(func(t *testing.T, x uint32) {
		a := netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
		for _, d := range dbs {
			want := d.db.Lookup(a)
			res, p, found, err := d.tr.lookupResult(d.db, a)
			require.NoError(t, err)
			require.Equal(t, want.Found(), found)
			require.Equal(t, prefixOf(want.Prefix(), a), p)
			if found {
				require.Equal(t, want.Offset(), res.Offset())
			}
		}
	})
}

// TestLookupAfterClose checks that a database closed then asked fails with
// an error, as maxminddb's lookups do, rather than reading unmapped memory.
func TestLookupAfterClose(t *testing.T) {
	b, err := mmdbtest.BuildASN([]mmdbtest.ASNRecord{{Prefix: "192.0.2.0/24", ASN: 64500, Org: "x"}})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "asn.mmdb")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	m, err := OpenMMDB(path)
	require.NoError(t, err)
	q := Query{Addr: netip.MustParseAddr("192.0.2.1")}
	_, as, ok, err := m.AppendLookup(nil, q)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, uint32(64500), as.Number)
	require.NoError(t, m.Close())
	_, _, _, err = m.AppendLookup(nil, q)
	require.Error(t, err)
}
