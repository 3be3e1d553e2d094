package e2e

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// corpusFiles are the real traceroute outputs kept in the repository (copied
// from ../shared/corpus with their origin by the parser owners), every one a
// valid input: the sample of the README, the text and structured formats,
// and the RIPE Atlas results of ripe.atlas.sagan's tests, unwrapped from
// their test records into one result a line (written into dir).
func corpusFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	for _, root := range []string{"traceroute/testdata/text", "traceroute/testdata/json"} {
		err := filepath.WalkDir(repoPath(root), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "expected" || d.Name() == "fuzz" {
					return filepath.SkipDir
				}
				return nil
			}
			name := d.Name()
			switch {
			case strings.HasSuffix(name, ".md"), strings.HasSuffix(name, ".sh"),
				strings.HasPrefix(name, "expected"), strings.HasPrefix(name, "sagan_"),
				name == "golden.jsonl", name == "annotations-incomplete.json",
				strings.HasPrefix(name, "invalid-"):
				return nil
			case strings.Contains(filepath.ToSlash(p), "/text/jc/") && strings.HasSuffix(name, ".json"):
				return nil // jc's own parse of the .out beside it, not traceroute output
			}
			files = append(files, p)
			return nil
		})
		require.NoError(t, err)
	}
	files = append(files, repoPath("testdata/sample/ntt-tokyo-ipv6-traceroute.txt"), atlasResults(t, dir))
	require.Greater(t, len(files), 60, "the corpus copies in traceroute/testdata are missing")
	return files
}

// atlasResults unwraps sagan's {"test":...,"result":{...}} lines into the
// RIPE Atlas results people download, one a line.
func atlasResults(t *testing.T, dir string) string {
	t.Helper()
	f, err := os.Open(repoPath("traceroute/testdata/json/ripe-atlas/sagan_traceroute_tests.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	var out bytes.Buffer
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct {
			Result json.RawMessage `json:"result"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
		out.Write(rec.Result)
		out.WriteByte('\n')
	}
	require.NoError(t, sc.Err())
	p := filepath.Join(dir, "atlas-results.jsonl")
	require.NoError(t, os.WriteFile(p, out.Bytes(), 0o644))
	return p
}

// harFiles are the real HARs of testdata/har (Chrome, Firefox).
func harFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(repoPath("testdata/har/*.har"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

var summaryCountRE = regexp.MustCompile(`(?m)^(\d+) traces? (read|located|summarised)`)

// summaryCount is the N of "N traces read/located/summarised".
func summaryCount(t *testing.T, stderr string) int {
	t.Helper()
	m := summaryCountRE.FindStringSubmatch(stderr)
	require.NotNil(t, m, "no summary line on stderr:\n%s", clip(stderr))
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	return n
}

// TestCorpusParse: every corpus file parses, as one batch, with no error,
// and every trace comes out as one line of interchange JSON.
func TestCorpusParse(t *testing.T) {
	files := corpusFiles(t, t.TempDir())
	r := geoloc(t, append([]string{"parse"}, files...)...)
	require.Equal(t, 0, r.code, clip(r.stderr))
	assert.Empty(t, errorLines(r.stderr))
	lines := nonEmptyLines(r.stdout)
	assert.Equal(t, summaryCount(t, r.stderr), len(lines))
	assert.GreaterOrEqual(t, len(lines), len(files), "at least one trace per file")
	formats := map[string]int{}
	for i, l := range lines {
		var tr struct {
			Format string            `json:"format"`
			Hops   []json.RawMessage `json:"hops"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &tr), "line %d", i+1)
		require.NotEmpty(t, tr.Format, "line %d", i+1)
		formats[tr.Format]++
	}
	// The corpus covers (at least) these detected formats.
	for _, f := range []string{"linux-traceroute", "bsd-traceroute", "tracepath", "windows-tracert",
		"mtr-report", "mtr-json", "mtr-csv", "mtr-raw", "ripe-atlas", "ripe-atlas-ping", "globalping", "scamper-json", "junos-xml", "iosxr-xml", "cisco"} {
		assert.Positive(t, formats[f], "no %s trace in the corpus run; got %v", f, formats)
	}
}

