// Package vantage finds where traces were measured from: a `--from` value
// (coordinates, or an airport or city code read with the rdns dictionaries)
// and tables mapping RIPE Atlas probe ids or source addresses to coordinates
// (`--vantage-points FILE`, CSV or a RIPE Atlas probe list). The engine itself reads a trace's own source
// location and infers missing ones; this package only supplies them.
package vantage

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/rdns"
	"github.com/geoloc-dev/geoloc/remote/atlas"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// Parse reads a --from value: "LAT,LON" in degrees (optionally followed by
// ",NAME"), a place code or name such as "osl", "FRA", "EDDF" or
// "frankfurt", or a name with its country ("Paris, US") or region and
// country ("London, ON, CA"). hints (nil = rdns.Hints) reads the value first, so that a
// router name or a reader of one's own works; when it finds nothing, the
// value is looked up in the embedded dictionaries: as a code
// (rdns.LookupCode) and as a place name (rdns.LookupPlace), the code first
// for three letters (airports) and the name first otherwise, so that a city
// outranks an ICAO code or UN/LOCODE of the same letters.
func Parse(s string, hints func(string) []rdns.Hint) (geoloc.Vantage, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return geoloc.Vantage{}, errors.New("vantage point: empty")
	}
	if parts := strings.SplitN(s, ",", 3); len(parts) >= 2 {
		lat, err1 := strconv.ParseFloat(strings.TrimSpace(parts[0]), 64)
		lon, err2 := strconv.ParseFloat(strings.TrimSpace(parts[1]), 64)
		if err1 == nil && err2 == nil {
			p := latency.Point{Lat: lat, Lon: lon}
			if !p.Valid() {
				return geoloc.Vantage{}, fmt.Errorf("vantage point %q: latitude or longitude out of range", s)
			}
			name := p.String()
			if len(parts) == 3 && strings.TrimSpace(parts[2]) != "" {
				name = strings.TrimSpace(parts[2])
			}
			return geoloc.Vantage{Lat: lat, Lon: lon, Name: name}, nil
		}
		if err1 == nil || err2 == nil {
			return geoloc.Vantage{}, fmt.Errorf("vantage point %q: want LAT,LON in degrees", s)
		}
	}
	if hints == nil {
		hints = rdns.Hints
	}
	if hs := hints(strings.ToLower(s)); len(hs) > 0 {
		return fromHint(hs[0]), nil
	}
	if v, ok := lookup(s); ok {
		return v, nil
	}
	if v, ok := lookupQualified(s); ok {
		return v, nil
	}
	return geoloc.Vantage{}, fmt.Errorf("vantage point %q: not coordinates and no known airport, city or place code", s)
}

// lookup reads s as a code or a place name of the embedded dictionaries.
func lookup(s string) (geoloc.Vantage, bool) {
	code := func() (geoloc.Vantage, bool) {
		hs := rdns.LookupCode(s)
		if len(hs) == 0 {
			return geoloc.Vantage{}, false
		}
		return fromHint(hs[0]), true
	}
	place := func() (geoloc.Vantage, bool) {
		p, ok := rdns.LookupPlace(s, "", "")
		return geoloc.Vantage{Lat: p.Lat, Lon: p.Lon, Name: p.Name}, ok
	}
	first, second := place, code
	if len(s) == 3 {
		first, second = code, place
	}
	if v, ok := first(); ok {
		return v, true
	}
	return second()
}

// lookupQualified reads "NAME, CC" or "NAME, REGION, CC" ("Paris, US",
// "London, ON, CA"): a place name in a country, and a region of it.
func lookupQualified(s string) (geoloc.Vantage, bool) {
	parts := strings.Split(s, ",")
	if len(parts) < 2 || len(parts) > 3 {
		return geoloc.Vantage{}, false
	}
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	region, cc := "", parts[len(parts)-1]
	if len(parts) == 3 {
		region = parts[1]
	}
	if len(cc) != 2 {
		return geoloc.Vantage{}, false
	}
	p, ok := rdns.LookupPlace(parts[0], region, cc)
	return geoloc.Vantage{Lat: p.Lat, Lon: p.Lon, Name: p.Name}, ok
}

// fromHint names a vantage point after the place of a hint, or its code.
func fromHint(h rdns.Hint) geoloc.Vantage {
	name := h.Place
	if name == "" {
		name = strings.ToUpper(h.Code)
	}
	return geoloc.Vantage{Lat: h.Lat, Lon: h.Lon, Name: name}
}

