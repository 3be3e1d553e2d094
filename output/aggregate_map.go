package output

import (
	"bufio"
	"html"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/geoloc-dev/geoloc/internal/aggregate"
	"github.com/geoloc-dev/geoloc/internal/style"
)

// aggLinkColor is the colour of an aggregated map's links.
const aggLinkColor = "#d95f0e"

// aggScene is an aggregated map: the points and links of an Aggregate, on
// a mapScene's projection and outlines.
type aggScene struct {
	*mapScene
	a      *Aggregate
	points []AggregatePoint
	links  []AggregateLink
	maxN   int // traces through the busiest link
	maxP   int // traces through the busiest place
}

func newAggScene(a *Aggregate) *aggScene {
	s := &aggScene{mapScene: &mapScene{crossed: map[string]bool{}}, a: a, points: a.Points(), links: a.Links(), maxN: a.MaxTraces()}
	minLat, maxLat, minLon, maxLon := 90.0, -90.0, 180.0, -180.0
	found, wraps := false, false
	for _, p := range s.points {
		found = true
		minLat, maxLat = min(minLat, p.Lat), max(maxLat, p.Lat)
		minLon, maxLon = min(minLon, p.Lon), max(maxLon, p.Lon)
		s.maxP = max(s.maxP, p.Traces)
	}
	for _, l := range s.links {
		if math.Abs(l.To.Lon-l.From.Lon) > 180 {
			wraps = true
		}
	}
	for _, c := range a.Countries() {
		s.crossed[c.Country] = true
	}
	s.proj = view(minLat, maxLat, minLon, maxLon, found, wraps)
	return s
}

// writeAggMap writes the aggregated map as an <svg> element: links as
// paths whose width grows with the logarithm of their count, places as
// circles (starts as squares) sized the same way, hollow when most traces
// drew them uncertain; every element has a <title> with its count.
func (s *aggScene) writeAggMap(b *strings.Builder, widthPx float64, standalone bool) {
	upp := s.writeBase(b, widthPx, standalone)
	b.WriteString(`<g class="links" fill="none" stroke="` + aggLinkColor + `" stroke-opacity="0.6" stroke-linecap="round">`)
	for _, l := range s.links {
		b.WriteString(`<path class="link" data-n="` + strconv.Itoa(l.Traces) + `" stroke-width="`)
		num(b, aggregate.Width(l.Traces, s.maxN, 0.6, 6), 2)
		b.WriteString(`" vector-effect="non-scaling-stroke" d="`)
		for _, part := range SplitAntimeridian([][2]float64{{l.From.Lon, l.From.Lat}, {l.To.Lon, l.To.Lat}}) {
			for k, p := range part {
				if k == 0 {
					b.WriteByte('M')
				} else {
					b.WriteByte('L')
				}
				x, y := s.proj.xy(p[1], p[0])
				num(b, x, 2)
				b.WriteByte(' ')
				num(b, y, 2)
			}
		}
		b.WriteString(`"><title>`)
		b.WriteString(html.EscapeString(placeTitle(l.From) + " → " + placeTitle(l.To) + ": " + plural(l.Traces, "trace")))
		b.WriteString(`</title></path>`)
	}
	b.WriteString(`</g><g class="places" stroke="#ffffff" stroke-width="`)
	num(b, upp, 3)
	b.WriteString(`">`)
	for _, p := range s.points {
		x, y := s.proj.xy(p.Lat, p.Lon)
		r := aggregate.Width(p.Traces, s.maxP, 2.5, 7) * upp
		col := style.Hex(style.ASColor(p.ASN))
		fill, extra := col, ""
		if p.Start {
			col = "#555555"
			fill = col
		}
		if p.Uncertain*2 > p.Traces {
			fill = "#ffffff"
			extra = ` stroke="` + col + `" stroke-width="` + strconv.FormatFloat(style.Round(1.5*upp, 3), 'f', -1, 64) + `"`
		}
		if p.Start {
			b.WriteString(`<rect class="start" data-n="` + strconv.Itoa(p.Traces) + `" x="`)
			num(b, x-r, 2)
			b.WriteString(`" y="`)
			num(b, y-r, 2)
			b.WriteString(`" width="`)
			num(b, 2*r, 2)
			b.WriteString(`" height="`)
			num(b, 2*r, 2)
		} else {
			b.WriteString(`<circle class="place" data-n="` + strconv.Itoa(p.Traces) + `" cx="`)
			num(b, x, 2)
			b.WriteString(`" cy="`)
			num(b, y, 2)
			b.WriteString(`" r="`)
			num(b, r, 2)
		}
		b.WriteString(`" fill="` + fill + `"` + extra + `><title>`)
		t := placeTitle(p) + ": " + plural(p.Traces, "trace")
		if p.Uncertain > 0 {
			t += " (" + strconv.Itoa(p.Uncertain) + " uncertain)"
		}
		b.WriteString(html.EscapeString(t))
		if p.Start {
			b.WriteString(`</title></rect>`)
		} else {
			b.WriteString(`</title></circle>`)
		}
	}
	b.WriteString(`</g>`)
	s.writeAggLabels(b, upp)
	b.WriteString(`</svg>`)
}

