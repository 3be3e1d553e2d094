package candidates_test

import (
	"net/netip"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates"
)

// TestRealDatabases runs over databases fetched for real (`geoloc db
// fetch`, scripts/smoke-dbfetch.sh) in $GEOLOC_REAL_DB_DIR or the cache
// directory, checking facts that hold in every release of them.
func TestRealDatabases(t *testing.T) {
	dir := os.Getenv("GEOLOC_REAL_DB_DIR")
	if dir == "" {
		d, err := candidates.DefaultDir()
		if err != nil {
			t.Skipf("no GEOLOC_REAL_DB_DIR and no cache directory: %v", err)
		}
		dir = d
	}
	paths, err := candidates.Discover(dir)
	require.NoError(t, err)
	if len(paths) == 0 {
		t.Skipf("no fetched databases in %s (run scripts/smoke-dbfetch.sh DIR and set GEOLOC_REAL_DB_DIR=DIR)", dir)
	}
	srcs, err := candidates.OpenAll(paths, candidates.OpenOptions{})
	if err != nil {
		// Other tools' files may sit in the same directories.
		t.Logf("some files were not opened: %v", err)
	}
	if len(srcs) == 0 {
		t.Skipf("no usable databases in %s", dir)
	}
	defer func() {
		for _, s := range srcs {
			candidates.CloseSource(s)
		}
	}()
	tests := []struct {
		addr    string
		asn     uint32
		country string
	}{
		{"8.8.8.8", 15169, "US"},
		{"1.1.1.1", 13335, ""}, // anycast: databases disagree on the country
		{"81.2.69.142", 20712, "GB"},
		{"2001:4860:4860::8888", 15169, ""},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			var gotAS bool
			for _, s := range srcs {
				ans, err := s.Lookup(candidates.Query{Addr: netip.MustParseAddr(tt.addr)})
				require.NoError(t, err, s.Name())
				t.Logf("%s: %+v AS %+v", s.Name(), ans.Candidates, ans.AS)
				for _, c := range ans.Candidates {
					assert.Equal(t, s.Name(), c.Source)
					assert.Contains(t, []candidates.Kind{candidates.KindGeoIP, candidates.KindCountry}, c.Kind)
					assert.Positive(t, c.RadiusKm)
					if tt.country != "" {
						assert.Equal(t, tt.country, c.Country, s.Name())
					}
				}
				if ans.AS != nil {
					gotAS = true
					assert.Equal(t, tt.asn, ans.AS.Number, s.Name())
					assert.True(t, ans.AS.Prefix.Contains(netip.MustParseAddr(tt.addr)))
				}
			}
			hasASN := false
			for _, s := range srcs {
				k := candidates.SourceInfo(s).Kind
				hasASN = hasASN || k == "asn-ranges" || k == "mmdb-asn" || k == "mmdb-geo+asn"
			}
			if hasASN {
				assert.True(t, gotAS, "no source knew the AS")
			}
		})
	}
}
