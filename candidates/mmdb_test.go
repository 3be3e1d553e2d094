package candidates_test

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/internal/mmdbtest"
)

func lookup(t *testing.T, s candidates.Source, addr string) candidates.Answer {
	t.Helper()
	ans, err := s.Lookup(candidates.Query{Addr: netip.MustParseAddr(addr)})
	require.NoError(t, err)
	return ans
}

var testCities = []mmdbtest.CityRecord{
	{Prefix: "192.0.2.0/24", Lat: 50.1109, Lon: 8.6821, AccuracyKm: 20, City: "Frankfurt am Main",
		Region: "HE", RegionName: "Hesse", Country: "DE", Continent: "EU", TimeZone: "Europe/Berlin"},
	{Prefix: "198.51.100.0/25", Lat: 37.751, Lon: -97.822, AccuracyKm: 1000, Country: "US", Continent: "NA"},
	{Prefix: "198.51.100.128/25", Lat: 48.8566, Lon: 2.3522, AccuracyKm: 600, City: "Paris", Country: "FR"},
	{Prefix: "203.0.113.0/24", Lat: 35.6895, Lon: 139.6917, City: "Tokyo", Country: "JP"},
	{Prefix: "2001:db8:1::/48", Lat: 52.3676, Lon: 4.9041, AccuracyKm: 5, City: "Amsterdam", Country: "NL"},
	{Prefix: "2001:db8:2::/48", Country: "GB", NoLocation: true},
}

