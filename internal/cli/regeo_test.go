package cli

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
)

const sample = "testdata/sample/ntt-tokyo-ipv6-traceroute.txt"

func TestGoldenRegeo(t *testing.T) {
	chdirRoot(t)
	city := "testdata/mmdb/GeoLite2-City-Test.mmdb"
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"regeo-names-only", []string{"regeo", sample, "--no-db"}, ExitOK},
		{"regeo-table", []string{"regeo", "--format", "table", sample, "--db", city}, ExitOK},
		{"regeo-from", []string{"regeo", sample, "--no-db", "--from", "35.55,139.78", "--format", "table"}, ExitOK},
		{"regeo-bad-and-good", []string{"regeo", "--no-db", "testdata/har/www.etat.lu-chrome-har-2018.har", sample, "testdata/sample/missing.txt"}, ExitPartial},
		{"regeo-fuse-stdin", []string{"regeo", "--fuse", "-"}, ExitUsage},
		{"regeo-bad-ext", []string{"regeo", sample, "-o", "route.docx"}, ExitUsage},
		{"regeo-geojson-stdout", []string{"regeo", sample, "--no-db", "--format", "geojson"}, ExitOK},
		{"regeo-bad-format", []string{"regeo", sample, "--no-db", "--format", "docx"}, ExitUsage},
		{"regeo-bad-from", []string{"regeo", sample, "--from", "91,200"}, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", nil, tt.args...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			golden(t, tt.name, tt.args, r)
		})
	}
}

// Every stdout line of regeo is a TraceResult with the documented fields.
func TestRegeoJSONL(t *testing.T) {
	chdirRoot(t)
	r := run(t, "", nil, "regeo", sample, "--no-db", "-q")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 1)
	var tr geoloc.TraceResult
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &tr))
	assert.Equal(t, "baeldung.com", tr.Destination.Name)
	assert.Len(t, tr.Hops, 10, "one entry per distinct address per TTL (TTL 9 has two)")
	for _, h := range tr.Hops {
		if h.Location == nil {
			assert.NotEmpty(t, h.Why, "an unplaced hop says why")
		}
	}
}

// Standard input and the same file give the same results; --fuse reads
// files twice and still writes one result per trace.
func TestRegeoStdinAndFuse(t *testing.T) {
	chdirRoot(t)
	b, err := os.ReadFile(sample)
	require.NoError(t, err)
	a := run(t, string(b), nil, "regeo", "-", "--no-db", "-q")
	f := run(t, "", nil, "regeo", sample, "--no-db", "-q")
	require.Equal(t, ExitOK, a.code, a.stderr)
	assert.Equal(t, f.stdout, a.stdout)
	fu := run(t, "", nil, "regeo", "--fuse", sample, sample, "--no-db", "-q", "--from", "35.55,139.78")
	require.Equal(t, ExitOK, fu.code, fu.stderr)
	assert.Equal(t, 2, strings.Count(fu.stdout, "\n"))
}

// -o writes the map atomically; the KML is well-formed and has a folder
// for the trace.
func TestRegeoWritesKML(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "route.kml")
	jl := filepath.Join(dir, "route.jsonl")
	r := run(t, "", nil, "regeo", sample, "-o", out, "-o", jl, "--db", "testdata/mmdb/GeoLite2-City-Test.mmdb")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Empty(t, r.stdout, "with -o and stdout not a terminal, stdout stays quiet")
	assert.Contains(t, r.stderr, "wrote "+out+", "+jl)
	doc := parseKML(t, out)
	assert.Equal(t, 1, doc.folders)
	b, err := os.ReadFile(jl)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(b), "\n"))
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, ents, 2, "no temporary files left behind")
}

type kmlSummary struct {
	placemarks, folders, points int
}

// parseKML decodes a KML file with encoding/xml and counts its elements.
func parseKML(t *testing.T, path string) kmlSummary {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	dec := xml.NewDecoder(f)
	var s kmlSummary
	root := ""
	depth := 0 // of Folder elements: a trace's folder may hold an uncertainty folder
	for {
		tok, err := dec.Token()
		if err != nil {
			require.ErrorContains(t, err, "EOF")
			break
		}
		if ee, ok := tok.(xml.EndElement); ok && ee.Name.Local == "Folder" {
			depth--
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Space + " " + se.Name.Local
			}
			switch se.Name.Local {
			case "Placemark":
				s.placemarks++
			case "Folder":
				depth++
				if depth == 1 {
					s.folders++
				}
			case "Point":
				s.points++
			}
		}
	}
	require.Equal(t, "http://www.opengis.net/kml/2.2 kml", root)
	return s
}

// Colour only when asked or on a terminal, and never with NO_COLOR.
func TestColorPolicy(t *testing.T) {
	chdirRoot(t)
	args := []string{"regeo", sample, "--no-db", "--format", "table", "-q"}
	plain := run(t, "", nil, args...)
	require.Equal(t, ExitOK, plain.code, plain.stderr)
	assert.NotContains(t, plain.stdout, "\x1b[", "not a terminal: no colour")
	forced := run(t, "", nil, append(args, "--color", "always")...)
	assert.Contains(t, forced.stdout, "\x1b[1m", "--color always")
	noColor := run(t, "", map[string]string{"NO_COLOR": "1"}, append(args, "--color", "always")...)
	assert.Equal(t, plain.stdout, noColor.stdout, "NO_COLOR wins over --color always")
	bad := run(t, "", nil, append(args, "--color", "sometimes")...)
	assert.Equal(t, ExitUsage, bad.code)
}
