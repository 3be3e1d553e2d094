package atlas

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"net/netip"
)

// Probe is a RIPE Atlas probe as the API and the probe archive describe it.
type Probe struct {
	ID int64
	// Lat and Lon are the probe's published position in degrees (RIPE
	// Atlas rounds it to about a kilometre); Located reports whether
	// there is one.
	Lat, Lon    float64
	Located     bool
	CountryCode string
	ASNv4       uint32
	ASNv6       uint32
	AddressV4   netip.Addr
	AddressV6   netip.Addr
	// Status is the connection status name ("Connected", "Disconnected",
	// "Abandoned", "Never Connected", "Written Off").
	Status   string
	IsAnchor bool
}

// probeJSON holds both shapes of a probe: the API's (geometry, status
// object) and the archive's (latitude, longitude, status id, status_name).
type probeJSON struct {
	ID       *int64 `json:"id"`
	Geometry *struct {
		Coordinates []float64 `json:"coordinates"` // GeoJSON: lon, lat
	} `json:"geometry"`
	Latitude    *float64        `json:"latitude"`
	Longitude   *float64        `json:"longitude"`
	CountryCode *string         `json:"country_code"`
	ASNv4       *int64          `json:"asn_v4"`
	ASNv6       *int64          `json:"asn_v6"`
	AddressV4   *string         `json:"address_v4"`
	AddressV6   *string         `json:"address_v6"`
	Status      json.RawMessage `json:"status"`
	StatusName  *string         `json:"status_name"`
	IsAnchor    bool            `json:"is_anchor"`
}

func (pj *probeJSON) probe() (Probe, error) {
	if pj.ID == nil {
		return Probe{}, errors.New(`probe without an "id"`)
	}
	p := Probe{ID: *pj.ID, IsAnchor: pj.IsAnchor}
	var lat, lon float64
	has := false
	switch {
	case pj.Geometry != nil && len(pj.Geometry.Coordinates) >= 2:
		lon, lat, has = pj.Geometry.Coordinates[0], pj.Geometry.Coordinates[1], true
	case pj.Latitude != nil && pj.Longitude != nil:
		lat, lon, has = *pj.Latitude, *pj.Longitude, true
	}
	if has {
		if !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) || math.IsNaN(lat+lon) {
			return Probe{}, fmt.Errorf("id %d: position %v,%v out of range", p.ID, lat, lon)
		}
		p.Lat, p.Lon, p.Located = lat, lon, true
	}
	if pj.CountryCode != nil {
		p.CountryCode = *pj.CountryCode
	}
	asn := func(v *int64) uint32 {
		if v == nil || *v <= 0 || *v > math.MaxUint32 {
			return 0
		}
		return uint32(*v)
	}
	p.ASNv4, p.ASNv6 = asn(pj.ASNv4), asn(pj.ASNv6)
	addr := func(s *string) netip.Addr {
		if s == nil {
			return netip.Addr{}
		}
		a, err := netip.ParseAddr(*s)
		if err != nil {
			return netip.Addr{}
		}
		return a.Unmap()
	}
	p.AddressV4, p.AddressV6 = addr(pj.AddressV4), addr(pj.AddressV6)
	if pj.StatusName != nil {
		p.Status = *pj.StatusName
	}
	if len(pj.Status) > 0 && pj.Status[0] == '{' {
		var st struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(pj.Status, &st) == nil && st.Name != "" {
			p.Status = st.Name
		}
	}
	return p, nil
}

// ProbeListError is a problem at a place of a probe list: Line is the
// input line (1-based) where it was noticed, Probe the probe's number in
// the list (0 when the list itself is broken).
type ProbeListError struct {
	Line  int
	Probe int
	Err   error
}