func TestMMDBSchemas(t *testing.T) {
	dir := t.TempDir()
	type want struct {
		addr    string
		kind    candidates.Kind // "" = no candidate
		city    string
		country string
		lat     float64
		radius  float64
		asn     uint32
		org     string
	}
	de := want{addr: "192.0.2.7", kind: candidates.KindGeoIP, city: "Frankfurt am Main", country: "DE", lat: 50.1109, radius: 20}
	us, _ := candidates.LookupCountry("US")
	fr, _ := candidates.LookupCountry("FR")
	gb, _ := candidates.LookupCountry("GB")
	tests := []struct {
		name     string
		path     string
		wantName string
		wantKind string
		want     []want
	}{
		{
			name:     "geoip2-city",
			path:     mmdbtest.WriteCity(t, filepath.Join(dir, "GeoIP2-City.mmdb"), testCities),
			wantName: "geoip2-city-2026-06", wantKind: "mmdb-city",
			want: []want{
				de,
				{addr: "198.51.100.1", kind: candidates.KindCountry, country: "US", lat: us.Lat, radius: us.RadiusKm},
				{addr: "198.51.100.200", kind: candidates.KindCountry, country: "FR", lat: fr.Lat, radius: fr.RadiusKm},
				{addr: "203.0.113.1", kind: candidates.KindGeoIP, city: "Tokyo", country: "JP", lat: 35.6895, radius: candidates.DefaultCityRadiusKm},
				{addr: "2001:db8:1::1", kind: candidates.KindGeoIP, city: "Amsterdam", country: "NL", lat: 52.3676, radius: 5},
				{addr: "2001:db8:2::1", kind: candidates.KindCountry, country: "GB", lat: gb.Lat, radius: gb.RadiusKm},
				{addr: "100.64.0.1"},
				{addr: "::ffff:192.0.2.7", kind: candidates.KindGeoIP, city: "Frankfurt am Main", country: "DE", lat: 50.1109, radius: 20},
			},
		},
		{
			name:     "geolite2-city type",
			path:     mmdbtest.WriteCity(t, filepath.Join(dir, "x.mmdb"), testCities, mmdbtest.Type(mmdbtest.TypeGeoLite2City), mmdbtest.Built(time.Date(2025, 12, 30, 0, 0, 0, 0, time.UTC))),
			wantName: "geolite2-city-2025-12", wantKind: "mmdb-city",
			want: []want{de},
		},
		{
			name:     "geoip2-country",
			path:     mmdbtest.WriteCountry(t, filepath.Join(dir, "country.mmdb"), testCities),
			wantName: "geoip2-country-2026-06", wantKind: "mmdb-country",
			want: []want{{addr: "192.0.2.7", kind: candidates.KindCountry, country: "DE"}},
		},
		{
			name:     "dbip-city-lite",
			path:     mmdbtest.WriteDBIPCity(t, filepath.Join(dir, "dbip-city-lite-2026-06.mmdb"), testCities),
			wantName: "dbip-city-lite-2026-06", wantKind: "mmdb-city",
			want: []want{
				{addr: "192.0.2.7", kind: candidates.KindGeoIP, city: "Frankfurt am Main", country: "DE", lat: 50.1109, radius: candidates.DefaultCityRadiusKm},
				{addr: "198.51.100.1", kind: candidates.KindCountry, country: "US"},
				// DB-IP writes no accuracy radius, so Paris stays a city.
				{addr: "198.51.100.200", kind: candidates.KindGeoIP, city: "Paris", country: "FR", lat: 48.8566, radius: candidates.DefaultCityRadiusKm},
			},
		},
		{
			name:     "flat ipv4",
			path:     mmdbtest.WriteFlatCity(t, filepath.Join(dir, "dbip-city-ipv4.mmdb"), 4, testCities[:4]),
			wantName: "dbip-city-2026-06", wantKind: "mmdb-city",
			want: []want{
				{addr: "192.0.2.7", kind: candidates.KindGeoIP, city: "Frankfurt am Main", country: "DE", lat: 50.1109, radius: candidates.DefaultCityRadiusKm},
				{addr: "198.51.100.1", kind: candidates.KindCountry, country: "US"},
				{addr: "2001:db8:1::1"}, // IPv4-only file
			},
		},
		{
			name:     "flat ipv6",
			path:     mmdbtest.WriteFlatCity(t, filepath.Join(dir, "geolite2-city-ipv6.mmdb"), 6, testCities[4:]),
			wantName: "geolite2-city-2026-06", wantKind: "mmdb-city",
			want: []want{
				{addr: "2001:db8:1::1", kind: candidates.KindGeoIP, city: "Amsterdam", country: "NL", lat: 52.3676, radius: candidates.DefaultCityRadiusKm},
				{addr: "192.0.2.7"},
			},
		},
		{
			name: "geolite2-asn",
			path: mmdbtest.WriteASN(t, filepath.Join(dir, "asn.mmdb"), []mmdbtest.ASNRecord{
				{Prefix: "192.0.2.0/24", ASN: 64500, Org: "Example Transit"},
				{Prefix: "2001:db8::/32", ASN: 64501, Org: "Example v6"},
			}),
			wantName: "geolite2-asn-2026-06", wantKind: "mmdb-asn",
			want: []want{
				{addr: "192.0.2.1", asn: 64500, org: "Example Transit"},
				{addr: "2001:db8::1", asn: 64501, org: "Example v6"},
			},
		},
		{
			name: "dbip-asn-lite",
			path: mmdbtest.WriteASN(t, filepath.Join(dir, "dbip-asn.mmdb"), []mmdbtest.ASNRecord{
				{Prefix: "192.0.2.0/24", ASN: 64500, Org: "Example Transit"},
			}, mmdbtest.Type(mmdbtest.TypeDBIPASNLite)),
			wantName: "dbip-asn-lite-2026-06", wantKind: "mmdb-asn",
			want: []want{{addr: "192.0.2.1", asn: 64500, org: "Example Transit"}},
		},
		{
			name: "ip-location-db asn-mmdb",
			path: mmdbtest.WriteASN(t, filepath.Join(dir, "asn-ipv4.mmdb"), []mmdbtest.ASNRecord{
				{Prefix: "192.0.2.0/24", ASN: 64500, Org: "Example Transit"},
			}, mmdbtest.Type(mmdbtest.TypeFlatASNIPv4), mmdbtest.IPVersion(4)),
			wantName: "asn-2026-06", wantKind: "mmdb-asn",
			want: []want{{addr: "192.0.2.1", asn: 64500, org: "Example Transit"}, {addr: "2001:db8::1"}},
		},
		{
			name: "ip-location-db country-mmdb",
			path: mmdbtest.WriteRaw(t, filepath.Join(dir, "dbip-country-ipv4.mmdb"), mmdbtest.TypeFlatCountryIP4, []mmdbtest.Entry{
				{Prefix: "192.0.2.0/24", Data: mmdbtype.Map{"country_code": mmdbtype.String("DE")}},
			}, mmdbtest.IPVersion(4)),
			wantName: "dbip-country-2026-06", wantKind: "mmdb-country",
			want: []want{{addr: "192.0.2.1", kind: candidates.KindCountry, country: "DE"}},
		},
		{
			name: "ipinfo-lite",
			path: mmdbtest.WriteIPinfoLite(t, filepath.Join(dir, "ipinfo_lite.mmdb"), []mmdbtest.ASNRecord{
				{Prefix: "192.0.2.0/24", ASN: 64500, Org: "Example Transit", Domain: "example.net", Country: "DE"},
			}),
			wantName: "ipinfo-lite-2026-06", wantKind: "mmdb-geo+asn",
			want: []want{{addr: "192.0.2.1", kind: candidates.KindCountry, country: "DE", asn: 64500, org: "Example Transit"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := candidates.OpenMMDB(tt.path)
			require.NoError(t, err)
			defer db.Close()
			assert.Equal(t, tt.wantName, db.Name())
			assert.Equal(t, tt.wantKind, db.Info().Kind)
			for _, w := range tt.want {
				ans := lookup(t, db, w.addr)
				if w.kind == "" {
					assert.Empty(t, ans.Candidates, w.addr)
				} else if assert.Len(t, ans.Candidates, 1, w.addr) {
					c := ans.Candidates[0]
					assert.Equal(t, w.kind, c.Kind, w.addr)
					assert.Equal(t, w.city, c.City, w.addr)
					assert.Equal(t, w.country, c.Country, w.addr)
					assert.Equal(t, tt.wantName, c.Source, w.addr)
					if w.lat != 0 {
						assert.InDelta(t, w.lat, c.Lat, 1e-4, w.addr)
					}
					if w.radius != 0 {
						assert.InDelta(t, w.radius, c.RadiusKm, 1e-9, w.addr)
					}
					if c.Kind == candidates.KindCountry {
						assert.Empty(t, c.City, "a country-level candidate never names a city")
						assert.GreaterOrEqual(t, c.RadiusKm, 100.0, w.addr)
					}
				}
				if w.asn == 0 {
					assert.Nil(t, ans.AS, w.addr)
				} else if assert.NotNil(t, ans.AS, w.addr) {
					assert.Equal(t, w.asn, ans.AS.Number)
					assert.Equal(t, w.org, ans.AS.Org)
					assert.True(t, ans.AS.Prefix.Contains(netip.MustParseAddr(w.addr).Unmap()))
					assert.Equal(t, tt.wantName, ans.AS.Source)
				}
			}
		})
	}
}

func TestMMDBUnknownSchema(t *testing.T) {
	path := mmdbtest.WriteRaw(t, filepath.Join(t.TempDir(), "odd.mmdb"), "Odd-DB", []mmdbtest.Entry{
		{Prefix: "192.0.2.0/24", Data: mmdbtype.Map{"isp": mmdbtype.String("x"), "is_anonymous": mmdbtype.Bool(true)}},
	})
	_, err := candidates.OpenMMDB(path)
	require.Error(t, err)
	var se *candidates.UnknownSchemaError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, []string{"is_anonymous", "isp"}, se.Fields)
	assert.Contains(t, err.Error(), "is_anonymous, isp")
	assert.Contains(t, err.Error(), "odd.mmdb")
}

