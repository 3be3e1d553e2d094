// Package style holds what every geoloc map writer draws the same way:
// stable colours per AS and per trace, labels, evidence summaries and the
// split of a trace into drawable lines (main path and ECMP branches).
package style

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/countries"
	"github.com/geoloc-dev/geoloc/latency"
)

// Unknown is the colour of hops whose AS is not known.
var unknown = color.RGBA{R: 0x88, G: 0x88, B: 0x88, A: 0xff}

// ASColor is a stable colour for an AS number: the same ASN gets the same
// colour in every map and every run (FNV-1a of the number picks a hue; the
// saturation and lightness stay in a range readable on white and on a map).
// ASN 0 (unknown) is grey.
func ASColor(asn uint32) color.RGBA {
	if asn == 0 {
		return unknown
	}
	h := fnv.New32a()
	h.Write([]byte(strconv.FormatUint(uint64(asn), 10)))
	v := h.Sum32()
	hue := float64(v%360) / 360
	sat := 0.55 + float64((v>>9)%30)/100    // 0.55..0.84
	light := 0.38 + float64((v>>17)%15)/100 // 0.38..0.52
	return hsl(hue, sat, light)
}

// palette are twelve colours told apart at a glance on white and on the
// map's land and sea (Sasha Trubetskoy's "20 distinct colours", the twelve
// that are neither pale nor grey), in the order they are handed out.
var palette = []color.RGBA{
	{0xe6, 0x19, 0x4b, 0xff}, // red
	{0x43, 0x63, 0xd8, 0xff}, // blue
	{0x3c, 0xb4, 0x4b, 0xff}, // green
	{0xf5, 0x82, 0x31, 0xff}, // orange
	{0x91, 0x1e, 0xb4, 0xff}, // purple
	{0x42, 0xd4, 0xf4, 0xff}, // cyan
	{0xf0, 0x32, 0xe6, 0xff}, // magenta
	{0x9a, 0x63, 0x24, 0xff}, // brown
	{0x46, 0x99, 0x90, 0xff}, // teal
	{0x80, 0x00, 0x00, 0xff}, // maroon
	{0x80, 0x80, 0x00, 0xff}, // olive
	{0x00, 0x00, 0x75, 0xff}, // navy
}

// PaletteSize is the number of clearly distinct colours handed out before
// colours are derived.
const PaletteSize = 12

// Distinct is the i-th of a sequence of clearly different colours: the
// twelve of the palette first, then a golden-angle walk round the hue
// circle at alternating lightness.
func Distinct(i int) color.RGBA {
	if i >= 0 && i < len(palette) {
		return palette[i]
	}
	hue := math.Mod(float64(i)*0.618033988749895+0.05, 1)
	return hsl(hue, 0.7, 0.36+0.12*float64(i%2))
}

// TraceColor is the colour of the i-th trace (0-based): Distinct(i).
func TraceColor(i int) color.RGBA { return Distinct(i) }

func hsl(h, s, l float64) color.RGBA {
	var q float64
	if l < 0.5 {
		q = l * (1 + s)
	} else {
		q = l + s - l*s
	}
	p := 2*l - q
	f := func(t float64) uint8 {
		t = math.Mod(t+1, 1)
		var v float64
		switch {
		case t < 1.0/6:
			v = p + (q-p)*6*t
		case t < 0.5:
			v = q
		case t < 2.0/3:
			v = p + (q-p)*(2.0/3-t)*6
		default:
			v = p
		}
		return uint8(math.Round(v * 255))
	}
	return color.RGBA{R: f(h + 1.0/3), G: f(h), B: f(h - 1.0/3), A: 0xff}
}

// Hex is "#rrggbb".
func Hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// TraceTitle names a trace by its destination: "name (addr)", the name or
// the address alone, or "trace N" (1-based) when neither is known.
func TraceTitle(tr *geoloc.TraceResult, i int) string {
	d := tr.Destination
	switch {
	case d.Name != "" && d.Addr.IsValid():
		return d.Name + " (" + d.Addr.String() + ")"
	case d.Name != "":
		return d.Name
	case d.Addr.IsValid():
		return d.Addr.String()
	}
	return "trace " + strconv.Itoa(i+1)
}

// HopTitle is "TTL host": the PTR name, else the address, else "*".
func HopTitle(h *geoloc.HopResult) string {
	host := h.Name
	if host == "" && h.Addr.IsValid() {
		host = h.Addr.String()
	}
	if host == "" {
		host = "*"
	}
	return strconv.Itoa(h.TTL) + " " + host
}

// ASLabel is "AS3356 Level 3", "AS3356", or "" when the ASN is unknown.
func ASLabel(asn uint32, org string) string {
	if asn == 0 {
		return org
	}
	s := "AS" + strconv.FormatUint(uint64(asn), 10)
	if org != "" {
		s += " " + org
	}
	return s
}

