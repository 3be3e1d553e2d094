package candidates_test

import (
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates"
)

// TestAppendLookupAppends checks, on every test database, for addresses the
// databases hold and random ones, that MMDB.AppendLookup appends after what
// dst holds exactly what it gives into an empty slice, with the same AS,
// and on error returns dst as it was. (Lookup is AppendLookup into nil;
// TestMMDBSchemas holds both to the databases' contents.)
func TestAppendLookupAppends(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.mmdb"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	addrs := []netip.Addr{
		netip.MustParseAddr("2.125.160.216"), netip.MustParseAddr("81.2.69.160"), netip.MustParseAddr("89.160.20.112"),
		netip.MustParseAddr("216.160.83.56"), netip.MustParseAddr("1.0.0.1"), netip.MustParseAddr("::ffff:81.2.69.160"),
		netip.MustParseAddr("2001:218::1"), netip.MustParseAddr("2a02:cf40::1"), netip.MustParseAddr("fe80::1%eth0"), {},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b4 [4]byte
		var b16 [16]byte
		for i := range b4 {
			b4[i] = byte(rng.IntN(256))
		}
		for i := range b16 {
			b16[i] = byte(rng.IntN(256))
		}
		b16[0] = 0x20 | byte(rng.IntN(16))
		addrs = append(addrs, netip.AddrFrom4(b4), netip.AddrFrom16(b16))
	}
	sentinel := candidates.Candidate{City: "sentinel", Source: "test"}
	opened := 0
	for _, file := range files {
		db, err := candidates.OpenMMDB(file)
		if err != nil {
			continue // the broken test databases
		}
		opened++
		t.Run(filepath.Base(file), func(t *testing.T) {
			defer db.Close()
			var ap candidates.Appender = db
			for _, a := range addrs {
				q := candidates.Query{Addr: a}
				alone, wantAS, wantHas, werr := ap.AppendLookup(nil, q)
				dst := []candidates.Candidate{sentinel}
				got, as, hasAS, err := ap.AppendLookup(dst, q)
				if werr != nil {
					require.Error(t, err, a)
					assert.Equal(t, werr.Error(), err.Error())
					assert.Equal(t, dst, got, "dst as it was")
					continue
				}
				require.NoError(t, err, a)
				require.NotEmpty(t, got)
				assert.Equal(t, sentinel, got[0], "appended after what dst held")
				assert.Len(t, alone, len(got)-1, a)
				if len(alone) > 0 {
					assert.Equal(t, alone, got[1:], a)
				}
				assert.Equal(t, wantHas, hasAS, a)
				assert.Equal(t, wantAS, as, a)
			}
		})
	}
	require.Greater(t, opened, 5)
}
