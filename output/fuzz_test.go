package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/geoloc-dev/geoloc/internal/outputtest"
)

// FuzzWriters feeds hostile strings through every writer and checks that
// each output still parses as its format and carries no injected markup.
func FuzzWriters(f *testing.F) {
	f.Add(outputtest.HostileName, outputtest.HostileOrg, "Oslo", "=1+1")
	f.Add("a.example", "Org", "", "")
	f.Add("\xff\xfe<", "]]>", "&#0;", "\u2028\"")
	f.Add(`\"; x -> y [label="`, "}\n}", "</script><script>", "\r\n")
	f.Fuzz(func(t *testing.T, name, org, city, method string) {
		rs := outputtest.Hostile()
		rs[0].Destination.Name = name
		for i := range rs[0].Hops {
			h := &rs[0].Hops[i]
			h.Name, h.ASOrg, h.Method, h.Why = name, org, method, city
			if h.Location != nil {
				h.Location.City, h.Location.Region, h.Location.Country = city, org, name
			}
		}
		out := func(format string) []byte {
			w, err := ForName(format)
			require.NoError(t, err)
			var buf bytes.Buffer
			require.NoError(t, w.Write(&buf, rs, Options{Circles: true, Title: org}))
			return buf.Bytes()
		}
		wellFormedXML(t, out("svg"))
		wellFormedXML(t, out("kml"))
		require.True(t, json.Valid(out("geojson")))
		for _, l := range bytes.Split(bytes.TrimSpace(out("jsonl")), []byte("\n")) {
			require.True(t, json.Valid(l))
		}
		recs, err := csv.NewReader(bytes.NewReader(out("csv"))).ReadAll()
		require.NoError(t, err)
		require.Len(t, recs, 1+len(rs[0].Hops))

		dot := string(out("dot"))
		for _, line := range strings.Split(dot, "\n") {
			require.True(t, closedStrings(line), "a DOT string runs past the end of the line: %q", line)
		}

		page := out("html")
		doc, err := html.Parse(bytes.NewReader(page))
		require.NoError(t, err)
		scripts := 0
		var walk func(n *html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode {
				switch n.Data {
				case "script":
					scripts++
				case "img", "iframe", "object", "embed", "link", "b", "i":
					t.Fatalf("injected <%s>", n.Data)
				}
				for _, a := range n.Attr {
					if strings.HasPrefix(strings.ToLower(a.Key), "on") {
						t.Fatalf("injected %s attribute", a.Key)
					}
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
		assert.Equal(t, 2, scripts)
	})
}

// closedStrings scans a line of DOT and reports whether every quoted string
// ends on it (backslash escapes the next character inside a string).
func closedStrings(line string) bool {
	in := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		}
	}
	return !in
}

// FuzzAggregateWriters feeds hostile strings through every map writer
// drawing the aggregate: each output still parses as its format and
// carries no injected markup.
func FuzzAggregateWriters(f *testing.F) {
	f.Add(outputtest.HostileName, outputtest.HostileOrg, "Oslo", 59.9, 10.7)
	f.Add("a.example", "Org", "", 90.0, 180.0)
	f.Add("\xff\xfe<", "]]>", "&#0;", -89.99, -179.999)
	f.Fuzz(func(t *testing.T, name, org, city string, lat, lon float64) {
		rs := append(outputtest.Hostile(), outputtest.Hostile()...)
		for _, r := range rs {
			r.Destination.Name = name
			for i := range r.Hops {
				h := &r.Hops[i]
				h.Name, h.ASOrg = name, org
				if h.Location != nil {
					h.Location.City, h.Location.Country = city, name
				}
			}
		}
		rs[1].Hops[0].Location.Lat, rs[1].Hops[0].Location.Lon = lat, lon
		out := func(format string) []byte {
			w, err := ForName(format)
			require.NoError(t, err)
			var buf bytes.Buffer
			require.NoError(t, w.Write(&buf, rs, Options{Aggregate: true, Title: org}))
			return buf.Bytes()
		}
		wellFormedXML(t, out("svg"))
		wellFormedXML(t, out("kml"))
		require.True(t, json.Valid(out("geojson")))
		doc, err := html.Parse(bytes.NewReader(out("html")))
		require.NoError(t, err)
		scripts := 0
		var walk func(n *html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode {
				switch n.Data {
				case "script":
					scripts++
				case "img", "iframe", "object", "embed", "link", "b", "i":
					t.Fatalf("injected <%s>", n.Data)
				}
				for _, a := range n.Attr {
					if strings.HasPrefix(strings.ToLower(a.Key), "on") {
						t.Fatalf("injected %s attribute", a.Key)
					}
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
		assert.Equal(t, 2, scripts)
	})
}
