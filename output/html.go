package output

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/style"
)

//go:embed map.js
var mapJS string

//go:embed map.css
var mapCSS string

// htmlHop is one hop as the page's script sees it.
type htmlHop struct {
	TTL      int      `json:"ttl"`
	Addr     string   `json:"addr,omitempty"`
	Name     string   `json:"name,omitempty"`
	AS       string   `json:"as,omitempty"`
	ASN      uint32   `json:"asn,omitempty"`
	Place    string   `json:"place,omitempty"`
	Lat      *float64 `json:"lat,omitempty"`
	Lon      *float64 `json:"lon,omitempty"`
	RadiusKm float64  `json:"radius_km,omitempty"`
	RTTMs    float64  `json:"rtt_ms,omitempty"`
	Conf     float64  `json:"confidence"`
	Method   string   `json:"method,omitempty"`
	Why      string   `json:"why,omitempty"`
	Evidence string   `json:"evidence,omitempty"`
	Country  string   `json:"cc,omitempty"`
	Inferred bool     `json:"inferred,omitempty"`
	Anycast  bool     `json:"anycast,omitempty"`
}

type htmlTrace struct {
	Title     string    `json:"title"`
	Color     string    `json:"color"`
	Countries []string  `json:"countries"`
	Trombone  bool      `json:"trombone,omitempty"`
	Hops      []htmlHop `json:"hops"`
}

type htmlData struct {
	Traces []htmlTrace `json:"traces"`
}

type legendItem struct {
	Key, Label, Color string
	Count             int
}

type htmlPage struct {
	Title      string
	CSP        string
	CSS        template.CSS
	Script     template.JS
	Data       template.JS
	Map        template.HTML
	Traces     []htmlTrace
	TraceIdx   []int
	Report     *Report
	Orgs       []legendItem
	Countries  []legendItem
	NTraces    int
	NHops      int
	NUnlocated int
	Summary    string
	Threshold  string
}

// pageBase is what the per-trace page and the aggregated page
// (aggPageTemplate) share: "head", the document's head and the page's
// header, whose line below the title is the page's own template "summary"
// (its data needs Title, CSP, CSS and Summary), and "footer".
var pageBase = template.Must(template.New("base").Parse(`{{define "head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<header><h1>{{.Title}}</h1><p class="summary">{{template "summary" .}}</p></header>
{{end}}{{define "footer"}}<footer>Made by geoloc. Country outlines: Natural Earth (public domain). This page loads nothing from the network.</footer>
{{end}}`))

// pageWith is pageBase with a page of name and text added.
func pageWith(name, text string) *template.Template {
	return template.Must(template.Must(pageBase.Clone()).New(name).Parse(text))
}