// Place names where a location is in words: "Tokyo, Japan"; the region
// only when there is no city and it is a name, not a numeric code ("13");
// the country's name from its ISO code. "" when nothing is known.
func Place(l *geoloc.Location) string {
	if l == nil {
		return ""
	}
	var parts []string
	switch {
	case l.City != "":
		parts = append(parts, l.City)
	case l.Region != "" && !isCode(l.Region):
		parts = append(parts, l.Region)
	}
	if l.Country != "" {
		if n := countries.Name(l.Country); n != "" {
			parts = append(parts, n)
		} else {
			parts = append(parts, l.Country)
		}
	}
	return strings.Join(parts, ", ")
}

// isCode reports whether a region is a code (digits, or two or three
// capitals) rather than a name a reader knows.
func isCode(s string) bool {
	if _, err := strconv.Atoi(s); err == nil {
		return true
	}
	if len(s) <= 3 && strings.ToUpper(s) == s {
		return true
	}
	return false
}

// Start is where a trace's route starts on a map: the source's own
// position when the trace carries one, else the vantage point the engine
// used (given with --from, or inferred: then inferred is true).
func Start(tr *geoloc.TraceResult) (lat, lon float64, inferred, ok bool) {
	if SourceLocated(tr) {
		return *tr.Source.Lat, *tr.Source.Lon, false, true
	}
	if v := tr.Vantage; v != nil && !math.IsNaN(v.Lat) && !math.IsNaN(v.Lon) &&
		v.Lat >= -90 && v.Lat <= 90 && v.Lon >= -180 && v.Lon <= 180 {
		return v.Lat, v.Lon, v.Inferred, true
	}
	return 0, 0, false, false
}

// StartLabel names the start marker: "start (probe 6012)", "start
// (inferred)".
func StartLabel(tr *geoloc.TraceResult) string {
	_, _, inferred, ok := Start(tr)
	if !ok {
		return ""
	}
	s := "start"
	name := ""
	if !SourceLocated(tr) && tr.Vantage != nil {
		name = tr.Vantage.Name
	}
	switch {
	case inferred && name != "":
		s += " (inferred, " + strings.TrimPrefix(strings.TrimPrefix(name, "inferred "), "vantage ") + ")"
	case inferred:
		s += " (inferred)"
	case name != "":
		s += " (" + name + ")"
	}
	return s
}

// UncertainConfidence is the confidence below which maps draw a hop as
// uncertain (hollow and faint, with its radius): the confidence from which
// the countries rule lets a hop name its country.
const UncertainConfidence = geoloc.MinCountryConfidence

// Uncertain reports whether a located hop is drawn as uncertain.
func Uncertain(h *geoloc.HopResult) bool {
	return h.Location != nil && (h.Confidence < UncertainConfidence || h.Anycast)
}

// DrawUncertain reports whether maps draw a located hop as uncertain
// (hollow or faint, with its radius): its confidence is low, it was placed
// from its neighbours, or the countries rule found it too unsure to name
// its country.
func DrawUncertain(tr *geoloc.TraceResult, h *geoloc.HopResult) bool {
	return Uncertain(h) || h.Inferred || CountryUncertain(tr, h) != nil
}

// CountryUncertain returns the countries a hop may stand in when the
// countries rule lists it as too uncertain to name one (nil otherwise).
func CountryUncertain(tr *geoloc.TraceResult, h *geoloc.HopResult) []string {
	for _, u := range tr.CountriesUncertain {
		if u.TTL == h.TTL && u.Addr == h.Addr {
			return u.Countries
		}
	}
	return nil
}

// CountryNames turns ISO codes into names ("DE or NL" → "Germany or
// Netherlands"), joined with sep.
func CountryNames(codes []string, sep string) string {
	var out []string
	for _, c := range codes {
		if n := countries.Name(c); n != "" {
			out = append(out, n)
		} else {
			out = append(out, c)
		}
	}
	return strings.Join(out, sep)
}

