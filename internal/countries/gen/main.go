// Command gen compacts Natural Earth country outlines (TopoJSON from npm
// world-atlas) and country names (npm world-countries) into the small binary
// and text files that package countries embeds.
//
// Usage (from internal/countries, via go generate):
//
//	go run ./gen -src ../../../shared/data/countries -out .
//
// Outputs:
//
//	outlines-50m.bin   outlines used for point-in-polygon (Natural Earth 1:50m)
//	outlines-110m.bin  coarse outlines for drawing maps (Natural Earth 1:110m)
//	countries.tsv      per country: ISO 3166-1 alpha-2 and alpha-3 codes,
//	                   common name, centroid, and the extent a
//	                   country-level candidate uses (radius around the
//	                   centroid covering the mainland, total area), the
//	                   extent computed from Natural Earth 1:10m
//
// The binary format keeps TopoJSON's quantised integer coordinates, so it is
// lossless with respect to the source:
//
//	"GLCO1"
//	float64 LE ×4: scale x, scale y, translate x, translate y
//	uvarint countries; per country:
//	  2 bytes ISO alpha-2; uvarint polygons; per polygon:
//	    uvarint rings (first outer, then holes); per ring:
//	      uvarint points; per point: zigzag varint Δx, Δy from the previous
//	      point of the ring (the first from 0,0)
//
// A point's longitude is x*scale x + translate x, its latitude likewise.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

type topology struct {
	Type      string `json:"type"`
	Transform struct {
		Scale     [2]float64 `json:"scale"`
		Translate [2]float64 `json:"translate"`
	} `json:"transform"`
	Arcs    [][][2]int64 `json:"arcs"`
	Objects struct {
		Countries struct {
			Geometries []geometry `json:"geometries"`
		} `json:"countries"`
	} `json:"objects"`
}

type geometry struct {
	Type       string          `json:"type"`
	ID         string          `json:"id"`
	Arcs       json.RawMessage `json:"arcs"`
	Properties struct {
		Name string `json:"name"`
	} `json:"properties"`
}

type country struct {
	name    string // common name from world-countries
	iso3    string
	numeric string
	lat     float64
	lon     float64
}

// byName assigns outlines that Natural Earth publishes without an ISO
// numeric id. Somaliland is internationally recognised as part of Somalia,
// Northern Cyprus as part of Cyprus; Kosovo uses the user-assigned code XK as
// most registries do; the Siachen Glacier is under Indian administration.
// "Indian Ocean Ter." is split between Christmas Island and the Cocos
// (Keeling) Islands by nearest centroid (see nearestOf).
var byName = map[string]string{
	"Somaliland":      "SO",
	"N. Cyprus":       "CY",
	"Kosovo":          "XK",
	"Siachen Glacier": "IN",
}

var nearestOf = map[string][]string{
	"Indian Ocean Ter.": {"CX", "CC"},
}

func main() {
	src := flag.String("src", "../../../shared/data/countries", "directory with countries-*.json and world-countries-*.csv")
	out := flag.String("out", ".", "output directory")
	flag.Parse()
	if err := run(*src, *out); err != nil {
		log.Fatal(err)
	}
}

func run(src, out string) error {
	byISO, byNum, err := readNames(filepath.Join(src, "world-countries-5.1.0-compact.csv"))
	if err != nil {
		return err
	}
	ext, err := extents(filepath.Join(src, "countries-10m.json"), byISO)
	if err != nil {
		return err
	}
	if err := writeTable(filepath.Join(out, "countries.tsv"), byISO, ext); err != nil {
		return err
	}
	for _, res := range []string{"50m", "110m"} {
		in := filepath.Join(src, "countries-"+res+".json")
		if err := convert(in, filepath.Join(out, "outlines-"+res+".bin"), byISO, byNum); err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
	}
	return nil
}

func readNames(path string) (map[string]country, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, h := range []string{"cca2", "cca3", "ccn3", "name.common", "latlng"} {
		if _, ok := col[h]; !ok {
			return nil, nil, fmt.Errorf("%s: no column %q", path, h)
		}
	}
	byISO := map[string]country{}
	byNum := map[string]string{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		iso := rec[col["cca2"]]
		if len(iso) != 2 {
			return nil, nil, fmt.Errorf("%s: bad alpha-2 %q", path, iso)
		}
		c := country{name: rec[col["name.common"]], iso3: rec[col["cca3"]], numeric: rec[col["ccn3"]]}
		ll := strings.Split(rec[col["latlng"]], ",")
		if len(ll) != 2 {
			return nil, nil, fmt.Errorf("%s: %s: bad latlng %q", path, iso, rec[col["latlng"]])
		}
		var err1, err2 error
		c.lat, err1 = strconv.ParseFloat(ll[0], 64)
		c.lon, err2 = strconv.ParseFloat(ll[1], 64)
		if err1 != nil || err2 != nil {
			return nil, nil, fmt.Errorf("%s: %s: bad latlng %q", path, iso, rec[col["latlng"]])
		}
		byISO[iso] = c
		if c.numeric != "" {
			byNum[c.numeric] = iso
		}
	}
	return byISO, byNum, nil
}