func TestMaxMindTestDatabases(t *testing.T) {
	gb, _ := candidates.LookupCountry("GB")
	tests := []struct {
		file    string
		addr    string
		kind    candidates.Kind
		city    string
		country string
		lat     float64
		radius  float64
		asn     uint32
	}{
		{file: "GeoLite2-City-Test.mmdb", addr: "81.2.69.142", kind: candidates.KindGeoIP, city: "London", country: "GB", lat: 51.5142, radius: 10},
		{file: "GeoLite2-City-Test.mmdb", addr: "2.125.160.216", kind: candidates.KindGeoIP, city: "Boxford", country: "GB", lat: 51.75, radius: 100},
		{file: "GeoLite2-City-Test.mmdb", addr: "67.43.156.1", kind: candidates.KindCountry, country: "BT"},
		{file: "GeoIP2-City-Test.mmdb", addr: "81.2.69.160", kind: candidates.KindGeoIP, city: "London", country: "GB"},
		{file: "GeoIP2-Country-Test.mmdb", addr: "81.2.69.160", kind: candidates.KindCountry, country: "GB", lat: gb.Lat, radius: gb.RadiusKm},
		{file: "GeoLite2-Country-Test.mmdb", addr: "50.114.0.1", kind: candidates.KindCountry, country: "US"},
		{file: "GeoLite2-ASN-Test.mmdb", addr: "1.128.0.1", asn: 1221},
		{file: "GeoLite2-ASN-Test.mmdb", addr: "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.addr, func(t *testing.T) {
			s, err := candidates.Open(filepath.Join("testdata", "maxmind", tt.file))
			require.NoError(t, err)
			defer candidates.CloseSource(s)
			ans := lookup(t, s, tt.addr)
			if tt.kind == "" {
				assert.Empty(t, ans.Candidates)
			} else if assert.Len(t, ans.Candidates, 1) {
				c := ans.Candidates[0]
				assert.Equal(t, tt.kind, c.Kind)
				assert.Equal(t, tt.city, c.City)
				assert.Equal(t, tt.country, c.Country)
				if tt.lat != 0 {
					assert.InDelta(t, tt.lat, c.Lat, 1e-4)
				}
				if tt.radius != 0 {
					assert.InDelta(t, tt.radius, c.RadiusKm, 1e-9)
				}
			}
			if tt.asn == 0 {
				assert.Nil(t, ans.AS)
			} else if assert.NotNil(t, ans.AS) {
				assert.Equal(t, tt.asn, ans.AS.Number)
				assert.Equal(t, "Telstra Pty Ltd", ans.AS.Org)
				assert.Equal(t, "1.128.0.0/11", ans.AS.Prefix.String())
			}
		})
	}
}

