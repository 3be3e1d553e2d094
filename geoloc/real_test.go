package geoloc_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/mmdbtest"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// realTruth is where the routers of testdata/real are, by what their names
// say unambiguously (see testdata/real/ORIGIN.md). Keyed by file and name.
var realTruth = map[string]map[string]latency.Point{
	"rich-traceroute-linux_1.txt": {
		"ffm-b4-link.telia.net":            frankfurt,
		"ffm-b4-link.ip.twelve99.net":      frankfurt,
		"box-ic-339275-ffm-b4.c.telia.net": frankfurt,
	},
	"jc-generic-traceroute5.out": {
		"xe-0-0-46-2.a00.sttlwa01.us.bb.gin.ntt.net": seattle,
		"ae-9.r04.sttlwa01.us.bb.gin.ntt.net":        seattle,
		"ae-0.a01.sttlwa01.us.bb.gin.ntt.net":        seattle,
		"ae-0.cloudflare.sttlwa01.us.bb.gin.ntt.net": seattle,
	},
	"jc-generic-traceroute8.out": {
		"xe-0-0-14-1.a02.tokyjp05.jp.bb.gin.ntt.net": tokyo,
		"ae-25.r02.tokyjp05.jp.bb.gin.ntt.net":       tokyo,
		"ae-4.r30.tokyjp05.jp.bb.gin.ntt.net":        tokyo,
		"ae-3.r00.tokyjp08.jp.bb.gin.ntt.net":        tokyo,
	},
	"jc-centos-7.7-traceroute.out": {
		"76-220-24-1.lightspeed.sntcca.sbcglobal.net": santaClara,
		"sd2ca21crs.ip.att.net":                       sanDiego,
	},
	"jc-freebsd12-traceroute.out": {
		"76-220-24-1.lightspeed.sntcca.sbcglobal.net": santaClara,
		"sffca22crs.ip.att.net":                       sanFrancisco,
	},
	"napalm-eos-traceroute_8_8_8_8.text": {
		"rcr2.bru01.atlas.cogentco.com":  brussels,
		"ccr1.par01.atlas.cogentco.com":  paris,
		"ccr00.par01.atlas.cogentco.com": paris,
		"ccr1.par04.atlas.cogentco.com":  paris,
		"ccr00.par04.atlas.cogentco.com": paris,
		"par57.atlas.cogentco.com":       paris,
	},
}

var (
	frankfurt    = latency.Point{Lat: 50.1109, Lon: 8.6821}
	seattle      = latency.Point{Lat: 47.6062, Lon: -122.3321}
	tokyo        = latency.Point{Lat: 35.6762, Lon: 139.6503}
	santaClara   = latency.Point{Lat: 37.3541, Lon: -121.9552}
	sanDiego     = latency.Point{Lat: 32.7157, Lon: -117.1611}
	sanFrancisco = latency.Point{Lat: 37.7749, Lon: -122.4194}
	brussels     = latency.Point{Lat: 50.8503, Lon: 4.3517}
	paris        = latency.Point{Lat: 48.8566, Lon: 2.3522}
)

// TestRealTraces scores the engine on real traces whose names say where the
// routers are. No GeoIP database is available offline, so this measures the
// names (rdns) and the engine's choice under physics, without a known
// vantage point: every source location is inferred.
func TestRealTraces(t *testing.T) {
	e := geoloc.New(geoloc.Options{})
	var scored, within, wrongCountry int
	for file, truth := range realTruth {
		f, err := os.Open(filepath.Join("testdata", "real", file))
		require.NoError(t, err)
		n := 0
		for tr, err := range traceroute.Read(f, traceroute.ReadOptions{Input: file}) {
			require.NoError(t, err, file)
			n++
			r, err := e.Locate(context.Background(), tr)
			require.NoError(t, err)
			for _, h := range r.Hops {
				want, ok := truth[h.Name]
				if !ok {
					continue
				}
				scored++
				if h.Location == nil {
					t.Logf("%s: %s not located: %s", file, h.Name, h.Why)
					continue
				}
				d := latency.DistanceKm(want, latency.Point{Lat: h.Location.Lat, Lon: h.Location.Lon})
				if d <= 40 {
					within++
				} else {
					t.Logf("%s: %s placed %.0f km off (%s, %s by %s)", file, h.Name, d, h.Location.City, h.Location.Country, h.Method)
				}
			}
		}
		f.Close()
		require.Positive(t, n, file)
	}
	fmt.Printf("real traces: %d hops with unambiguous names, %d within 40 km (%.0f%%)\n", scored, within, 100*float64(within)/float64(scored))
	assert.Equal(t, 21, scored)
	assert.GreaterOrEqual(t, within, scored-2, "real hops within 40 km")
	_ = wrongCountry
}