// aggMaxLabels is the number of place names an aggregated map writes at
// most: the busiest places' cities, one label per name, none overlapping.
const aggMaxLabels = 30

func (s *aggScene) writeAggLabels(b *strings.Builder, upp float64) {
	fs := 11 * upp
	b.WriteString(`<g class="labels" font-family="sans-serif" fill="#333333" stroke="#ffffff" paint-order="stroke" stroke-width="`)
	num(b, 2.5*upp, 3)
	b.WriteString(`" font-size="`)
	num(b, fs, 2)
	b.WriteString(`">`)
	var placed [][4]float64
	seen := map[string]bool{}
	for _, p := range s.points {
		if len(seen) == aggMaxLabels {
			break
		}
		if p.Start || p.City == "" {
			continue
		}
		name := p.City
		if p.Country != "" {
			name += ", " + p.Country
		}
		if seen[name] {
			continue
		}
		x, y := s.proj.xy(p.Lat, p.Lon)
		r := aggregate.Width(p.Traces, s.maxP, 2.5, 7) * upp
		x, y = x+r+2*upp, y-r
		box := [4]float64{x, y - fs, x + float64(len([]rune(name)))*0.6*fs, y + 0.2*fs}
		if overlaps(placed, box) {
			continue
		}
		seen[name] = true
		placed = append(placed, box)
		b.WriteString(`<text x="`)
		num(b, x, 2)
		b.WriteString(`" y="`)
		num(b, y, 2)
		b.WriteString(`">`)
		b.WriteString(html.EscapeString(name))
		b.WriteString(`</text>`)
	}
	b.WriteString(`</g>`)
}

// aggSummary says in one line what an aggregated map shows.
func aggSummary(a *Aggregate, places, links int) string {
	return plural(a.Traces(), "trace") + ", aggregated: each distinct link between consecutive located hops drawn once (" +
		plural(links, "link") + "), wider the more traces take it; each place once (" + plural(places, "place") + ")"
}

// aggDropped says what the cap left out, or "".
func aggDropped(a *Aggregate) string {
	links, traces, places := a.Dropped()
	if links == 0 && places == 0 {
		return ""
	}
	return "left out to keep the map bounded: the " + plural(links, "least-used link") + " (" + plural(traces, "traversal") +
		") and " + plural(places, "least-used place")
}

