package kml_test

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/aggregate"
	"github.com/geoloc-dev/geoloc/internal/outputtest"
	"github.com/geoloc-dev/geoloc/kml"
)

func renderAggregate(t testing.TB, results []*geoloc.TraceResult, opts kml.Options) []byte {
	t.Helper()
	a := aggregate.New(aggregate.Options{})
	for _, r := range results {
		a.Add(r)
	}
	var buf bytes.Buffer
	require.NoError(t, kml.WriteAggregate(&buf, a, opts))
	return buf.Bytes()
}

func TestAggregateGolden(t *testing.T) {
	tests := []struct {
		name    string
		results []*geoloc.TraceResult
	}{
		{"aggregate.kml", append(outputtest.Traces(), outputtest.Many(8)...)},
		{"aggregate-hostile.kml", outputtest.Hostile()},
		{"aggregate-empty.kml", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := renderAggregate(t, tt.results, kml.Options{Name: "aggregate"})
			wellFormed(t, out)
			golden(t, tt.name, out)
		})
	}
}

// Each distinct link is one LineString placemark with its count in its
// name and ExtendedData, styled by its width; places are Points.
func TestAggregateStructure(t *testing.T) {
	rs := outputtest.Many(8) // eight traces Oslo → Frankfurt → somewhere
	out := renderAggregate(t, rs, kml.Options{})
	var doc struct {
		Folders []struct {
			Name       string `xml:"name"`
			Placemarks []struct {
				Name     string `xml:"name"`
				StyleURL string `xml:"styleUrl"`
				Data     []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value"`
				} `xml:"ExtendedData>Data"`
				Line  *struct{} `xml:"LineString"`
				Point *struct{} `xml:"Point"`
			} `xml:"Placemark"`
		} `xml:"Document>Folder"`
	}
	require.NoError(t, xml.Unmarshal(out, &doc))
	require.Len(t, doc.Folders, 2)
	assert.Equal(t, "places", doc.Folders[0].Name)
	assert.Equal(t, "links", doc.Folders[1].Name)
	for _, p := range doc.Folders[0].Placemarks {
		assert.NotNil(t, p.Point, p.Name)
	}
	links := doc.Folders[1].Placemarks
	require.NotEmpty(t, links)
	first := links[0]
	assert.NotNil(t, first.Line)
	assert.Equal(t, "Oslo → Frankfurt am Main: 8 traces", first.Name)
	assert.Equal(t, "#link8", first.StyleURL, "the busiest link is the widest")
	assert.Equal(t, "traces", first.Data[0].Name)
	assert.Equal(t, "8", first.Data[0].Value)
	last := links[len(links)-1]
	assert.True(t, strings.HasSuffix(last.Name, ": 1 trace"), last.Name)
	assert.Equal(t, "#link1", last.StyleURL)
}

// GDAL reads the aggregate as two layers: the places and the links.
func TestAggregateOgrinfo(t *testing.T) {
	bin, err := exec.LookPath("ogrinfo")
	if err != nil {
		t.Skip("ogrinfo not installed (Debian gdal-bin)")
	}
	rs := outputtest.Many(8)
	a := aggregate.New(aggregate.Options{})
	for _, r := range rs {
		a.Add(r)
	}
	path := filepath.Join(t.TempDir(), "aggregate.kml")
	require.NoError(t, os.WriteFile(path, renderAggregate(t, rs, kml.Options{}), 0o644))
	out, err := exec.Command(bin, "-ro", "-al", "-so", path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, map[string]int{"places": len(a.Points()), "links": len(a.Links())}, layerCounts(string(out)), "%s", out)
}
