// Package output writes geoloc results in every format the CLI offers:
// KML and KMZ (package kml), GeoJSON, CSV, JSON Lines and JSON, an offline
// HTML map, a static SVG map, a Graphviz DOT AS graph and the
// countries-crossed report. [ForName] picks a writer from a file extension
// or format name; [WriteFileAtomic] (and [CreateAtomic] for a file
// written over time) writes a file so that a crash or an error never
// leaves half a map behind, following symbolic links and writing devices
// and pipes (/dev/stdout, /dev/null) in place rather than replacing them.
// In a sticky world-writable directory such as /tmp it follows and replaces
// only what the caller or the directory's owner owns, and it never creates
// a file where a dangling link points. Its temporary files are named
// .NAME.geoloc-tmp-PID-RANDOM; one a killed process left behind is removed
// by the next write to NAME when it is the caller's and PID has ended.
//
// Writers stream: [Writer.Begin] returns a [Stream] that takes results one
// at a time, so a batch of any size is written without holding it. JSON
// Lines, JSON, CSV, GeoJSON, KML and KMZ write each result as it comes (KML
// spools its folders until the legend is known); HTML, SVG, DOT and the
// report spool results to a temporary file and draw them at Close.
//
// Maps of big batches aggregate: with Options.Aggregate, or above
// Options.AggregateAbove traces, the map writers (KML, KMZ, GeoJSON, HTML,
// SVG) draw each distinct link between consecutive placed hops once with
// the number of traces through it, from an [Aggregate] whose memory grows
// with the distinct links, not the traces.
//
// Every writer escapes for its own format the strings that came from the
// network (PTR names, organisation names): a hostile reverse zone can
// neither break the file nor inject markup, formulas or escape sequences.
package output

import (
	"archive/zip"
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
	"github.com/geoloc-dev/geoloc/internal/fsutil"
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
	// SpoolDir is where formats drawn as a whole (KML, KMZ, HTML, SVG,
	// DOT, the report) keep the results of a Stream until Close; "" means
	// the system's temporary directory.
	SpoolDir string
	// Aggregate draws the maps (KML, KMZ, GeoJSON, HTML, SVG) of a Writer
	// aggregated, however few traces there are: each distinct link between
	// consecutive placed hops once with the number of traces through it,
	// each distinct place once (see Aggregate). Other formats ignore it.
	Aggregate bool
	// AggregateAbove, when above 0, draws a Writer's map aggregated once
	// more than that many traces have come: the first ones are spooled to
	// a temporary file, and Close draws them trace by trace if no more
	// came, or the whole batch aggregated otherwise (calling Note when it
	// switches). 0 draws every trace, however many. The Stream of a map
	// with Aggregate or AggregateAbove has a method Aggregated() bool
	// saying whether it draws the aggregate.
	AggregateAbove int
	// MaxLinks caps the distinct links and places an aggregated map keeps
	// (see AggregateOptions); 0 means DefaultMaxLinks.
	MaxLinks int
	// Shared, when set, is the Aggregate the map Streams begun with it
	// build between them, each result folded in once (see
	// SharedAggregate); nil gives each map Stream its own.
	Shared *SharedAggregate
	// Note, when set, receives one-line notes about a document being
	// written: a map switched to aggregate above AggregateAbove, links left
	// out at MaxLinks. The writers print nothing themselves.
	Note func(string)
}

// Writer writes trace results in one format.
type Writer interface {
	// Format is the canonical format name ("kml", "geojson", ...).
	Format() string
	// Begin starts a document on w; results follow through the Stream's
	// Add, and its Close finishes the document. JSON Lines, JSON, CSV
	// and GeoJSON are written as results come; the formats drawn as a
	// whole (KML, KMZ, HTML, SVG, DOT, the report) spool the results to a
	// temporary file (Options.SpoolDir) and draw them at Close.
	Begin(w io.Writer, opts Options) (Stream, error)
	// Write writes results to w in one call (Begin, Add each, Close). It
	// reads results and never modifies them.
	Write(w io.Writer, results []*geoloc.TraceResult, opts Options) error
}

type format struct {
	name  string
	exts  []string
	begin func(io.Writer, Options) (Stream, error)
	doc   string
}

func (f format) Format() string { return f.name }

func (f format) Begin(w io.Writer, o Options) (Stream, error) {
	if agg := mapFormats[f.name]; agg != nil && (o.Aggregate || o.AggregateAbove > 0) {
		return beginMap(f, agg, w, o)
	}
	return f.begin(w, o)
}

func (f format) Write(w io.Writer, rs []*geoloc.TraceResult, o Options) error {
	return writeAll(f.Begin, w, rs, o)
}