func writeTable(path string, byISO map[string]country, ext map[string]extent) error {
	var b strings.Builder
	b.WriteString("# ISO 3166-1 alpha-2, alpha-3, common name, centroid lat, lon: npm world-countries@5.1.0 (ODbL-1.0).\n")
	b.WriteString("# radius_km (covers the largest polygon from the centroid), area_km2: Natural Earth 1:10m (public domain). Generated by ./gen.\n")
	for _, iso := range slices.Sorted(maps.Keys(byISO)) {
		c, e := byISO[iso], ext[iso]
		fmt.Fprintf(&b, "%s\t%s\t%s\t%.4f\t%.4f\t%.0f\t%.0f\n", iso, c.iso3, strings.ReplaceAll(c.name, "\t", " "),
			c.lat, c.lon, math.Ceil(e.radiusKm), e.areaKm2)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

type ring [][2]int64
type polygon []ring

func convert(in, out string, byISO map[string]country, byNum map[string]string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var topo topology
	if err := json.Unmarshal(data, &topo); err != nil {
		return err
	}
	// Decode delta-encoded arcs to absolute quantised positions.
	arcs := make([][][2]int64, len(topo.Arcs))
	for i, a := range topo.Arcs {
		var x, y int64
		abs := make([][2]int64, len(a))
		for j, p := range a {
			x += p[0]
			y += p[1]
			abs[j] = [2]int64{x, y}
		}
		arcs[i] = abs
	}
	tr := topo.Transform
	polys := map[string][]polygon{}
	for _, g := range topo.Objects.Countries.Geometries {
		var ps [][][]int
		switch g.Type {
		case "Polygon":
			var p [][]int
			if err := json.Unmarshal(g.Arcs, &p); err != nil {
				return fmt.Errorf("%s: %w", g.Properties.Name, err)
			}
			ps = [][][]int{p}
		case "MultiPolygon":
			if err := json.Unmarshal(g.Arcs, &ps); err != nil {
				return fmt.Errorf("%s: %w", g.Properties.Name, err)
			}
		default:
			continue
		}
		for _, p := range ps {
			var poly polygon
			for _, ringArcs := range p {
				if r := stitch(arcs, ringArcs); len(r) >= 3 {
					poly = append(poly, r)
				}
			}
			if len(poly) == 0 {
				continue
			}
			iso := byNum[g.ID]
			if g.ID == "" {
				iso = byName[g.Properties.Name]
				if cands, ok := nearestOf[g.Properties.Name]; ok {
					iso = nearest(poly[0], tr.Scale, tr.Translate, cands, byISO)
				}
			}
			if iso == "" {
				return fmt.Errorf("no ISO code for %q (id %q)", g.Properties.Name, g.ID)
			}
			polys[iso] = append(polys[iso], poly)
		}
	}
	var buf []byte
	buf = append(buf, "GLCO1"...)
	for _, f := range []float64{tr.Scale[0], tr.Scale[1], tr.Translate[0], tr.Translate[1]} {
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(f))
	}
	isos := slices.Sorted(maps.Keys(polys))
	buf = binary.AppendUvarint(buf, uint64(len(isos)))
	points := 0
	for _, iso := range isos {
		buf = append(buf, iso...)
		buf = binary.AppendUvarint(buf, uint64(len(polys[iso])))
		for _, p := range polys[iso] {
			buf = binary.AppendUvarint(buf, uint64(len(p)))
			for _, r := range p {
				buf = binary.AppendUvarint(buf, uint64(len(r)))
				var px, py int64
				for _, pt := range r {
					buf = binary.AppendVarint(buf, pt[0]-px)
					buf = binary.AppendVarint(buf, pt[1]-py)
					px, py = pt[0], pt[1]
					points++
				}
			}
		}
	}
	w, err := os.Create(out)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.Write(buf)
	if err := bw.Flush(); err != nil {
		w.Close()
		return err
	}
	log.Printf("%s: %d countries, %d points, %d bytes", out, len(isos), points, len(buf))
	return w.Close()
}

// stitch joins the arcs of one ring (negative index ~i means arc i reversed),
// dropping the shared point between arcs, the closing point and consecutive
// duplicates left by quantisation.
func stitch(arcs [][][2]int64, idx []int) ring {
	var r ring
	for _, i := range idx {
		var a [][2]int64
		if i < 0 {
			a = slices.Clone(arcs[^i])
			slices.Reverse(a)
		} else {
			a = arcs[i]
		}
		for _, p := range a {
			if len(r) > 0 && r[len(r)-1] == p {
				continue
			}
			r = append(r, p)
		}
	}
	for len(r) > 1 && r[len(r)-1] == r[0] {
		r = r[:len(r)-1]
	}
	return r
}

func nearest(r ring, scale, translate [2]float64, cands []string, byISO map[string]country) string {
	var sx, sy float64
	for _, p := range r {
		sx += float64(p[0])*scale[0] + translate[0]
		sy += float64(p[1])*scale[1] + translate[1]
	}
	lon, lat := sx/float64(len(r)), sy/float64(len(r))
	best, bestD := "", math.Inf(1)
	for _, iso := range cands {
		c := byISO[iso]
		if d := math.Hypot(c.lat-lat, c.lon-lon); d < bestD {
			best, bestD = iso, d
		}
	}
	return best
}
