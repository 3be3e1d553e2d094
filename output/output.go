// Package output writes geoloc results in every format the CLI offers:
// KML and KMZ (package kml), GeoJSON, CSV, JSON Lines and JSON, an offline
// HTML map, a static SVG map, a Graphviz DOT AS graph and the
// countries-crossed report. [ForName] picks a writer from a file extension
// or format name; [WriteFileAtomic] writes a file so that a crash or an
// error never leaves half a map behind, following symbolic links and
// writing devices and pipes (/dev/stdout, /dev/null) in place rather than
// replacing them.
//
// Every writer escapes for its own format the strings that came from the
// network (PTR names, organisation names): a hostile reverse zone can
// neither break the file nor inject markup, formulas or escape sequences.
package output

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

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
	// Modified dates the document inside a KMZ; zero means the time of
	// writing. Set it for byte-identical archives.
	Modified time.Time
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
		{"report-json", []string{".report-json"}, WriteReportJSON, "countries-crossed report as JSON"},
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
	return kml.WriteKMZ(w, rs, kml.Options{Name: o.Title, Circles: o.Circles, Modified: o.Modified})
}

// WriteFileAtomic writes path through write, so that a crash or an error
// never leaves half a map behind. What happens depends on what path names:
//
//   - A regular file, or nothing yet: write goes into a temporary file in
//     the same directory, which is synced to disk and renamed over path.
//     If write (or any step) fails, the temporary file is removed and path
//     is left as it was, so readers see the old file or the complete new
//     one. The new file keeps the old file's permissions, or gets 0644.
//   - A symbolic link (or a chain of them): the link is followed and the
//     rules apply to its final target; the temporary file is made beside
//     that target and renamed onto it, so the link itself stays a link.
//     A dangling link creates its target.
//   - A character or block device or a FIFO (/dev/null, a terminal, a
//     pipe): write writes to it directly, without truncating or replacing
//     it. Such output cannot be undone, so an error may follow a partial
//     write. A socket is never replaced either; opening one fails, so it
//     is an error.
//   - An already open file named through /dev/fd/N, /proc/self/fd/N or a
//     link to one (/dev/stdout, /dev/stderr): written directly as well; a
//     regular file behind it is appended to, as the shell's redirection
//     left it, never replaced.
//   - A directory: an error naming path; nothing is written.
//
// Treating "-" as standard output is the caller's business: here "-" is a
// file name.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	target, viaFD, err := resolveLinks(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	statPath := target
	if viaFD {
		// The kernel follows /proc/self/fd links to whatever is open, even
		// where the link text ("pipe:[123]") is no path.
		statPath = path
	}
	st, err := os.Stat(statPath)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !viaFD:
		return replaceFile(path, target, 0o644, write)
	case err != nil:
		return fmt.Errorf("write %s: %w", path, err)
	case st.IsDir():
		return fmt.Errorf("write %s: %w", path, ErrIsDir)
	case viaFD && st.Mode().IsRegular():
		return writeDirect(path, os.O_WRONLY|os.O_APPEND, write)
	case !st.Mode().IsRegular():
		return writeDirect(path, os.O_WRONLY, write)
	}
	return replaceFile(path, target, st.Mode().Perm(), write)
}

// ErrIsDir is returned (wrapped, with the path) by WriteFileAtomic when the
// path names a directory.
var ErrIsDir = errors.New("is a directory, not a file")

// maxLinks bounds a symbolic link chain, as the kernel's ELOOP limit does.
const maxLinks = 40

// resolveLinks follows path's chain of symbolic links to the file they end
// at, which need not exist. viaFD reports that the chain passed through a
// file-descriptor link (/proc/PID/fd/N, /dev/fd/N), whose text is not
// always a path; target is then meaningless and the caller must open path.
func resolveLinks(path string) (target string, viaFD bool, err error) {
	p := path
	for range maxLinks {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, false, nil
		}
		if err != nil {
			return "", false, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, false, nil
		}
		if isFDLink(p) {
			return p, true, nil
		}
		dest, err := os.Readlink(p)
		if err != nil {
			return "", false, err
		}
		if !filepath.IsAbs(dest) {
			// Resolve the directory first: "../x" in a link reached
			// through a linked directory is relative to where the link
			// really is, which lexical joining would get wrong.
			dir, err := filepath.EvalSymlinks(filepath.Dir(p))
			if err != nil {
				return "", false, err
			}
			dest = filepath.Join(dir, dest)
		}
		p = dest
	}
	return "", false, fmt.Errorf("more than %d symbolic links", maxLinks)
}

// isFDLink reports whether p is an entry of a process's file-descriptor
// directory (/proc/self/fd/1, /proc/123/task/123/fd/1, /dev/fd/1).
func isFDLink(p string) bool {
	dir := filepath.Dir(filepath.Clean(p))
	return dir == "/dev/fd" || strings.HasPrefix(dir, "/proc/") && filepath.Base(dir) == "fd"
}

// writeDirect opens path (without O_CREATE or O_TRUNC) and writes to it.
func writeDirect(path string, flag int, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// replaceFile writes a temporary file beside target and renames it onto
// target with mode; path is the name the caller gave, for errors.
func replaceFile(path, target string, mode fs.FileMode, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(target)
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
	if err = os.Rename(tmp, target); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Make the rename itself durable.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