var pageTemplate = pageWith("page", `{{define "summary"}}{{.Summary}}. Hover or click a hop, a route or a legend entry; scroll to zoom, drag to pan, double-click to reset.{{end}}{{template "head" .}}<main>
<div class="left">
<div id="mapbox">{{.Map}}</div>
<p class="key"><svg width="14" height="14"><rect x="2" y="2" width="10" height="10" fill="#555"/></svg> start (where the trace was measured) <svg width="14" height="14"><rect x="2" y="2" width="10" height="10" fill="#fff" stroke="#555" stroke-dasharray="2"/></svg> start inferred by the engine <svg width="14" height="14"><circle cx="7" cy="7" r="5" fill="#555"/></svg> hop <svg width="14" height="14"><circle cx="7" cy="7" r="5" fill="#fff" stroke="#555" stroke-width="1.5"/></svg> uncertain hop (confidence below {{.Threshold}}, placed from neighbours, or country uncertain; dashed: its radius) ▶ direction of travel; numbers are hop TTLs</p>
<section id="report"><h2>Countries crossed</h2>
<table><thead><tr><th>trace</th><th>countries (min / mean confidence)</th><th>tromboning</th><th>unlocated</th></tr></thead><tbody>
{{range .Report.Traces}}<tr><td>{{.Title}}</td><td>{{range $k, $s := .Steps}}{{if $k}} › {{end}}<span title="{{$s.Name}}, TTL {{$s.FromTTL}}–{{$s.ToTTL}}">{{$s.Country}}</span> <small>{{printf "%.2f" $s.MinConfidence}}/{{printf "%.2f" $s.MeanConfidence}}</small>{{end}}</td><td>{{if .Trombone}}yes: {{range $k, $c := .Returns}}{{if $k}}, {{end}}{{$c}}{{end}}{{end}}</td><td>{{if .Unlocated}}{{.Unlocated}}{{end}}</td></tr>
{{end}}</tbody></table>
<h3>Who saw the traffic</h3>
<div class="cols"><table><thead><tr><th>country</th><th>destinations (of {{.Report.Destinations}})</th><th>hops</th></tr></thead><tbody>
{{range .Report.Countries}}<tr><td>{{.Key}} {{.Name}}</td><td>{{.Destinations}}</td><td>{{.Hops}}</td></tr>
{{end}}</tbody></table>
<table><thead><tr><th>organisation</th><th>destinations (of {{.Report.Destinations}})</th><th>hops</th></tr></thead><tbody>
{{range .Report.Organisations}}<tr><td>{{.Key}} {{.Name}}</td><td>{{.Destinations}}</td><td>{{.Hops}}</td></tr>
{{end}}</tbody></table></div>
</section>
</div>
<aside>
<section id="details"><h2>Details</h2><p class="hint">Click a hop or a route.</p></section>
<section><h2>Traces</h2><ul class="legend" id="legend-traces">{{range $i, $t := .Traces}}<li data-t="{{index $.TraceIdx $i}}"><svg width="22" height="10"><path d="M1 5h20" stroke="{{$t.Color}}" stroke-width="3"/></svg><span>{{$t.Title}}</span>{{if $t.Countries}} <small>{{range $k, $c := $t.Countries}}{{if $k}} › {{end}}{{$c}}{{end}}</small>{{end}}{{if $t.Trombone}} <span class="trombone" title="leaves a country and comes back">↺</span>{{end}}</li>{{end}}</ul></section>
<section><h2>Networks</h2><ul class="legend" id="legend-orgs">{{range .Orgs}}<li data-as="{{.Key}}"><svg width="12" height="12"><circle cx="6" cy="6" r="5" fill="{{.Color}}"/></svg><span>{{.Label}}</span> <small>{{.Count}} dest.</small></li>{{end}}</ul></section>
<section><h2>Countries</h2><ul class="legend" id="legend-countries">{{range .Countries}}<li data-cc="{{.Key}}"><span>{{.Key}} {{.Label}}</span> <small>{{.Count}} dest.</small></li>{{end}}</ul></section>
</aside>
</main>
{{template "footer"}}<script type="application/json" id="geoloc-data">{{.Data}}</script>
<script>{{.Script}}</script>
</body>
</html>
`)

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// WriteHTML writes one self-contained HTML page: the SVG map (country
// outlines embedded, no tiles), legends by trace, organisation and country,
// the countries-crossed report, and a small script for details, highlighting
// and zoom. A Content-Security-Policy of default-src 'none' (script and
// style allowed only by their hashes) guarantees the page requests nothing
// from any server. Network strings reach the page only as escaped text
// (html/template) or as JSON data that the script shows with textContent.
func WriteHTML(w io.Writer, results []*geoloc.TraceResult, opts Options) error {
	return writeHTML(w, slices.All(results), opts)
}

