package kml

import (
	"html"
	"math"
	"strconv"
	"strings"

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

// placemark draws one located hop.
func placemark(h *geoloc.HopResult) *kml.PlacemarkElement {
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
	return kml.Placemark(
		kml.Name(label(style.HopTitle(h))),
		kml.Description(d.String()),
		kml.StyleURL("#"+asStyleID(h.ASN)),
		kml.ExtendedData(data...),
		kml.Point(kml.Coordinates(coord(l.Lat, l.Lon))),
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