// Table maps RIPE Atlas probe ids and source addresses to vantage points.
type Table struct {
	byProbe map[string]geoloc.Vantage
	byAddr  map[netip.Addr]geoloc.Vantage
}

// Len is the number of entries.
func (t *Table) Len() int { return len(t.byProbe) + len(t.byAddr) }

// AddProbe maps a RIPE Atlas probe id to a vantage point, replacing what
// the table held for it. The zero Table is ready for use.
func (t *Table) AddProbe(id string, v geoloc.Vantage) {
	if t.byProbe == nil {
		t.byProbe = map[string]geoloc.Vantage{}
	}
	t.byProbe[id] = v
}

// Probe returns the vantage point of a probe id.
func (t *Table) Probe(id string) (geoloc.Vantage, bool) {
	if t == nil {
		return geoloc.Vantage{}, false
	}
	v, ok := t.byProbe[id]
	return v, ok
}

// ProbeVantage is the vantage point of a RIPE Atlas probe with a
// position, named "probe ID" as the engine names probes; ok is false for
// a probe without one.
func ProbeVantage(p atlas.Probe) (v geoloc.Vantage, ok bool) {
	if !p.Located {
		return geoloc.Vantage{}, false
	}
	return geoloc.Vantage{Lat: p.Lat, Lon: p.Lon, Name: "probe " + strconv.FormatInt(p.ID, 10)}, true
}

// Lookup finds the vantage point of a trace by its source's probe id, then
// by its source address. It has the type of geoloc.Options.VantageOf.
func (t *Table) Lookup(tr *traceroute.Trace) (geoloc.Vantage, bool) {
	if t == nil {
		return geoloc.Vantage{}, false
	}
	if id := tr.Source.ProbeID; id != "" {
		if v, ok := t.byProbe[id]; ok {
			return v, true
		}
	}
	if a := tr.Source.Addr; a.IsValid() {
		if v, ok := t.byAddr[a.Unmap()]; ok {
			return v, true
		}
	}
	return geoloc.Vantage{}, false
}

// ReadTable reads a vantage point table, in CSV or as a RIPE Atlas probe
// list (input starting with '{' or '[').
//
// CSV: one row per vantage point, "KEY,LAT,LON[,NAME]", where KEY is a
// RIPE Atlas probe id (digits) or an IP address. An optional header row
// names the columns instead (probe_id or id, addr or address or ip, lat or
// latitude, lon or lng or longitude, name or city), in any order. Blank
// lines and lines starting with # are skipped.
//
// A RIPE Atlas probe list is what the API's /probes/ endpoint answers
// (results[].geometry.coordinates), the daily probe archive (objects[] with
// latitude and longitude; bzip2-compressed as published, which the CLI
// opens as it is), an array or JSON Lines of probe objects: each probe with
// a position becomes an entry of its id (see ProbeVantage); probes without
// one are skipped. It is read as a stream (atlas.ReadProbes).
//
// input names the file in errors ("FILE:LINE: vantage points: ...").
//
// A table holds at most MaxTableEntries entries and a CSV line at most 64
// KiB: past either ReadTable gives up with an error saying so, so that no
// input (/dev/zero, a wrong file) can take more than a few tens of MB.
func ReadTable(r io.Reader, input string) (*Table, error) {
	br := bufio.NewReader(r)
	if isJSONStart(br) {
		return readProbeList(br, input)
	}
	lc := &lineCap{r: br, line: 1}
	cr := csv.NewReader(lc)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	t := &Table{byProbe: map[string]geoloc.Vantage{}, byAddr: map[netip.Addr]geoloc.Vantage{}}
	col := map[string]int{"key": 0, "lat": 1, "lon": 2, "name": 3}
	keyCol := ""
	first := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if errors.Is(err, errLongLine) {
			return nil, fmt.Errorf("%s:%d: vantage points: %w", input, lc.line, err)
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s:%d: vantage points: %w", input, pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("%s: vantage points: %w", input, err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			first = false
			if h, ok := header(rec); ok {
				col, keyCol = h, ""
				if _, ok := col["probe"]; ok {
					keyCol = "probe"
				}
				continue
			}
		}
		get := func(k string) string {
			i, ok := col[k]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		lat, err1 := strconv.ParseFloat(get("lat"), 64)
		lon, err2 := strconv.ParseFloat(get("lon"), 64)
		p := latency.Point{Lat: lat, Lon: lon}
		if err1 != nil || err2 != nil || !p.Valid() {
			return nil, fmt.Errorf("%s:%d: vantage points: want latitude and longitude in degrees, got %q,%q", input, line, get("lat"), get("lon"))
		}
		var keys []string
		if keyCol == "probe" {
			keys = append(keys, "p:"+get("probe"))
		}
		if v, ok := col["addr"]; ok && v < len(rec) {
			keys = append(keys, "a:"+get("addr"))
		}
		if _, ok := col["key"]; ok {
			keys = append(keys, "k:"+get("key"))
		}
		added := false
		for _, k := range keys {
			kind, val := k[:2], k[2:]
			if val == "" {
				continue
			}
			name := get("name")
			switch {
			case kind == "p:" || (kind == "k:" && isDigits(val)):
				if name == "" {
					name = "probe " + val
				}
				t.byProbe[val] = geoloc.Vantage{Lat: lat, Lon: lon, Name: name}
			default:
				a, err := netip.ParseAddr(val)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: vantage points: %q is neither a probe id nor an IP address", input, line, val)
				}
				if name == "" {
					name = a.String()
				}
				t.byAddr[a.Unmap()] = geoloc.Vantage{Lat: lat, Lon: lon, Name: name}
			}
			added = true
		}
		if !added {
			return nil, fmt.Errorf("%s:%d: vantage points: no probe id or address", input, line)
		}
		if t.Len() > MaxTableEntries {
			return nil, fmt.Errorf("%s:%d: vantage points: more than %d entries: giving up", input, line, MaxTableEntries)
		}
	}
	return t, nil
}

