package output

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/style"
)

// geoPrecision is the number of decimals of GeoJSON coordinates (RFC 7946
// §11.2 suggests 6, about 10 cm).
const geoPrecision = 6

type feature struct {
	Type       string         `json:"type"`
	Geometry   geometry       `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

type geometry struct {
	Type        string `json:"type"`
	Coordinates any    `json:"coordinates"`
}

// WriteGeoJSON writes an RFC 7946 FeatureCollection: a Point per located
// hop (and per known source position) with the hop's properties, a
// LineString per path and per ECMP branch (a MultiLineString, split at
// ±180°, when it crosses the antimeridian), and with Options.Circles a
// Polygon per uncertainty radius (two, as a MultiPolygon, across ±180°).
// Positions are [longitude, latitude].
func WriteGeoJSON(w io.Writer, results []*geoloc.TraceResult, opts Options) error {
	return writeAll(beginGeoJSON, w, results, opts)
}

// geojsonStream writes the FeatureCollection a trace at a time, exactly
// as json.Encoder writes the whole collection.
type geojsonStream struct {
	bw    *bufio.Writer
	opts  Options
	i, nf int
}

func beginGeoJSON(w io.Writer, opts Options) (Stream, error) {
	name := opts.Title
	if name == "" {
		name = "geoloc"
	}
	n, err := json.Marshal(name)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(`{"type":"FeatureCollection","name":`)
	bw.Write(n)
	bw.WriteString(`,"features":[`)
	return &geojsonStream{bw: bw, opts: opts}, nil
}

func (s *geojsonStream) Add(tr *geoloc.TraceResult) error {
	i := s.i
	s.i++
	if tr == nil {
		return nil
	}
	for _, f := range traceFeatures(tr, i, s.opts) {
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if s.nf > 0 {
			s.bw.WriteByte(',')
		}
		s.nf++
		s.bw.Write(b)
	}
	return nil
}

func (s *geojsonStream) Close() error {
	s.bw.WriteString("]}\n")
	return s.bw.Flush()
}

// traceFeatures are the features of trace i: source, hops, paths and
// branches, and with Options.Circles the uncertainty polygons.
func traceFeatures(tr *geoloc.TraceResult, i int, opts Options) []feature {
	var fs []feature
	title := style.Sanitize(style.TraceTitle(tr, i), 255)
	if style.SourceLocated(tr) {
		fs = append(fs, feature{
			Type:     "Feature",
			Geometry: geometry{"Point", pos(*tr.Source.Lat, *tr.Source.Lon)},
			Properties: map[string]any{
				"kind": "source", "trace": i + 1, "trace_name": title,
				"addr": addrOrNil(tr.Source.Addr.IsValid(), tr.Source.Addr.String()),
			},
		})
	}
	for j := range tr.Hops {
		h := &tr.Hops[j]
		if !style.Located(h) {
			continue
		}
		l := h.Location
		p := map[string]any{
			"kind": "hop", "trace": i + 1, "trace_name": title,
			"ttl": h.TTL, "addr": addrOrNil(h.Addr.IsValid(), h.Addr.String()),
			"name": style.Sanitize(h.Name, 255), "asn": h.ASN, "as_org": style.Sanitize(h.ASOrg, 255),
			"city": style.Sanitize(l.City, 255), "region": style.Sanitize(l.Region, 255), "country": style.Sanitize(l.Country, 8),
			"radius_km": style.Round(l.RadiusKm, 1), "rtt_ms": style.Round(h.RTTMs, 3),
			"confidence": style.Round(h.Confidence, 3), "method": style.Sanitize(h.Method, 255),
			"inferred": h.Inferred, "anycast": h.Anycast, "country_crossed": countrySure(h),
			"evidence": style.Sanitize(style.EvidenceSummary(h), 1024),
			"color":    style.Hex(style.ASColor(h.ASN)),
		}
		fs = append(fs, feature{Type: "Feature", Geometry: geometry{"Point", pos(l.Lat, l.Lon)}, Properties: p})
	}
	// The countries rule is the engine's (geoloc.Crossed); results read
	// from elsewhere without the fields get it from their hops.
	ccs, unc := tr.Countries, tr.CountriesUncertain
	if ccs == nil {
		c := geoloc.Crossed(tr.Hops)
		ccs, unc = c.Countries, c.Uncertain
	}
	countries := make([]string, len(ccs))
	for k, c := range ccs {
		countries[k] = style.Sanitize(c, 8)
	}
	uncertain := make([]string, len(unc))
	for k, u := range unc {
		uncertain[k] = style.Sanitize(fmt.Sprintf("hop %d: %s", u.TTL, strings.Join(u.Countries, "/")), 255)
	}
	for _, ln := range style.Lines(tr) {
		var pts [][2]float64
		if ln.Source {
			lat, lon, _, _ := style.Start(tr)
			pts = append(pts, [2]float64{lon, lat})
		}
		for _, j := range ln.Hops {
			pts = append(pts, [2]float64{tr.Hops[j].Location.Lon, tr.Hops[j].Location.Lat})
		}
		kind := "path"
		if ln.Branch {
			kind = "ecmp"
		}
		fs = append(fs, feature{
			Type:     "Feature",
			Geometry: lineGeometry(pts),
			Properties: map[string]any{
				"kind": kind, "trace": i + 1, "trace_name": title,
				"color":     style.Hex(style.TraceColor(i)),
				"countries": countries, "countries_uncertain": uncertain,
			},
		})
	}
	if opts.Circles {
		for j := range tr.Hops {
			h := &tr.Hops[j]
			if !style.Located(h) || !(h.Location.RadiusKm > 0) {
				continue
			}
			ring := style.Circle(h.Location.Lat, h.Location.Lon, min(h.Location.RadiusKm, 2000), 48)
			fs = append(fs, feature{
				Type:     "Feature",
				Geometry: polygonGeometry(ring),
				Properties: map[string]any{
					"kind": "uncertainty", "trace": i + 1, "ttl": h.TTL,
					"addr": addrOrNil(h.Addr.IsValid(), h.Addr.String()), "radius_km": style.Round(h.Location.RadiusKm, 1),
				},
			})
		}
	}
	return fs
}

func addrOrNil(ok bool, s string) any {
	if !ok {
		return nil
	}
	return s
}

func pos(lat, lon float64) []float64 {
	return []float64{style.Round(lon, geoPrecision), style.Round(lat, geoPrecision)}
}

func roundRing(r [][2]float64) [][]float64 {
	out := make([][]float64, len(r))
	for i, p := range r {
		out[i] = []float64{style.Round(p[0], geoPrecision), style.Round(p[1], geoPrecision)}
	}
	return out
}

// unwrap makes a ring's longitudes continuous (a circle round 179.9° runs
// on to 180.2° instead of jumping to -179.8°).
func unwrap(r [][2]float64) [][2]float64 {
	out := make([][2]float64, len(r))
	copy(out, r)
	for i := 1; i < len(out); i++ {
		for out[i][0]-out[i-1][0] > 180 {
			out[i][0] -= 360
		}
		for out[i][0]-out[i-1][0] < -180 {
			out[i][0] += 360
		}
	}
	return out
}

// clipLon keeps the part of a closed ring on one side of the meridian at
// lon (keepWest: lon' <= lon), Sutherland–Hodgman style; the result is
// closed, or nil if nothing is left.
func clipLon(r [][2]float64, lon float64, keepWest bool) [][2]float64 {
	inside := func(p [2]float64) bool {
		if keepWest {
			return p[0] <= lon
		}
		return p[0] >= lon
	}
	var out [][2]float64
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		if inside(a) {
			out = append(out, a)
		}
		if inside(a) != inside(b) {
			t := (lon - a[0]) / (b[0] - a[0])
			out = append(out, [2]float64{lon, a[1] + t*(b[1]-a[1])})
		}
	}
	if len(out) < 3 {
		return nil
	}
	return append(out, out[0])
}

// polygonGeometry is a Polygon for a closed ring, or a MultiPolygon of its
// two halves when it crosses the antimeridian (RFC 7946 §3.1.9).
func polygonGeometry(ring [][2]float64) geometry {
	u := unwrap(ring)
	lo, hi := 180.0, -180.0
	for _, p := range u {
		lo, hi = min(lo, p[0]), max(hi, p[0])
	}
	edge := 0.0
	switch {
	case hi > 180:
		edge = 180
	case lo < -180:
		edge = -180
	default:
		return geometry{"Polygon", [][][]float64{roundRing(u)}}
	}
	var parts [][][][]float64
	for _, west := range []bool{true, false} {
		part := clipLon(u, edge, west)
		if part == nil {
			continue
		}
		// Bring the overhang back into [-180, 180].
		for i := range part {
			if part[i][0] > 180 {
				part[i][0] -= 360
			} else if part[i][0] < -180 {
				part[i][0] += 360
			}
		}
		parts = append(parts, [][][]float64{roundRing(part)})
	}
	if len(parts) == 1 {
		return geometry{"Polygon", parts[0]}
	}
	return geometry{"MultiPolygon", parts}
}

// SplitAntimeridian cuts a polyline of [lon, lat] points wherever a segment
// crosses ±180° the short way round (a longitude jump of more than 180°),
// adding the crossing point at both edges, as RFC 7946 §3.1.9 asks. The
// crossing latitude is interpolated linearly in longitude.
func SplitAntimeridian(pts [][2]float64) [][][2]float64 {
	if len(pts) == 0 {
		return nil
	}
	var out [][][2]float64
	cur := [][2]float64{pts[0]}
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		d := b[0] - a[0]
		if math.Abs(d) > 180 {
			// Walk east (a→180) if b is far west, else west.
			edge := 180.0
			bx := b[0] + 360
			if d > 0 {
				edge = -180
				bx = b[0] - 360
			}
			t := (edge - a[0]) / (bx - a[0])
			lat := a[1] + t*(b[1]-a[1])
			cur = append(cur, [2]float64{edge, lat})
			out = append(out, cur)
			cur = [][2]float64{{-edge, lat}}
		}
		cur = append(cur, b)
	}
	return append(out, cur)
}

func lineGeometry(pts [][2]float64) geometry {
	parts := SplitAntimeridian(pts)
	conv := func(p [][2]float64) [][]float64 { return roundRing(p) }
	if len(parts) == 1 {
		return geometry{"LineString", conv(parts[0])}
	}
	ml := make([][][]float64, len(parts))
	for i, p := range parts {
		ml[i] = conv(p)
	}
	return geometry{"MultiLineString", ml}
}

// countrySure says whether the hop names its country as crossed (the
// engine's countries rule).
func countrySure(h *geoloc.HopResult) bool {
	_, sure := geoloc.CountryOf(h)
	return sure
}