func formats() []format {
	return []format{
		{"kml", []string{".kml"}, beginKML, "KML 2.2 for Google Earth, Marble, QGIS"},
		{"kmz", []string{".kmz"}, beginKMZ, "zipped KML"},
		{"geojson", []string{".geojson"}, beginGeoJSON, "GeoJSON (RFC 7946) for QGIS, geojson.io"},
		{"jsonl", []string{".jsonl", ".ndjson"}, beginJSONL, "JSON Lines, one result record per trace"},
		{"json", []string{".json"}, beginJSON, "the result records as one JSON array"},
		{"csv", []string{".csv"}, beginCSV, "one row per hop, with header"},
		{"html", []string{".html", ".htm"}, beginSpooled(writeHTML), "self-contained offline HTML map"},
		{"svg", []string{".svg"}, beginSpooled(writeSVG), "static SVG map"},
		{"dot", []string{".dot", ".gv"}, beginSpooled(writeDOT), "Graphviz AS graph (dot -Tsvg)"},
		{"report", []string{".txt"}, beginSpooled(writeReport), "countries-crossed report as a text table"},
		{"report-json", []string{".report-json"}, beginSpooled(writeReportJSON), "countries-crossed report as JSON"},
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
			return f, nil
		}
	}
	// A bare extension is its own extension (".kml"); a path keeps only
	// its last one, so "./r.kml" and "../x.geojson" name their writers.
	ext := filepath.Ext(s)
	if ext != "" {
		for _, f := range formats() {
			if slices.Contains(f.exts, ext) {
				return f, nil
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

func beginKML(w io.Writer, o Options) (Stream, error) {
	return kml.NewStream(w, o.SpoolDir, kml.Options{Name: o.Title, Circles: o.Circles})
}

// kmzStream is a KML stream into the doc.kml entry of a zip archive.
type kmzStream struct {
	*kml.Stream
	zw *zip.Writer
}

func beginKMZ(w io.Writer, o Options) (Stream, error) {
	modified := o.Modified
	if modified.IsZero() {
		modified = time.Now()
	}
	zw := zip.NewWriter(w)
	// zip.Writer.Create leaves the date zero, which unzip lists as
	// 1980-00-00.
	entry, err := zw.CreateHeader(&zip.FileHeader{Name: "doc.kml", Method: zip.Deflate, Modified: modified})
	if err != nil {
		return nil, err
	}
	s, err := kml.NewStream(entry, o.SpoolDir, kml.Options{Name: o.Title, Circles: o.Circles})
	if err != nil {
		return nil, err
	}
	return kmzStream{s, zw}, nil
}

func (s kmzStream) Close() error {
	if err := s.Stream.Close(); err != nil {
		return err
	}
	return s.zw.Close()
}

// WriteFileAtomic writes path through write, so that a crash or an error
// never leaves half a map behind. What happens depends on what path names:
//
//   - A regular file, or nothing yet: write goes into a temporary file in
//     the same directory, which is synced to disk and renamed over path.
//     If write (or any step) fails, the temporary file is removed and path
//     is left as it was, so readers see the old file or the complete new
//     one. The new file keeps the old file's permissions, or gets 0666
//     less the umask, as os.Create would give it.
//   - A symbolic link (or a chain of them): the link is followed and the
//     rules apply to its final target; the temporary file is made beside
//     that target and renamed onto it, so the link itself stays a link.
//     A dangling link is an error ([ErrDanglingLink]): nothing is created
//     where a link points.
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
// In a sticky world-writable directory (/tmp), where anyone may plant a
// name, the rules the Linux kernel applies to its own path walks and
// O_CREAT (protected_symlinks, protected_regular, protected_fifos) apply
// whatever the kernel is set to, because the links are followed and the
// file replaced here, not by open(2): a link (anywhere in path) is
// followed, and a file or FIFO written, only if its owner is the caller
// or the directory's owner; otherwise the error is [ErrNotOwner]. So
// `sudo geoloc … -o route.kml` in /tmp cannot be steered onto a file of
// root's by another user's link.
//
// A temporary file is named .NAME.geoloc-tmp-PID-RANDOM. One left behind
// by a process that was killed (SIGKILL, a crash, a power cut) is removed
// by the next write to NAME in that directory, on Unix, when it belongs to
// the caller and no process PID is running; others' files are left alone.
//
// Treating "-" as standard output is the caller's business: here "-" is a
// file name.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	f, err := CreateAtomic(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}

// AtomicFile is a file written by the rules of WriteFileAtomic, for writers
// that stream into it over time: write to it, then Commit to make it
// appear whole at its path, or Abort to leave the path as it was (as far
// as a device or pipe, written directly, allows).
type AtomicFile struct {
	path string
	f    *os.File
	// root is the target's directory, held open from the temporary
	// file's creation to its rename, so both happen in the same
	// directory whatever is renamed meanwhile; tmp and base are the
	// temporary file's and the target's names in it. nil when direct,
	// or when the directory cannot be read (mode -wx): then dir names
	// it.
	root           *os.Root
	dir, tmp, base string
	direct         bool
	done           bool
}

// CreateAtomic opens path for writing by the rules of WriteFileAtomic.
func CreateAtomic(path string) (*AtomicFile, error) {
	target, viaFD, err := resolveLinks(path)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
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
		return createTemp(path, target, fsutil.FileMode())
	case err != nil:
		return nil, fmt.Errorf("write %s: %w", path, err)
	case st.IsDir():
		return nil, fmt.Errorf("write %s: %w", path, ErrIsDir)
	case viaFD && st.Mode().IsRegular():
		return openDirect(path, os.O_WRONLY|os.O_APPEND)
	}
	// target has no links left: st is the file itself, to be replaced
	// (regular) or opened (a FIFO, a device).
	if err := checkOwner(target, st, "write"); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return openDirect(path, os.O_WRONLY)
	}
	return createTemp(path, target, st.Mode().Perm())
}

// Write writes to the file (the temporary file, until Commit).
func (a *AtomicFile) Write(p []byte) (int, error) { return a.f.Write(p) }

// Name is the path the file was created for.
func (a *AtomicFile) Name() string { return a.path }

// Commit syncs the temporary file and renames it over the path (or closes
// a device or pipe written directly). The file cannot be used afterwards.
func (a *AtomicFile) Commit() error {
	if a.done {
		return fmt.Errorf("write %s: already committed or aborted", a.path)
	}
	a.done = true
	if a.direct {
		if err := a.f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", a.path, err)
		}
		return nil
	}
	defer a.closeDir()
	err := a.f.Sync()
	if err == nil {
		err = a.f.Close()
	} else {
		a.f.Close()
	}
	if err == nil {
		err = a.rename()
	}
	if err != nil {
		a.remove()
		return fmt.Errorf("write %s: %w", a.path, err)
	}
	// Make the rename itself durable.
	a.syncDir()
	return nil
}

