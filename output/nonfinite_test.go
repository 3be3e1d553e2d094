package output

import (
	"bytes"
	"encoding/json"
	"math"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/outputtest"
)

// extremes is one trace whose numbers are as large, small or undefined as
// a float64 gets: what a hostile results file or a library caller can hand
// a writer.
func extremes() []*geoloc.TraceResult {
	nums := []float64{1e308, -1e308, math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), math.Inf(-1)}
	tr := &geoloc.TraceResult{Format: "traceroute", Protocol: "icmp", Source: outputtest.Oslo,
		Destination: outputtest.Traces()[0].Destination}
	for i, x := range nums {
		tr.Hops = append(tr.Hops, geoloc.HopResult{
			TTL: i + 1, Addr: netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)}), RTTMs: x,
			Location:   &geoloc.Location{Lat: 59.9 + float64(i), Lon: 10.7, RadiusKm: x, City: "Oslo", Country: "NO"},
			Confidence: x, Method: "geoip",
			Evidence: []geoloc.Evidence{{Source: "geoip", Kind: "geoip", Lat: x, Lon: x, Status: geoloc.StatusChosen}},
		})
	}
	return []*geoloc.TraceResult{tr}
}

// nonFinite matches how Go, JSON encoders and JavaScript spell a
// non-finite number.
var nonFinite = regexp.MustCompile(`(?i)(^|[^a-z])[+-]?(inf|infinity|nan)([^a-z]|$)`)

// TestWritersNeverEmitNonFinite is issue 16 item 5: one RTT of 1e308 made
// the HTML and GeoJSON writers fail for the whole batch (rounding
// overflowed to +Inf, which JSON cannot carry) and KML and CSV print
// "+Inf". Every writer writes such a trace, and no number it writes is
// infinite or NaN.
func TestWritersNeverEmitNonFinite(t *testing.T) {
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			w, err := ForName(format)
			require.NoError(t, err)
			var buf bytes.Buffer
			require.NoError(t, w.Write(&buf, extremes(), Options{Circles: true}), "the batch is written")
			out := buf.String()
			if format == "kmz" {
				return // zipped: the KML inside is the kml case
			}
			assert.False(t, nonFinite.MatchString(out), "a non-finite number in %s: %q", format, nonFinite.FindString(out))
			switch format {
			case "geojson", "json", "report-json":
				assert.True(t, json.Valid(buf.Bytes()), "valid JSON")
			case "jsonl":
				for line := range strings.Lines(out) {
					assert.True(t, json.Valid([]byte(line)), "valid JSON line")
				}
			}
		})
	}
}