// TestCorpusInvalidScamper: M-Lab's deliberately broken scamper files give
// one-line errors FILE:LINE: scamper-json: ..., exit 1, and the good traces
// in the same batch are still written. (The "num-lines", "metadata-uuid"
// and "links" variants break only M-Lab's archive bookkeeping and are read,
// as traceroute/json_conformance_test.go explains.)
func TestCorpusInvalidScamper(t *testing.T) {
	bad, err := filepath.Glob(repoPath("traceroute/testdata/json/mlab-scamper/scamper*/invalid-*"))
	require.NoError(t, err)
	require.NotEmpty(t, bad)
	good := repoPath("traceroute/testdata/json/mlab-scamper/scamper2/valid-complex")
	r := geoloc(t, append([]string{"parse", good}, bad...)...)
	require.Equal(t, 1, r.code, clip(r.stderr))
	named := map[string]bool{}
	lineRE := regexp.MustCompile(`^(.+?):(\d+): scamper-json: \S`)
	for _, l := range errorLines(r.stderr) {
		m := lineRE.FindStringSubmatch(l)
		require.NotNil(t, m, "not FILE:LINE: scamper-json: ...: %q", l)
		assert.Contains(t, bad, m[1])
		named[filepath.Base(filepath.Dir(m[1]))+"/"+filepath.Base(m[1])] = true
	}
	for _, f := range bad {
		name := filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f)
		readable := strings.Contains(name, "num-lines") || strings.Contains(name, "metadata-uuid") || strings.Contains(name, "-links")
		assert.Equal(t, !readable, named[name], "%s: error reported = %v", name, named[name])
	}
	first := nonEmptyLines(r.stdout)
	require.NotEmpty(t, first)
	assert.Contains(t, first[0], `"format":"scamper-json"`, "the good file's trace is written first")
}

// TestCorpusPipeline runs the whole corpus through parse, regeo (from the
// parsed JSON Lines, from the raw files and from standard input: all three
// must agree byte for byte), every -o writer, and report, and checks each
// output with the tool people open it in.
func TestCorpusPipeline(t *testing.T) {
	dir := t.TempDir()
	files := corpusFiles(t, dir)

	parsed := geoloc(t, append([]string{"parse", "-q"}, files...)...)
	require.Equal(t, 0, parsed.code, clip(parsed.stderr))
	traces := filepath.Join(dir, "traces.jsonl")
	require.NoError(t, os.WriteFile(traces, []byte(parsed.stdout), 0o644))
	nTraces := len(nonEmptyLines(parsed.stdout))

	outs := []string{"x.kml", "x.kmz", "x.geojson", "x.html", "x.csv", "x.dot", "x.svg", "x.jsonl"}
	args := []string{"regeo", "--no-db", traces}
	for _, o := range outs {
		args = append(args, "-o", o)
	}
	r := run(t, cmdSpec{args: args, dir: dir})
	require.Equal(t, 0, r.code, clip(r.stderr))
	assert.Empty(t, r.stdout, "with -o and stdout piped, nothing goes to stdout")
	assert.Equal(t, nTraces, summaryCount(t, r.stderr))
	assert.Contains(t, r.stderr, "wrote "+strings.Join(outs, ", "))
	results, err := os.ReadFile(filepath.Join(dir, "x.jsonl"))
	require.NoError(t, err)

	direct := geoloc(t, append([]string{"regeo", "--no-db", "-q"}, files...)...)
	require.Equal(t, 0, direct.code, clip(direct.stderr))
	assert.Equal(t, string(results), direct.stdout, "regeo of the raw files and of their parse differ")
	f, err := os.Open(traces)
	require.NoError(t, err)
	defer f.Close()
	piped := run(t, cmdSpec{args: []string{"regeo", "--no-db", "-q", "-"}, stdin: f})
	require.Equal(t, 0, piped.code, clip(piped.stderr))
	assert.Equal(t, string(results), piped.stdout, "regeo - differs from regeo FILE")

	st := checkResults(t, results, nTraces)
	t.Logf("%d traces, %d hops, %d located", nTraces, st.hops, st.located)
	require.Positive(t, st.located, "the corpus has router names with location codes")

	t.Run("geojson", func(t *testing.T) { checkGeoJSON(t, filepath.Join(dir, "x.geojson"), st) })
	t.Run("csv", func(t *testing.T) { checkCSV(t, filepath.Join(dir, "x.csv"), st) })
	t.Run("html", func(t *testing.T) { checkHTML(t, filepath.Join(dir, "x.html")) })
	t.Run("kml", func(t *testing.T) { checkKML(t, filepath.Join(dir, "x.kml"), st) })
	t.Run("kmz", func(t *testing.T) { checkKMZ(t, filepath.Join(dir, "x.kmz"), dir, st) })
	t.Run("svg", func(t *testing.T) {
		xmllint := needTool(t, "xmllint", "libxml2-utils")
		tool(t, xmllint, "--noout", "--nonet", filepath.Join(dir, "x.svg"))
	})
	t.Run("dot", func(t *testing.T) {
		dot := needTool(t, "dot", "graphviz")
		svg := tool(t, dot, "-Tsvg", filepath.Join(dir, "x.dot"))
		assert.Contains(t, svg, "<svg")
	})
	t.Run("report", func(t *testing.T) {
		rep := geoloc(t, "report", filepath.Join(dir, "x.jsonl"), "--format", "table")
		require.Equal(t, 0, rep.code, clip(rep.stderr))
		assert.Contains(t, rep.stderr, fmt.Sprintf("%d traces summarised, 0 failed", nTraces))
		assert.Contains(t, rep.stdout, "COUNTRY")
		js := geoloc(t, "report", "-q", "--format", "json", filepath.Join(dir, "x.jsonl"))
		require.Equal(t, 0, js.code, clip(js.stderr))
		var doc struct {
			Traces       []json.RawMessage `json:"traces"`
			Destinations int               `json:"destinations"`
			Unlocated    int               `json:"unlocated"`
		}
		require.NoError(t, json.Unmarshal([]byte(js.stdout), &doc))
		assert.Len(t, doc.Traces, nTraces)
		assert.Equal(t, st.hops-st.located, doc.Unlocated)
	})
}