// realDBIP opens the DB-IP Lite answers recorded for the addresses of the
// real traces (testdata/real/dbip-lite-answers.tsv, see ORIGIN.md) as a
// city database and an ASN database, as `geoloc db fetch` would give them.
func realDBIP(t *testing.T) []candidates.Source {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "real", "dbip-lite-answers.tsv"))
	require.NoError(t, err)
	var city []mmdbtest.CityRecord
	var asn []mmdbtest.ASNRecord
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" || l[0] == '#' {
			continue
		}
		f := strings.Split(l, "\t")
		require.Len(t, f, 7, l)
		a := netip.MustParseAddr(f[0])
		pfx := netip.PrefixFrom(a, a.BitLen()).String()
		lat, err := strconv.ParseFloat(f[3], 64)
		require.NoError(t, err)
		lon, err := strconv.ParseFloat(f[4], 64)
		require.NoError(t, err)
		city = append(city, mmdbtest.CityRecord{Prefix: pfx, Lat: lat, Lon: lon, City: f[5], Country: f[6], AccuracyKm: 25})
		if n, err := strconv.ParseUint(f[1], 10, 32); err == nil {
			asn = append(asn, mmdbtest.ASNRecord{Prefix: pfx, ASN: uint32(n), Org: f[2]})
		}
	}
	cimg, err := mmdbtest.BuildCity(city, mmdbtest.Type("DBIP-City-Lite"), mmdbtest.IPVersion(6))
	require.NoError(t, err)
	aimg, err := mmdbtest.BuildASN(asn, mmdbtest.IPVersion(6))
	require.NoError(t, err)
	cs, err := candidates.OpenMMDBBytes(cimg, "dbip-city-lite.mmdb")
	require.NoError(t, err)
	as, err := candidates.OpenMMDBBytes(aimg, "dbip-asn-lite.mmdb")
	require.NoError(t, err)
	return []candidates.Source{cs, as}
}

// TestRealTracesCountries: real traces whose truth their names and RTTs
// make evident, located with the DB-IP answers for their addresses and no
// vantage point, name only countries the packets crossed. Before the path
// solver they read JP → HK → US → JP (EC2 Tokyo to Facebook Narita: 8 ms
// at most) and NZ → US → AU (Auckland to Google Sydney: Mountain View at
// 26 ms), and probe 426's traces flipped between CA, US, GB and BE with
// every hop under 2.5 ms.
func TestRealTracesCountries(t *testing.T) {
	srcs := realDBIP(t)
	read := func(name string) []*traceroute.Trace {
		f, err := os.Open(filepath.Join("testdata", "real", name))
		require.NoError(t, err)
		defer f.Close()
		var ts []*traceroute.Trace
		for tr, err := range traceroute.Read(f, traceroute.ReadOptions{Input: name}) {
			require.NoError(t, err)
			ts = append(ts, tr)
		}
		return ts
	}
	ctx := context.Background()
	e := geoloc.New(geoloc.Options{Sources: srcs})
	for _, tt := range []struct {
		file string
		want []string
	}{
		{"jc-generic-traceroute3.out", []string{"JP"}},
		{"rich-traceroute-win_tracert_3.txt", []string{"NZ", "AU"}},
	} {
		ts := read(tt.file)
		require.Len(t, ts, 1)
		r, err := e.Locate(ctx, ts[0])
		require.NoError(t, err)
		assert.Equal(t, tt.want, r.Countries, tt.file)
		for _, u := range r.CountriesUncertain {
			assert.NotContains(t, u.Countries, "US", "%s: hop %d", tt.file, u.TTL)
		}
		require.NotNil(t, r.Vantage, tt.file)
		assert.True(t, r.Vantage.Inferred, tt.file)
	}

	// Probe 426: its five traces share one vantage point with --fuse.
	ts := read("sagan-probe-426.jsonl")
	require.Len(t, ts, 5)
	fe := geoloc.New(geoloc.Options{Sources: srcs})
	_, err := fe.ObserveAll(ctx, func(yield func(*traceroute.Trace, error) bool) {
		for _, tr := range ts {
			if !yield(tr, nil) {
				return
			}
		}
	}, nil)
	require.NoError(t, err)
	var at *latency.Point
	near := map[string]bool{} // countries named by hops under 3 ms
	for i, tr := range ts {
		r, err := fe.Locate(ctx, tr)
		require.NoError(t, err)
		require.NotNil(t, r.Vantage)
		v := latency.Point{Lat: r.Vantage.Lat, Lon: r.Vantage.Lon}
		if at == nil {
			at = &v
		}
		assert.Less(t, latency.DistanceKm(*at, v), 500.0, "trace %d: one vantage point for one probe", i)
		// Every hop under 3 ms is within ~330 km of the probe, in the
		// same country in every trace; the path leaves it once.
		for _, h := range r.Hops {
			if cc, sure := geoloc.CountryOf(&h); sure && h.RTTMs < 3 {
				near[cc] = true
			}
		}
		seen := map[string]bool{}
		for _, cc := range r.Countries {
			assert.False(t, seen[cc], "trace %d: no country twice: %v", i, r.Countries)
			seen[cc] = true
		}
	}
	assert.Len(t, near, 1, "%v", near)
}