func writeHTML(w io.Writer, results Results, opts Options) error {
	title := opts.Title
	if title == "" {
		title = "geoloc"
	}
	s := newScene(results, opts.Circles)
	var m strings.Builder
	s.writeMap(&m, 800, false) // drawn about 800 px wide beside the legend
	rep := BuildReportSeq(results)

	page := htmlPage{
		Title:  style.Sanitize(title, 255),
		CSS:    template.CSS(mapCSS),
		Script: template.JS(mapJS),
		Map:    template.HTML(m.String()),
		Report: rep,
	}
	page.CSP = "default-src 'none'; script-src " + cspHash(mapJS) + "; style-src " + cspHash(mapCSS) +
		"; img-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'"

	var data htmlData
	data.Traces = []htmlTrace{}
	for i, tr := range results {
		if tr == nil {
			continue
		}
		rt := style.ForTrace(tr, i)
		ht := htmlTrace{
			Title:     style.Sanitize(style.TraceTitle(tr, i), 255),
			Color:     style.Hex(style.TraceColor(i)),
			Countries: rt.Countries,
			Trombone:  rt.Trombone,
			Hops:      make([]htmlHop, len(tr.Hops)),
		}
		for j := range tr.Hops {
			h := &tr.Hops[j]
			hh := htmlHop{
				TTL: h.TTL, Name: style.Sanitize(h.Name, 255), ASN: h.ASN,
				AS:    style.Sanitize(style.ASLabel(h.ASN, h.ASOrg), 255),
				RTTMs: style.Round(h.RTTMs, 3), Conf: style.Round(h.Confidence, 3),
				Method: style.Sanitize(h.Method, 255), Why: style.Sanitize(h.Why, 255),
				Evidence: style.Sanitize(style.EvidenceSummary(h), 1024),
				Inferred: h.Inferred, Anycast: h.Anycast,
			}
			if h.Addr.IsValid() {
				hh.Addr = h.Addr.String()
			}
			if style.Located(h) {
				lat, lon := style.Round(h.Location.Lat, 4), style.Round(h.Location.Lon, 4)
				hh.Lat, hh.Lon = &lat, &lon
				hh.RadiusKm = style.Round(h.Location.RadiusKm, 1)
				hh.Place = style.Sanitize(style.Place(h.Location), 255)
				if cu := style.CountryUncertain(tr, h); cu != nil {
					hh.Place += " (country uncertain: " + style.CountryNames(cu, " or ") + ")"
				}
				hh.Country = style.CountryOf(h.Location)
				page.NHops++
			} else {
				page.NUnlocated++
			}
			ht.Hops[j] = hh
		}
		data.Traces = append(data.Traces, ht)
		page.Traces = append(page.Traces, ht)
		page.TraceIdx = append(page.TraceIdx, i)
		page.NTraces++
	}
	var js bytes.Buffer
	enc := json.NewEncoder(&js) // escapes <, > and &: no "</script>" can appear
	if err := enc.Encode(data); err != nil {
		return err
	}
	page.Data = template.JS(strings.TrimSpace(js.String()))

	for _, a := range s.ases {
		label := style.ASLabel(a.asn, a.org)
		if label == "" {
			label = "unknown AS"
		}
		page.Orgs = append(page.Orgs, legendItem{Key: asKey(a.asn), Label: label, Color: s.asColor(a.asn), Count: len(a.dests)})
	}
	for _, c := range rep.Countries {
		page.Countries = append(page.Countries, legendItem{Key: c.Key, Label: c.Name, Count: c.Destinations})
	}
	page.Summary = plural(page.NTraces, "trace") + ", " + plural(page.NHops, "located hop")
	if page.NUnlocated > 0 {
		page.Summary += ", " + strconv.Itoa(page.NUnlocated) + " not located"
	}
	page.Summary += ", " + pluralES(len(page.Report.Countries), "country", "countries") + ", " + plural(len(page.Orgs), "network")
	page.Threshold = strconv.FormatFloat(style.UncertainConfidence, 'f', -1, 64)
	return pageTemplate.Execute(w, page)
}

func pluralES(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func asKey(asn uint32) string {
	if asn == 0 {
		return "0"
	}
	return strings.TrimPrefix(style.ASLabel(asn, ""), "AS")
}