func TestMaxMindBrokenDatabases(t *testing.T) {
	for _, f := range []string{"GeoIP2-City-Test-Broken-Double-Format.mmdb", "GeoIP2-City-Test-Invalid-Node-Count.mmdb"} {
		t.Run(f, func(t *testing.T) {
			path := filepath.Join("testdata", "maxmind", f)
			_, err := candidates.Open(path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), path)
			_, err = candidates.OpenMMDB(path)
			require.Error(t, err)
		})
	}
}

func TestIPinfoSampleDatabases(t *testing.T) {
	tests := []struct {
		file    string
		addr    string
		kind    candidates.Kind
		city    string
		country string
		lat     float64
		asn     uint32
		org     string
		kindDB  string
	}{
		{file: "ip_asn_sample.mmdb", addr: "1.0.0.1", asn: 13335, org: "Cloudflare, Inc.", kindDB: "mmdb-asn"},
		{file: "ip_country_asn_sample.mmdb", addr: "1.0.0.1", kind: candidates.KindCountry, country: "AU", asn: 13335, org: "Cloudflare, Inc.", kindDB: "mmdb-geo+asn"},
		{file: "ip_country_asn_sample.mmdb", addr: "1.0.1.1", kind: candidates.KindCountry, country: "CN", kindDB: "mmdb-geo+asn"},
		{file: "ip_geolocation_sample.mmdb", addr: "1.22.93.1", kind: candidates.KindGeoIP, city: "Ahmedabad", country: "IN", lat: 23.02579, kindDB: "mmdb-city"},
		{file: "ipinfo_location_sample.mmdb", addr: "1.0.0.1", kind: candidates.KindGeoIP, city: "Sydney", country: "AU", lat: -33.86785, kindDB: "mmdb-city"},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.addr, func(t *testing.T) {
			db, err := candidates.OpenMMDB(filepath.Join("testdata", "ipinfo", tt.file))
			require.NoError(t, err)
			defer db.Close()
			assert.Equal(t, tt.kindDB, db.Info().Kind)
			assert.Contains(t, db.Name(), "ipinfo-")
			ans := lookup(t, db, tt.addr)
			if tt.kind == "" {
				assert.Empty(t, ans.Candidates)
			} else if assert.Len(t, ans.Candidates, 1) {
				c := ans.Candidates[0]
				assert.Equal(t, tt.kind, c.Kind)
				assert.Equal(t, tt.city, c.City)
				assert.Equal(t, tt.country, c.Country)
				if tt.lat != 0 {
					assert.InDelta(t, tt.lat, c.Lat, 1e-4)
				}
			}
			if tt.asn == 0 {
				assert.Nil(t, ans.AS)
			} else if assert.NotNil(t, ans.AS) {
				assert.Equal(t, tt.asn, ans.AS.Number)
				assert.Equal(t, tt.org, ans.AS.Org)
			}
		})
	}
}

