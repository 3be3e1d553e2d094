package kml

import (
	"html"
	"math"
	"strconv"
	"strings"

	"github.com/golang/geo/s2"
	"github.com/twpayne/go-kml/v3"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/style"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// endpoint names a source or destination: "name (addr)", either, or the
// position.
func endpoint(e traceroute.Endpoint) string {
	var s string
	switch {
	case e.Name != "" && e.Addr.IsValid():
		s = e.Name + " (" + e.Addr.String() + ")"
	case e.Name != "":
		s = e.Name
	case e.Addr.IsValid():
		s = e.Addr.String()
	case e.HasLocation() && !math.IsNaN(*e.Lat) && !math.IsNaN(*e.Lon):
		s = ff(*e.Lat, 4) + "," + ff(*e.Lon, 4)
	}
	if e.ProbeID != "" {
		s += " probe " + e.ProbeID
	}
	return style.Sanitize(s, maxText)
}

func ff(x float64, prec int) string { return strconv.FormatFloat(style.Round(x, prec), 'f', -1, 64) }

func coord(lat, lon float64) kml.Coordinate {
	return kml.Coordinate{Lon: style.Round(lon, coordPrecision), Lat: style.Round(lat, coordPrecision)}
}

// hopAltitudeM is how high above the ground a hop of TTL 1 stands on the
// route's arcs; each further TTL stands that much higher, so the route
// climbs hop by hop as Google Earth traceroute views draw it.
const hopAltitudeM = 4000

// placemark draws one located hop, at its TTL's altitude with a line down
// to the ground; uncertain hops (low confidence, inferred, or too unsure to
// name their country) in their AS's faint style.
func placemark(tr *geoloc.TraceResult, h *geoloc.HopResult) *kml.PlacemarkElement {
	l := h.Location
	esc := func(s string) string { return html.EscapeString(style.Sanitize(s, maxText)) }
	var rows [][2]string
	add := func(k, v string) {
		if v != "" {
			rows = append(rows, [2]string{k, v})
		}
	}
	if h.Addr.IsValid() {
		add("address", h.Addr.String())
	}
	add("PTR name", h.Name)
	add("AS", style.ASLabel(h.ASN, h.ASOrg))
	add("place", style.Place(l))
	add("position", ff(l.Lat, 4)+", "+ff(l.Lon, 4)+" ±"+ff(l.RadiusKm, 1)+" km")
	if h.RTTMs > 0 {
		add("min RTT", ff(h.RTTMs, 3)+" ms")
	}
	add("confidence", ff(h.Confidence, 2))
	add("method", h.Method)
	var flags []string
	if h.Inferred {
		flags = append(flags, "inferred from neighbours")
	}
	if h.Anycast {
		flags = append(flags, "anycast (constraints disagree)")
	}
	if cu := style.CountryUncertain(tr, h); cu != nil {
		flags = append(flags, "country uncertain: "+style.CountryNames(cu, " or "))
	}
	if style.Uncertain(h) {
		flags = append(flags, "uncertain: confidence below "+ff(style.UncertainConfidence, 2))
	}
	add("note", strings.Join(flags, "; "))
	add("evidence", style.EvidenceSummary(h))
	var d strings.Builder
	d.WriteString("<table>")
	for _, r := range rows {
		d.WriteString("<tr><th>" + r[0] + "</th><td>" + esc(r[1]) + "</td></tr>")
	}
	d.WriteString("</table>")

	data := []kml.Element{
		kml.Data("ttl", kml.Value(h.TTL)),
		kml.Data("addr", kml.Value(addr(h))),
		kml.Data("name", kml.Value(style.Sanitize(h.Name, maxText))),
		kml.Data("asn", kml.Value(h.ASN)),
		kml.Data("as_org", kml.Value(style.Sanitize(h.ASOrg, maxText))),
		kml.Data("country", kml.Value(style.Sanitize(l.Country, 8))),
		kml.Data("city", kml.Value(style.Sanitize(l.City, maxText))),
		kml.Data("radius_km", kml.Value(style.Round(l.RadiusKm, 1))),
		kml.Data("rtt_ms", kml.Value(style.Round(h.RTTMs, 3))),
		kml.Data("confidence", kml.Value(style.Round(h.Confidence, 2))),
		kml.Data("method", kml.Value(style.Sanitize(h.Method, maxText))),
	}
	st := asStyleID(h.ASN)
	if style.DrawUncertain(tr, h) {
		st = uncertainStyleID(h.ASN)
	}
	c := coord(l.Lat, l.Lon)
	c.Alt = float64(h.TTL) * hopAltitudeM
	return kml.Placemark(
		kml.Name(label(style.HopTitle(h))),
		kml.Description(d.String()),
		kml.StyleURL("#"+st),
		kml.ExtendedData(data...),
		kml.Point(kml.Extrude(true), kml.AltitudeMode(kml.AltitudeModeRelativeToGround), kml.Coordinates(c)),
	)
}

// circle converts style.Circle's ring to KML coordinates.
func circle(lat, lon, radiusKm float64) []kml.Coordinate {
	ring := style.Circle(lat, lon, radiusKm, circleSegments)
	out := make([]kml.Coordinate, len(ring))
	for i, p := range ring {
		out[i] = coord(p[1], p[0])
	}
	return out
}

// label prepares a network string for a <name>: sanitised, and with angle
// brackets replaced by look-alikes, because some viewers put names into
// their HTML balloons unescaped. Legitimate host names never hold them.
func label(s string) string {
	return strings.NewReplacer("<", "\u2039", ">", "\u203a").Replace(style.Sanitize(s, maxText))
}

func addr(h *geoloc.HopResult) string {
	if h.Addr.IsValid() {
		return h.Addr.String()
	}
	return ""
}

// arcSteps is the number of segments of each arc between two hops.
const arcSteps = 16

// arc returns the coordinates of the route from a to b, at altitudes altA
// and altB (metres above ground), bulging upwards by a tenth of the
// distance (at most 300 km) so consecutive hops far apart read as a jump
// and hops in one city stay a short step; the way follows the great
// circle (s2.Interpolate).
func arc(a, b [2]float64, altA, altB float64, first bool) []kml.Coordinate {
	pa := s2.PointFromLatLng(s2.LatLngFromDegrees(a[0], a[1]))
	pb := s2.PointFromLatLng(s2.LatLngFromDegrees(b[0], b[1]))
	distM := float64(pa.Distance(pb)) * earthRadiusM
	bump := min(distM*0.1, 300e3)
	var out []kml.Coordinate
	for k := range arcSteps + 1 {
		if k == 0 && !first {
			continue // the previous arc ended here
		}
		t := float64(k) / arcSteps
		ll := s2.LatLngFromPoint(s2.Interpolate(t, pa, pb))
		c := coord(ll.Lat.Degrees(), ll.Lng.Degrees())
		c.Alt = style.Round(altA+(altB-altA)*t+bump*math.Sin(math.Pi*t), 0)
		out = append(out, c)
	}
	return out
}

// earthRadiusM is the mean Earth radius, for the arcs' heights only.
const earthRadiusM = 6371008.8