// resultStats counts what the engine's JSON Lines hold.
type resultStats struct {
	hops, located int
}

// checkResults reads the engine's JSON Lines: one result a line, every
// located hop with a location inside the globe and a confidence in [0,1].
func checkResults(t *testing.T, b []byte, want int) resultStats {
	t.Helper()
	var st resultStats
	lines := nonEmptyLines(string(b))
	require.Len(t, lines, want)
	for i, l := range lines {
		var res struct {
			Hops []struct {
				TTL      int `json:"ttl"`
				Location *struct {
					Lat      float64 `json:"lat"`
					Lon      float64 `json:"lon"`
					RadiusKm float64 `json:"radius_km"`
				} `json:"location"`
				Confidence float64 `json:"confidence"`
				Why        string  `json:"why"`
			} `json:"hops"`
		}
		require.NoError(t, json.Unmarshal([]byte(l), &res), "result line %d", i+1)
		for _, h := range res.Hops {
			st.hops++
			assert.GreaterOrEqual(t, h.Confidence, 0.0)
			assert.LessOrEqual(t, h.Confidence, 1.0)
			if h.Location == nil {
				assert.NotEmpty(t, h.Why, "line %d ttl %d: unlocated hop without a why", i+1, h.TTL)
				continue
			}
			st.located++
			assert.True(t, h.Location.Lat >= -90 && h.Location.Lat <= 90 && h.Location.Lon >= -180 && h.Location.Lon <= 180,
				"line %d ttl %d: %+v", i+1, h.TTL, *h.Location)
			assert.GreaterOrEqual(t, h.Location.RadiusKm, 0.0)
		}
	}
	return st
}