func (e *ProbeListError) Error() string {
	if e.Probe > 0 {
		return fmt.Sprintf("line %d: probe %d: %v", e.Line, e.Probe, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *ProbeListError) Unwrap() error { return e.Err }

// ReadProbes decodes a list of RIPE Atlas probes as a stream, whatever its
// shape: an API /probes/ page ({"count":…,"results":[…]}), the daily probe
// archive (https://ftp.ripe.net/ripe/atlas/probes/archive/, {"objects":[…]}),
// a bare array of probe objects, or one probe object a line. Memory stays
// bounded by one probe however long the list. A probe that cannot be used
// (no id, a position out of range) yields a *ProbeListError and the others
// are still read; malformed JSON ends the stream with one.
func ReadProbes(r io.Reader) iter.Seq2[Probe, error] {
	return func(yield func(Probe, error) bool) {
		lc := &lineCounter{r: r}
		br := bufio.NewReader(lc)
		dec := json.NewDecoder(br)
		dec.UseNumber()
		var skipped int64 // bytes taken from br past the decoder
		// here is the offset where the next value starts (past the
		// spaces and commas before it).
		here := func() int64 {
			b, _ := io.ReadAll(io.LimitReader(dec.Buffered(), 1<<16))
			ws := len(b) - len(bytes.TrimLeft(b, " \t\r\n,"))
			return dec.InputOffset() + skipped + int64(ws)
		}
		at := func(off int64, probe int, err error) error {
			return &ProbeListError{Line: lc.lineAt(off), Probe: probe, Err: err}
		}
		fail := func(probe int, err error) error { return at(here(), probe, err) }
		n := 0
		seen := false // any value at all
		one := func() bool {
			var pj probeJSON
			start := here()
			if err := dec.Decode(&pj); err != nil {
				yield(Probe{}, at(start, n+1, err))
				return false
			}
			n++
			p, err := pj.probe()
			if err != nil {
				return yield(Probe{}, at(start, n, err))
			}
			return yield(p, nil)
		}
		array := func() bool { // after '['
			for dec.More() {
				if !one() {
					return false
				}
			}
			if _, err := dec.Token(); err != nil { // ']'
				yield(Probe{}, fail(0, err))
				return false
			}
			return true
		}
		for {
			// What comes next: an object (a probe, or a wrapper with
			// "results"/"objects") or an array of probes.
			c, k, err := peekNonSpace(br, dec)
			skipped += k
			if err == io.EOF {
				if !seen {
					yield(Probe{}, fail(0, errors.New("empty input")))
				}
				return
			}
			if err != nil {
				yield(Probe{}, fail(0, err))
				return
			}
			seen = true
			switch c {
			case '[':
				if _, err := dec.Token(); err != nil {
					yield(Probe{}, fail(0, err))
					return
				}
				if !array() {
					return
				}
				continue
			case '{':
			default:
				yield(Probe{}, fail(0, fmt.Errorf("unexpected %q where a probe or a list of probes should start", c)))
				return
			}
			// An object: read it as a wrapper if its first keys lead to
			// "results" or "objects", else as one probe.
			start := here()
			raw, wrapped, err := readWrapper(dec)
			if err != nil {
				yield(Probe{}, fail(0, err))
				return
			}
			if wrapped {
				if !array() {
					return
				}
				if err := skipRest(dec); err != nil {
					yield(Probe{}, fail(0, err))
					return
				}
				continue
			}
			var pj probeJSON
			if err := json.Unmarshal(raw, &pj); err != nil {
				yield(Probe{}, at(start, n+1, err))
				return
			}
			n++
			p, err := pj.probe()
			if err != nil {
				if !yield(Probe{}, at(start, n, err)) {
					return
				}
				continue
			}
			if !yield(p, nil) {
				return
			}
		}
	}
}

// lineCounter counts the newlines of what is read through it, keeping the
// offsets of the last few thousand so that a recent offset's line is known
// (errors are noticed near where the decoder reads).
type lineCounter struct {
	r     io.Reader
	off   int64
	lines int     // newlines so far
	ring  []int64 // offsets of the latest newlines
	next  int
}

const lineRing = 4096

func (l *lineCounter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		if c == '\n' {
			if len(l.ring) < lineRing {
				l.ring = append(l.ring, l.off+int64(i))
			} else {
				l.ring[l.next] = l.off + int64(i)
				l.next = (l.next + 1) % lineRing
			}
			l.lines++
		}
	}
	l.off += int64(n)
	return n, err
}

// lineAt is the line of byte offset off: one plus the newlines before it.
func (l *lineCounter) lineAt(off int64) int {
	after := 0
	for _, o := range l.ring {
		if o >= off {
			after++
		}
	}
	return l.lines - after + 1
}

// peekNonSpace returns the next non-space byte the decoder will read, and
// how many spaces it took from br itself.
func peekNonSpace(br *bufio.Reader, dec *json.Decoder) (byte, int64, error) {
	// The decoder buffers ahead: look at its buffer first.
	buf, _ := io.ReadAll(io.LimitReader(dec.Buffered(), 1<<20))
	if c := bytes.TrimLeft(buf, " \t\r\n"); len(c) > 0 {
		return c[0], 0, nil
	}
	var k int64
	for {
		b, err := br.Peek(1)
		if err != nil {
			return 0, k, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.Discard(1)
			k++
			continue
		}
		return b[0], k, nil
	}
}

// readWrapper reads an object's members until it meets "results" or
// "objects" holding an array (it then stops just inside that array and
// reports wrapped), or until the object ends: then the object, rebuilt,
// is a probe.
func readWrapper(dec *json.Decoder) (json.RawMessage, bool, error) {
	if _, err := dec.Token(); err != nil { // '{'
		return nil, false, err
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, false, fmt.Errorf("object key expected, found %v", tok)
		}
		if key == "results" || key == "objects" {
			t, err := dec.Token()
			if err != nil {
				return nil, false, err
			}
			if d, ok := t.(json.Delim); ok && d == '[' {
				return nil, true, nil
			}
			if t == nil { // "results": null
				continue
			}
			return nil, false, fmt.Errorf("%q is not a list", key)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false, err
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(key)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(v)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, false, err
	}
	buf.WriteByte('}')
	return buf.Bytes(), false, nil
}

// skipRest reads the members of a wrapper object after its list ("meta",
// "next", ...) and its closing brace.
func skipRest(dec *json.Decoder) error {
	for dec.More() {
		if _, err := dec.Token(); err != nil {
			return err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}