// writeSVGAggregate writes a static SVG of an Aggregate, with its
// summary, the countries crossed with their counts of traces, and what the
// cap left out, below the map.
func writeSVGAggregate(w io.Writer, a *Aggregate, opts Options) error {
	s := newAggScene(a)
	title := opts.Title
	if title == "" {
		title = "geoloc"
	}
	const W = mapWidthPx
	mapH := math.Round(W * s.proj.vb.h / s.proj.vb.w)
	const maxRows = 12
	cs := a.Countries()
	rows := min(len(cs), maxRows+1)
	legendH := 64 + 16*float64(rows)

	var b strings.Builder
	svgOpen(&b, W, mapH+legendH, title)
	s.writeAggMap(&b, W, true)
	svgLegendBox(&b, W, mapH, legendH)
	text := func(x, y float64, size int, weight, s string) {
		svgText(&b, x, y, size, weight, s, 200)
	}
	y := mapH + 22
	text(12, y, 13, "bold", aggSummary(a, len(s.points), len(s.links)))
	if d := aggDropped(a); d != "" {
		text(12, y+18, 11, "", d)
	}
	y += 42
	text(12, y, 13, "bold", "countries crossed, by traces")
	for k, c := range cs {
		yy := y + 18 + 16*float64(k)
		if k == maxRows {
			text(12, yy, 11, "", "+ "+strconv.Itoa(len(cs)-maxRows)+" more")
			break
		}
		text(12, yy, 11, "", c.Country+" "+c.Name+" ("+strconv.Itoa(c.Traces)+")")
	}
	return svgClose(w, &b)
}

// aggMaxLinkRows is the number of busiest links the HTML page lists.
const aggMaxLinkRows = 50

type aggLinkRow struct {
	From, To string
	Traces   int
}

type aggPage struct {
	Title, CSP, Summary, Dropped string
	CSS                          template.CSS
	Script                       template.JS
	Map                          template.HTML
	Countries                    []CountryCount
	Links                        []aggLinkRow
	MoreLinks                    int
}

var aggPageTemplate = pageWith("agg", `{{define "summary"}}{{.Summary}}.{{if .Dropped}} {{.Dropped}}.{{end}} Hover a link or a place for its count; scroll to zoom, drag to pan, double-click to reset.{{end}}{{template "head" .}}<main>
<div class="left">
<div id="mapbox">{{.Map}}</div>
</div>
<aside>
<section><h2>Countries crossed</h2><table><thead><tr><th>country</th><th>traces</th></tr></thead><tbody>
{{range .Countries}}<tr><td>{{.Country}} {{.Name}}</td><td>{{.Traces}}</td></tr>
{{end}}</tbody></table></section>
<section><h2>Busiest links</h2><table><thead><tr><th>from</th><th>to</th><th>traces</th></tr></thead><tbody>
{{range .Links}}<tr><td>{{.From}}</td><td>{{.To}}</td><td>{{.Traces}}</td></tr>
{{end}}</tbody></table>{{if .MoreLinks}}<p>+ {{.MoreLinks}} more</p>{{end}}</section>
</aside>
</main>
{{template "footer"}}<div id="details" hidden></div>
<script type="application/json" id="geoloc-data">{"traces":[]}</script>
<script>{{.Script}}</script>
</body>
</html>
`)

// writeHTMLAggregate writes one self-contained page of an Aggregate: the
// aggregated SVG map (tooltips give the counts; the map page's script
// zooms and pans it), the countries crossed with their counts of traces
// and the busiest links. As the per-trace page, its
// Content-Security-Policy allows only its own script and style.
func writeHTMLAggregate(w io.Writer, a *Aggregate, opts Options) error {
	title := opts.Title
	if title == "" {
		title = "geoloc"
	}
	s := newAggScene(a)
	var m strings.Builder
	s.writeAggMap(&m, 800, false)
	page := aggPage{
		Title:     style.Sanitize(title, 255),
		CSS:       template.CSS(mapCSS),
		Script:    template.JS(mapJS),
		Map:       template.HTML(m.String()),
		Summary:   aggSummary(a, len(s.points), len(s.links)),
		Dropped:   aggDropped(a),
		Countries: a.Countries(),
		CSP: "default-src 'none'; script-src " + cspHash(mapJS) + "; style-src " + cspHash(mapCSS) +
			"; img-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'",
	}
	for i, l := range s.links {
		if i == aggMaxLinkRows {
			page.MoreLinks = len(s.links) - aggMaxLinkRows
			break
		}
		page.Links = append(page.Links, aggLinkRow{From: placeTitle(l.From), To: placeTitle(l.To), Traces: l.Traces})
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := aggPageTemplate.Execute(bw, page); err != nil {
		return err
	}
	return bw.Flush()
}