// Abort removes the temporary file and leaves the path as it was; a
// device or pipe written directly keeps what was written. Aborting after
// Commit does nothing.
func (a *AtomicFile) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.f.Close()
	if !a.direct {
		a.remove()
		a.closeDir()
	}
}

func (a *AtomicFile) rename() error {
	if a.root == nil {
		return os.Rename(filepath.Join(a.dir, a.tmp), filepath.Join(a.dir, a.base))
	}
	return a.root.Rename(a.tmp, a.base)
}

func (a *AtomicFile) remove() {
	if a.root == nil {
		os.Remove(filepath.Join(a.dir, a.tmp))
		return
	}
	a.root.Remove(a.tmp)
}

func (a *AtomicFile) syncDir() {
	d, err := os.Open(a.dir)
	if a.root != nil {
		d, err = a.root.Open(".")
	}
	if err == nil {
		d.Sync()
		d.Close()
	}
}

func (a *AtomicFile) closeDir() {
	if a.root != nil {
		a.root.Close()
	}
}

// ErrIsDir is returned (wrapped, with the path) by WriteFileAtomic when the
// path names a directory.
var ErrIsDir = errors.New("is a directory, not a file")

// ErrDanglingLink is returned (wrapped, with the path) by WriteFileAtomic
// when path is a symbolic link to a file that does not exist: geoloc
// creates no file where a link points.
var ErrDanglingLink = errors.New("dangling symbolic link")

// ErrNotOwner is returned (wrapped, with the path) by WriteFileAtomic for
// a symbolic link it will not follow, or a file it will not replace or
// write, in a sticky world-writable directory: one owned neither by the
// caller nor by the directory's owner.
var ErrNotOwner = errors.New("owned by another user in a sticky world-writable directory")

// maxLinks bounds a symbolic link chain, as the kernel's ELOOP limit does.
const maxLinks = 40

// openDirect opens path (without O_CREATE or O_TRUNC) to write to it in
// place.
func openDirect(path string, flag int) (*AtomicFile, error) {
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &AtomicFile{path: path, f: f, direct: true}, nil
}

// createTemp makes the temporary file beside target, with mode, that
// Commit renames onto target; path is the name the caller gave, for
// errors. fsutil.CreateTemp first removes the stale temporary files of
// target's name.
func createTemp(path, target string, mode fs.FileMode) (*AtomicFile, error) {
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	a := &AtomicFile{path: path, dir: dir, base: base}
	var err error
	a.root, err = os.OpenRoot(dir)
	switch {
	case errors.Is(err, fs.ErrPermission):
		// A directory to write but not read (-wx), as a drop box is:
		// by path, with no stale file removed, since none can be listed.
		a.f, err = fsutil.CreateTempPath(dir, fsutil.TempPrefix(base))
		if err == nil {
			a.tmp = filepath.Base(a.f.Name())
		}
	case err == nil:
		a.f, a.tmp, err = fsutil.CreateTemp(a.root, fsutil.TempPrefix(base))
	}
	if err != nil {
		a.closeDir()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := a.f.Chmod(mode); err != nil {
		a.f.Close()
		a.remove()
		a.closeDir()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return a, nil
}
