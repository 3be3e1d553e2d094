// Package output writes geoloc results in every format the CLI offers:
// KML and KMZ (package kml), GeoJSON, CSV, JSON Lines and JSON, an offline
// HTML map, a static SVG map, a Graphviz DOT AS graph and the
// countries-crossed report. [ForName] picks a writer from a file extension
// or format name; [WriteFileAtomic] writes a file so that a crash or an
// error never leaves half a map behind.
//
// Every writer escapes for its own format the strings that came from the
// network (PTR names, organisation names): a hostile reverse zone can
// neither break the file nor inject markup, formulas or escape sequences.
package output

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/kml"
)

// Options tune the writers; the zero value is right for most uses.
type Options struct {
	// Title names the document (KML document, HTML page, SVG title);
	// "" means "geoloc".
	Title string
	// Circles draws each located hop's uncertainty radius (KML, GeoJSON,
	// HTML, SVG).
	Circles bool
}

// Writer writes a set of trace results in one format.
type Writer interface {
	// Format is the canonical format name ("kml", "geojson", ...).
	Format() string
	// Write writes results to w. It reads results and never modifies them.
	Write(w io.Writer, results []*geoloc.TraceResult, opts Options) error
}

type writerFunc struct {
	name string
	fn   func(io.Writer, []*geoloc.TraceResult, Options) error
}

func (f writerFunc) Format() string { return f.name }
func (f writerFunc) Write(w io.Writer, rs []*geoloc.TraceResult, o Options) error {
	return f.fn(w, rs, o)
}

type format struct {
	name  string
	exts  []string
	write func(io.Writer, []*geoloc.TraceResult, Options) error
	doc   string
}

func formats() []format {
	return []format{
		{"kml", []string{".kml"}, writeKML, "KML 2.2 for Google Earth, Marble, QGIS"},
		{"kmz", []string{".kmz"}, writeKMZ, "zipped KML"},
		{"geojson", []string{".geojson"}, WriteGeoJSON, "GeoJSON (RFC 7946) for QGIS, geojson.io"},
		{"jsonl", []string{".jsonl", ".ndjson"}, WriteJSONL, "JSON Lines, one result record per trace"},
		{"json", []string{".json"}, WriteJSON, "the result records as one JSON array"},
		{"csv", []string{".csv"}, WriteCSV, "one row per hop, with header"},
		{"html", []string{".html", ".htm"}, WriteHTML, "self-contained offline HTML map"},
		{"svg", []string{".svg"}, WriteSVG, "static SVG map"},
		{"dot", []string{".dot", ".gv"}, WriteDOT, "Graphviz AS graph (dot -Tsvg)"},
		{"report", []string{".txt"}, WriteReport, "countries-crossed report as a text table"},
		{"report-json", nil, WriteReportJSON, "countries-crossed report as JSON"},
	}
}

// ErrUnknownFormat is returned (wrapped) by ForName for names it does not
// know.
var ErrUnknownFormat = errors.New("unknown output format")

// ForName returns the writer for a format name ("kml", "geojson", ...), an
// extension (".kml") or a file name ("out/map.html"), case-insensitively.
func ForName(extOrFormat string) (Writer, error) {
	s := strings.ToLower(strings.TrimSpace(extOrFormat))
	for _, f := range formats() {
		if s == f.name {
			return writerFunc{f.name, f.write}, nil
		}
	}
	ext := s
	if !strings.HasPrefix(s, ".") {
		ext = filepath.Ext(s)
	}
	if ext != "" {
		for _, f := range formats() {
			if slices.Contains(f.exts, ext) {
				return writerFunc{f.name, f.write}, nil
			}
		}
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownFormat, extOrFormat, strings.Join(Formats(), ", "))
}

// Formats lists the format names ForName knows.
func Formats() []string {
	var out []string
	for _, f := range formats() {
		out = append(out, f.name)
	}
	return out
}

// Describe returns a one-line description of each format, with its file
// extensions, for help text.
func Describe() []string {
	var out []string
	for _, f := range formats() {
		s := f.name
		if len(f.exts) > 0 {
			s += " (" + strings.Join(f.exts, " ") + ")"
		}
		out = append(out, s+": "+f.doc)
	}
	return out
}

func writeKML(w io.Writer, rs []*geoloc.TraceResult, o Options) error {
	return kml.Write(w, rs, kml.Options{Name: o.Title, Circles: o.Circles})
}

func writeKMZ(w io.Writer, rs []*geoloc.TraceResult, o Options) error {
	return kml.WriteKMZ(w, rs, kml.Options{Name: o.Title, Circles: o.Circles})
}

// WriteFileAtomic writes path through write: into a temporary file in the
// same directory, synced to disk, then renamed over path. If write (or any
// step) fails, the temporary file is removed and path is left as it was,
// so readers see the old file or the complete new one, never half of one.
// The new file gets the old file's permissions, or 0644.
func WriteFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	mode := os.FileMode(0o644)
	if st, serr := os.Stat(path); serr == nil {
		mode = st.Mode().Perm()
	}
	if err = f.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = write(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Make the rename itself durable.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
