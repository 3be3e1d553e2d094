package geoloc_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
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
