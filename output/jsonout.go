package output

import (
	"bufio"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/style"
)

// WriteJSONL writes one result record per line (the engine's JSON names).
// encoding/json escapes <, > and & and replaces invalid UTF-8, so a line is
// safe to embed and to feed to any JSON reader. Nil results are skipped.
func WriteJSONL(w io.Writer, results []*geoloc.TraceResult, o Options) error {
	return writeAll(beginJSONL, w, results, o)
}

// WriteJSON writes the result records as one indented JSON array.
func WriteJSON(w io.Writer, results []*geoloc.TraceResult, o Options) error {
	return writeAll(beginJSON, w, results, o)
}

// WriteReport writes the countries-crossed report as an aligned text table.
func WriteReport(w io.Writer, results []*geoloc.TraceResult, o Options) error {
	return writeReport(w, slices.All(results), o)
}

func writeReport(w io.Writer, rs Results, _ Options) error {
	return BuildReportSeq(rs).WriteTable(w)
}

// WriteReportJSON writes the countries-crossed report as JSON.
func WriteReportJSON(w io.Writer, results []*geoloc.TraceResult, o Options) error {
	return writeReportJSON(w, slices.All(results), o)
}

func writeReportJSON(w io.Writer, rs Results, _ Options) error {
	return BuildReportSeq(rs).WriteJSON(w)
}

// csvHeader names the CSV columns. The columns after "evidence" came
// later and are appended, so that readers by position keep working.
var csvHeader = []string{
	"trace", "destination", "ttl", "addr", "name", "asn", "as_org",
	"lat", "lon", "radius_km", "city", "region", "country",
	"rtt_ms", "confidence", "method", "inferred", "anycast", "why", "evidence",
	"trace_index", "source", "probe_id", "started",
}

// WriteCSV writes one row per hop (located or not; lat and lon are empty
// when not) with a header. The rows of one trace share its trace_index:
// its 1-based position among the results written (the N of the "trace N"
// title a trace without a destination gets), so rows regroup into traces
// even when two traces share a destination. source is the trace's source
// address (its name when the address is unknown), probe_id the RIPE Atlas
// probe, started the trace's start in RFC 3339 UTC; each is empty when the
// trace did not say. A trace without hops has no row: its trace_index is
// missing from the sequence. Text cells that a spreadsheet would take for a
// formula (starting with = + - @ or a control character) get a leading
// apostrophe, the OWASP defence against CSV injection.
func WriteCSV(w io.Writer, results []*geoloc.TraceResult, o Options) error {
	return writeAll(beginCSV, w, results, o)
}

type csvStream struct {
	bw *bufio.Writer
	cw *csv.Writer
	i  int
}

func beginCSV(w io.Writer, _ Options) (Stream, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	if err := cw.Write(csvHeader); err != nil {
		return nil, err
	}
	return &csvStream{bw: bw, cw: cw}, nil
}

func (s *csvStream) Add(tr *geoloc.TraceResult) error {
	i := s.i
	s.i++
	if tr == nil {
		return nil
	}
	num := func(x float64, prec int) string { return strconv.FormatFloat(style.Round(x, prec), 'f', -1, 64) }
	title := cell(style.TraceTitle(tr, i))
	dest := ""
	if tr.Destination.Addr.IsValid() {
		dest = tr.Destination.Addr.String()
	}
	index := strconv.Itoa(i + 1)
	src := cell(tr.Source.Name)
	if tr.Source.Addr.IsValid() {
		src = tr.Source.Addr.String()
	}
	probe := cell(tr.Source.ProbeID)
	started := ""
	if !tr.Started.IsZero() {
		started = tr.Started.UTC().Format(time.RFC3339Nano)
	}
	for j := range tr.Hops {
		h := &tr.Hops[j]
		row := []string{title, dest, strconv.Itoa(h.TTL), addrString(h), cell(h.Name), "", cell(h.ASOrg),
			"", "", "", "", "", "",
			"", num(h.Confidence, 3), cell(h.Method), strconv.FormatBool(h.Inferred), strconv.FormatBool(h.Anycast), cell(h.Why), cell(style.EvidenceSummary(h)),
			index, src, probe, started}
		if h.ASN != 0 {
			row[5] = strconv.FormatUint(uint64(h.ASN), 10)
		}
		if style.Located(h) {
			l := h.Location
			row[7], row[8], row[9] = num(l.Lat, 6), num(l.Lon, 6), num(l.RadiusKm, 1)
			row[10], row[11], row[12] = cell(l.City), cell(l.Region), cell(l.Country)
		}
		if h.RTTMs > 0 {
			row[13] = num(h.RTTMs, 3)
		}
		if err := s.cw.Write(row); err != nil {
			return err
		}
	}
	return nil
}

func (s *csvStream) Close() error {
	s.cw.Flush()
	if err := s.cw.Error(); err != nil {
		return err
	}
	return s.bw.Flush()
}

func addrString(h *geoloc.HopResult) string {
	if h.Addr.IsValid() {
		return h.Addr.String()
	}
	return ""
}

// cell sanitises a network string for a CSV cell and defuses formulas.
func cell(s string) string {
	s = style.Sanitize(s, 1024)
	if s != "" && strings.ContainsRune("=+-@\uFFFD", []rune(s)[0]) {
		return "'" + s
	}
	return s
}