// MaxTableEntries bounds a vantage point table: RIPE Atlas has had some
// 40,000 probes in all; a table past this is no vantage point list.
const MaxTableEntries = 1 << 18

// maxTableLine bounds one line of a CSV table (a row is a few dozen bytes).
const maxTableLine = 64 << 10

var errLongLine = fmt.Errorf("line longer than %d KiB: not a vantage point table", maxTableLine>>10)

// lineCap fails a read once a line grows past maxTableLine: encoding/csv
// holds a whole record, which on /dev/zero never ends.
type lineCap struct {
	r    io.Reader
	n    int // bytes of the current line so far
	line int // current line, from 1
}

func (l *lineCap) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		if c == '\n' {
			l.line++
			l.n = 0
			continue
		}
		if l.n++; l.n > maxTableLine {
			return i, errLongLine
		}
	}
	return n, err
}

// header recognises a header row and maps column roles to indexes.
func header(rec []string) (map[string]int, bool) {
	m := map[string]int{}
	for i, f := range rec {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case "probe_id", "probe", "prb_id", "id":
			m["probe"] = i
		case "addr", "address", "ip", "src_addr", "from":
			m["addr"] = i
		case "lat", "latitude":
			m["lat"] = i
		case "lon", "lng", "long", "longitude":
			m["lon"] = i
		case "name", "city", "label":
			m["name"] = i
		}
	}
	_, lat := m["lat"]
	_, lon := m["lon"]
	_, p := m["probe"]
	_, a := m["addr"]
	return m, lat && lon && (p || a)
}

// isJSONStart reports whether the input's first non-space byte (after a
// UTF-8 byte order mark) opens a JSON object or array.
func isJSONStart(br *bufio.Reader) bool {
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		_, _ = br.Discard(3)
	}
	for i := 1; ; i++ {
		b, err := br.Peek(i)
		if err != nil || len(b) < i {
			return false
		}
		switch b[i-1] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return true
		}
		return false
	}
}

// readProbeList reads a RIPE Atlas probe list into a table.
func readProbeList(r io.Reader, input string) (*Table, error) {
	t := &Table{}
	for p, err := range atlas.ReadProbes(r) {
		if err != nil {
			var pe *atlas.ProbeListError
			if errors.As(err, &pe) {
				msg := pe.Err.Error()
				if pe.Probe > 0 {
					msg = fmt.Sprintf("probe %d of the list: %s", pe.Probe, msg)
				}
				return nil, fmt.Errorf("%s:%d: vantage points: RIPE Atlas probe list: %s", input, pe.Line, msg)
			}
			return nil, fmt.Errorf("%s: vantage points: RIPE Atlas probe list: %w", input, err)
		}
		if v, ok := ProbeVantage(p); ok {
			t.AddProbe(strconv.FormatInt(p.ID, 10), v)
		}
		if t.Len() > MaxTableEntries {
			return nil, fmt.Errorf("%s: vantage points: RIPE Atlas probe list of more than %d probes: giving up", input, MaxTableEntries)
		}
	}
	return t, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