// checkGeoJSON: RFC 7946 FeatureCollection, one Point per located hop,
// longitude first; GDAL opens it.
func checkGeoJSON(t *testing.T, path string, st resultStats) {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Type     string `json:"type"`
			Geometry struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
			Properties struct {
				Kind string `json:"kind"`
			} `json:"properties"`
		} `json:"features"`
	}
	require.NoError(t, json.Unmarshal(b, &fc))
	assert.Equal(t, "FeatureCollection", fc.Type)
	points := 0
	for _, f := range fc.Features {
		assert.Equal(t, "Feature", f.Type)
		if f.Geometry.Type != "Point" {
			continue
		}
		if f.Properties.Kind == "hop" { // known sources (Globalping probes) are points too
			points++
		}
		var c []float64
		require.NoError(t, json.Unmarshal(f.Geometry.Coordinates, &c))
		require.GreaterOrEqual(t, len(c), 2)
		assert.True(t, c[0] >= -180 && c[0] <= 180 && c[1] >= -90 && c[1] <= 90, "lon, lat: %v", c)
	}
	assert.Equal(t, st.located, points, "one point per located hop")
	ogr := needTool(t, "ogrinfo", "gdal-bin")
	assert.Equal(t, len(fc.Features), featureCount(tool(t, ogr, "-ro", "-al", "-so", path)))
}

var featureCountRE = regexp.MustCompile(`Feature Count: (\d+)`)

// featureCount sums ogrinfo's "Feature Count" over all layers.
func featureCount(ogrinfo string) int {
	n := 0
	for _, m := range featureCountRE.FindAllStringSubmatch(ogrinfo, -1) {
		v, _ := strconv.Atoi(m[1])
		n += v
	}
	return n
}

// checkCSV: one header and one row per hop, every row as wide as the header.
func checkCSV(t *testing.T, path string, st resultStats) {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	assert.Contains(t, recs[0], "addr")
	assert.Len(t, recs, st.hops+1)
}

// externalRefRE finds anything in an HTML page that would make a browser
// fetch from a server: src/href to a URL with a scheme or protocol-relative,
// CSS url() or @import of one.
var externalRefRE = regexp.MustCompile(`(?i)(\b(src|href|action|poster|data)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?\s*(https?:)?//|@import)`)

// checkHTML: one self-contained file, no reference a browser would fetch.
func checkHTML(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	s := string(b)
	assert.True(t, strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "<!doctype html"), "starts %q", s[:min(len(s), 40)])
	assert.Contains(t, strings.ToLower(s), "</html>")
	assert.Nil(t, externalRefRE.FindStringIndex(s), "external reference: %q", externalRefRE.FindString(s))
}

// checkKML: well-formed (xmllint) and GDAL sees at least a feature per
// located hop.
func checkKML(t *testing.T, path string, st resultStats) {
	xmllint := needTool(t, "xmllint", "libxml2-utils")
	tool(t, xmllint, "--noout", "--nonet", path)
	ogr := needTool(t, "ogrinfo", "gdal-bin")
	n := featureCount(tool(t, ogr, "-ro", "-al", "-so", path))
	assert.GreaterOrEqual(t, n, st.located, "placemarks")
}

// checkKMZ: a zip whose KML is the same well-formed document.
func checkKMZ(t *testing.T, path, dir string, st resultStats) {
	zr, err := zip.OpenReader(path)
	require.NoError(t, err)
	defer zr.Close()
	names := []string{}
	var doc []byte
	for _, f := range zr.File {
		names = append(names, f.Name)
		if strings.HasSuffix(f.Name, ".kml") && doc == nil {
			rc, err := f.Open()
			require.NoError(t, err)
			doc, err = io.ReadAll(rc)
			rc.Close()
			require.NoError(t, err)
		}
	}
	require.NotNil(t, doc, "no .kml inside the KMZ: %v", names)
	assert.True(t, slices.Contains(names, "doc.kml"), "the KML of a KMZ is doc.kml by convention: %v", names)
	kml := filepath.Join(dir, "from-kmz.kml")
	require.NoError(t, os.WriteFile(kml, doc, 0o644))
	checkKML(t, kml, st)
	ogr := needTool(t, "ogrinfo", "gdal-bin")
	assert.GreaterOrEqual(t, featureCount(tool(t, ogr, "-ro", "-al", "-so", path)), st.located)
}