func TestOpenGzippedMMDB(t *testing.T) {
	b, err := mmdbtest.BuildDBIPCity(testCities)
	require.NoError(t, err)
	p := writeGzip(t, t.TempDir(), "dbip-city-lite-2026-06.mmdb.gz", string(b))
	s, err := candidates.Open(p)
	require.NoError(t, err)
	defer candidates.CloseSource(s)
	assert.Equal(t, "dbip-city-lite-2026-06", s.Name())
	assert.Equal(t, "Frankfurt am Main", lookup(t, s, "192.0.2.1").Candidates[0].City)
}

func TestMMDBConcurrentLookups(t *testing.T) {
	db, err := candidates.OpenMMDB(mmdbtest.WriteCity(t, filepath.Join(t.TempDir(), "c.mmdb"), testCities))
	require.NoError(t, err)
	defer db.Close()
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 500 {
				for _, a := range []string{"192.0.2.1", "203.0.113.9", "2001:db8:1::1", "100.64.0.1"} {
					if _, err := db.Lookup(candidates.Query{Addr: netip.MustParseAddr(a)}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

// Some writers keep IPv4 networks under ::ffff:0:0/96 rather than ::/96.
func TestMMDBIPv4UnderMappedPrefix(t *testing.T) {
	path := mmdbtest.WriteRaw(t, filepath.Join(t.TempDir(), "mapped.mmdb"), "GeoLite2-ASN", []mmdbtest.Entry{
		{Prefix: "::ffff:192.0.2.0/120", Data: mmdbtype.Map{
			"autonomous_system_number":       mmdbtype.Uint32(64500),
			"autonomous_system_organization": mmdbtype.String("Mapped"),
		}},
	}, mmdbtest.DisableAliasing())
	db, err := candidates.OpenMMDB(path)
	require.NoError(t, err)
	defer db.Close()
	ans := lookup(t, db, "192.0.2.9")
	require.NotNil(t, ans.AS)
	assert.Equal(t, uint32(64500), ans.AS.Number)
	assert.Equal(t, "192.0.2.0/24", ans.AS.Prefix.String())
	assert.Nil(t, lookup(t, db, "198.51.100.1").AS)
}
