package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/geoloc-dev/geoloc/latency"
)

// An extent is what a country-level candidate needs of a country's shape:
// the area of all its polygons and the radius around its centroid (from
// world-countries) that covers its largest polygon, its mainland.
type extent struct {
	radiusKm, areaKm2 float64
}

// minRadiusKm is the smallest extent radius: city states, and territories
// with no outline of their own at 1:10m, get a disc of this size.
const minRadiusKm = 10

// territoryKm bounds the search for the polygon nearest a territory's
// centroid when Natural Earth merges the territory into its parent.
const territoryKm = 300

type point struct{ lat, lon float64 }

// extents computes every country's extent from the 1:10m outlines (finer
// than the embedded 1:50m, so small islands count), outer rings only.
// Outlines are matched by ISO numeric id, else by name; a country with
// neither (an overseas department Natural Earth merges into its parent)
// takes the polygon nearest its centroid within territoryKm.
func extents(path string, byISO map[string]country) (map[string]extent, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var topo struct {
		Transform struct {
			Scale     [2]float64 `json:"scale"`
			Translate [2]float64 `json:"translate"`
		} `json:"transform"`
		Arcs    [][][2]float64 `json:"arcs"`
		Objects struct {
			Countries struct {
				Geometries []geometry `json:"geometries"`
			} `json:"countries"`
		} `json:"objects"`
	}
	if err := json.Unmarshal(data, &topo); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tr := topo.Transform
	arcs := make([][]point, len(topo.Arcs))
	for i, a := range topo.Arcs {
		var x, y float64
		for _, d := range a {
			x += d[0]
			y += d[1]
			arcs[i] = append(arcs[i], point{lon: x*tr.Scale[0] + tr.Translate[0], lat: y*tr.Scale[1] + tr.Translate[1]})
		}
	}
	outer := func(idx []int) []point {
		var r []point
		for _, i := range idx {
			var a []point
			if i < 0 {
				src := arcs[^i]
				for j := len(src) - 1; j >= 0; j-- {
					a = append(a, src[j])
				}
			} else {
				a = arcs[i]
			}
			if len(r) > 0 && len(a) > 0 {
				a = a[1:]
			}
			r = append(r, a...)
		}
		return r
	}
	polys := map[string][][]point{} // numeric id, or "name:"+name
	var all [][]point
	for _, g := range topo.Objects.Countries.Geometries {
		key := g.ID
		if key == "" {
			key = "name:" + g.Properties.Name
		}
		var ps [][][]int
		switch g.Type {
		case "Polygon":
			var p [][]int
			if err := json.Unmarshal(g.Arcs, &p); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", path, g.Properties.Name, err)
			}
			ps = [][][]int{p}
		case "MultiPolygon":
			if err := json.Unmarshal(g.Arcs, &ps); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", path, g.Properties.Name, err)
			}
		}
		for _, p := range ps {
			r := outer(p[0])
			polys[key] = append(polys[key], r)
			all = append(all, r)
		}
	}
	out := make(map[string]extent, len(byISO))
	for iso, c := range byISO {
		centre := latency.Point{Lat: c.lat, Lon: c.lon}
		ps, ok := polys[c.numeric]
		if !ok || c.numeric == "" {
			ps, ok = polys["name:"+c.name]
		}
		if !ok {
			best, bestKm := -1, float64(territoryKm)
			for i, p := range all {
				for _, q := range p {
					if d := latency.DistanceKm(centre, latency.Point{Lat: q.lat, Lon: q.lon}); d < bestKm {
						best, bestKm = i, d
					}
				}
			}
			if best >= 0 {
				ps, ok = [][]point{all[best]}, true
			}
		}
		var e extent
		if ok {
			largest, largestArea := 0, 0.0
			for i, p := range ps {
				a := ringAreaKm2(p)
				e.areaKm2 += a
				if a > largestArea {
					largest, largestArea = i, a
				}
			}
			for _, q := range ps[largest] {
				e.radiusKm = math.Max(e.radiusKm, latency.DistanceKm(centre, latency.Point{Lat: q.lat, Lon: q.lon}))
			}
		}
		e.radiusKm = math.Max(e.radiusKm, minRadiusKm)
		out[iso] = e
	}
	return out, nil
}

// ringAreaKm2 is the spherical area of a ring, by the approximation d3-geo
// and the GeoJSON area libraries use: the sum over edges of
// (λ2−λ1)(2 + sin φ1 + sin φ2) · R²/2.
func ringAreaKm2(r []point) float64 {
	const rad = math.Pi / 180
	s := 0.0
	for i := range r {
		a, b := r[i], r[(i+1)%len(r)]
		dl := (b.lon - a.lon) * rad
		if dl > math.Pi {
			dl -= 2 * math.Pi
		} else if dl < -math.Pi {
			dl += 2 * math.Pi
		}
		s += dl * (2 + math.Sin(a.lat*rad) + math.Sin(b.lat*rad))
	}
	return math.Abs(s) * latency.EarthRadiusKm * latency.EarthRadiusKm / 2
}