// EvidenceSummary says in one line what the engine weighed: the count per
// status and the chosen source, e.g. "chosen rdns:iata (Frankfurt); 2 agree;
// 1 ruled out (needs at least 38.1 ms from Oslo, saw 2.3 ms)".
func EvidenceSummary(h *geoloc.HopResult) string {
	if len(h.Evidence) == 0 {
		return ""
	}
	var parts []string
	counts := map[string]int{}
	var firstOut string
	for _, e := range h.Evidence {
		counts[e.Status]++
		switch e.Status {
		case geoloc.StatusChosen:
			s := "chosen " + e.Source
			if e.Kind != "" && !strings.Contains(e.Source, e.Kind) {
				s += "/" + e.Kind
			}
			if e.City != "" {
				s += " (" + e.City + ")"
			}
			parts = append(parts, s)
		case geoloc.StatusRuledOut:
			if firstOut == "" {
				firstOut = e.Source
				if e.Why != "" {
					firstOut += ": " + e.Why
				}
			}
		}
	}
	if n := counts[geoloc.StatusAgrees]; n > 0 {
		parts = append(parts, plural(n, "agrees", "agree"))
	}
	if n := counts[geoloc.StatusUnlikely]; n > 0 {
		parts = append(parts, plural(n, "unlikely", "unlikely"))
	}
	if n := counts[geoloc.StatusRuledOut]; n > 0 {
		parts = append(parts, plural(n, "ruled out", "ruled out")+" ("+firstOut+")")
	}
	return strings.Join(parts, "; ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Located reports whether the hop has a usable location.
func Located(h *geoloc.HopResult) bool {
	l := h.Location
	return l != nil && !math.IsNaN(l.Lat) && !math.IsNaN(l.Lon) &&
		l.Lat >= -90 && l.Lat <= 90 && l.Lon >= -180 && l.Lon <= 180
}

// SourceLocated reports whether the trace's source has a usable position.
func SourceLocated(tr *geoloc.TraceResult) bool {
	s := tr.Source
	return s.HasLocation() && !math.IsNaN(*s.Lat) && !math.IsNaN(*s.Lon) &&
		*s.Lat >= -90 && *s.Lat <= 90 && *s.Lon >= -180 && *s.Lon <= 180
}

// Finite returns x, or 0 for NaN and ±Inf (which JSON cannot carry).
func Finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// Line is one drawable polyline of a trace: indexes into TraceResult.Hops,
// all located, in path order. Source is true when the line starts at the
// trace's start (see Start: the source's position or the vantage point),
// before the hops.
type Line struct {
	Hops   []int
	Source bool
	Branch bool // an ECMP alternative, not the main path
}

// Lines splits a trace into its main path (the first located address of each
// TTL, starting at the source when its position is known) and one short line
// per other located address of a TTL (ECMP): from the main path's last
// located hop before that TTL, through the alternative, to the main path's
// first located hop after it. Hops are taken in TTL order whatever order the
// slice holds them in.
func Lines(tr *geoloc.TraceResult) []Line {
	idx := make([]int, 0, len(tr.Hops))
	for i := range tr.Hops {
		if Located(&tr.Hops[i]) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(tr.Hops[a].TTL, tr.Hops[b].TTL) })
	var main []int
	var alts []int
	for _, i := range idx {
		if n := len(main); n > 0 && tr.Hops[main[n-1]].TTL == tr.Hops[i].TTL {
			alts = append(alts, i)
			continue
		}
		main = append(main, i)
	}
	var out []Line
	_, _, _, src := Start(tr)
	if len(main) > 0 && (len(main) > 1 || src) {
		out = append(out, Line{Hops: main, Source: src})
	}
	for _, a := range alts {
		ttl := tr.Hops[a].TTL
		var l Line
		l.Branch = true
		before := -1
		for _, m := range main {
			if tr.Hops[m].TTL < ttl {
				before = m
			}
		}
		if before >= 0 {
			l.Hops = append(l.Hops, before)
		} else if src {
			l.Source = true
		}
		l.Hops = append(l.Hops, a)
		for _, m := range main {
			if tr.Hops[m].TTL > ttl {
				l.Hops = append(l.Hops, m)
				break
			}
		}
		if len(l.Hops) > 1 || l.Source {
			out = append(out, l)
		}
	}
	return out
}

// Unlocated lists the hops without a location, for writers that name them
// instead of drawing them at a made-up point.
func Unlocated(tr *geoloc.TraceResult) []*geoloc.HopResult {
	var out []*geoloc.HopResult
	for i := range tr.Hops {
		if !Located(&tr.Hops[i]) {
			out = append(out, &tr.Hops[i])
		}
	}
	return out
}

// Round rounds to n decimals, so golden files and diffs stay stable; NaN
// and ±Inf become 0, and a value too large for its decimals to matter
// (x·10ⁿ would overflow) comes back as it is: never a non-finite number,
// which JSON cannot carry and KML and CSV readers choke on.
func Round(x float64, n int) float64 {
	x = Finite(x)
	p := math.Pow10(n)
	if r := math.Round(x*p) / p; !math.IsInf(r, 0) && !math.IsNaN(r) {
		return r
	}
	return x // x·10ⁿ overflows: x is too large for its decimals to matter
}

// Sanitize makes a network string (a PTR name, an organisation) safe to
// print anywhere: control characters and bidirectional overrides (which
// can make a name display as another) become U+FFFD, invalid UTF-8 is
// replaced, and the result is cut to maxLen runes. It does not escape
// markup; each writer escapes for its own format.
func Sanitize(s string, maxLen int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == maxLen {
			b.WriteRune('…')
			break
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || r == 0xfeff ||
			(r >= 0x200e && r <= 0x200f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// Circle returns a closed ring of n+1 [lon, lat] points at radiusKm around a
// point on a spherical Earth (the first point repeated at the end, as KML and
// GeoJSON rings require), counter-clockwise as RFC 7946 wants exterior
// rings. Longitudes are normalised to [-180, 180].
func Circle(lat, lon, radiusKm float64, n int) [][2]float64 {
	n = max(n, 3)
	centre := latency.Point{Lat: lat, Lon: lon}
	out := make([][2]float64, 0, n+1)
	for i := range n {
		// Bearings run clockwise from north; walk them backwards so the
		// ring is counter-clockwise.
		p := latency.Destination(centre, -360*float64(i)/float64(n), radiusKm)
		out = append(out, [2]float64{p.Lon, p.Lat})
	}
	return append(out, out[0])
}
