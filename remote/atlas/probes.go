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
			return Probe{}, fmt.Errorf("probe %d: position %v,%v out of range", p.ID, lat, lon)
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

// ReadProbes decodes a list of RIPE Atlas probes as a stream, whatever its
// shape: an API /probes/ page ({"count":…,"results":[…]}), the daily probe
// archive (https://ftp.ripe.net/ripe/atlas/probes/archive/, {"objects":[…]}),
// a bare array of probe objects, or one probe object a line. Memory stays
// bounded by one probe however long the list. A probe that cannot be read
// yields an error naming its position in the list (the others are still
// read); malformed JSON ends the stream with an error.
func ReadProbes(r io.Reader) iter.Seq2[Probe, error] {
	return func(yield func(Probe, error) bool) {
		br := bufio.NewReader(r)
		dec := json.NewDecoder(br)
		dec.UseNumber()
		n := 0
		seen := false // any value at all
		one := func() bool {
			var pj probeJSON
			if err := dec.Decode(&pj); err != nil {
				yield(Probe{}, fmt.Errorf("probe list: probe %d: %w", n+1, err))
				return false
			}
			n++
			p, err := pj.probe()
			if err != nil {
				return yield(Probe{}, fmt.Errorf("probe list: probe %d: %w", n, err))
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
				yield(Probe{}, fmt.Errorf("probe list: %w", err))
				return false
			}
			return true
		}
		for {
			// What comes next: an object (a probe, or a wrapper with
			// "results"/"objects") or an array of probes.
			c, err := peekNonSpace(br, dec)
			if err == io.EOF {
				if !seen {
					yield(Probe{}, errors.New("probe list: empty input"))
				}
				return
			}
			if err != nil {
				yield(Probe{}, fmt.Errorf("probe list: %w", err))
				return
			}
			seen = true
			switch c {
			case '[':
				if _, err := dec.Token(); err != nil {
					yield(Probe{}, fmt.Errorf("probe list: %w", err))
					return
				}
				if !array() {
					return
				}
				continue
			case '{':
			default:
				yield(Probe{}, fmt.Errorf("probe list: unexpected %q where a probe or a list should start", c))
				return
			}
			// An object: read it as a wrapper if its first keys lead to
			// "results" or "objects", else as one probe.
			raw, wrapped, err := readWrapper(dec)
			if err != nil {
				yield(Probe{}, fmt.Errorf("probe list: %w", err))
				return
			}
			if wrapped {
				if !array() {
					return
				}
				if err := skipRest(dec); err != nil {
					yield(Probe{}, fmt.Errorf("probe list: %w", err))
					return
				}
				continue
			}
			var pj probeJSON
			if err := json.Unmarshal(raw, &pj); err != nil {
				yield(Probe{}, fmt.Errorf("probe list: probe %d: %w", n+1, err))
				return
			}
			n++
			p, err := pj.probe()
			if err != nil {
				if !yield(Probe{}, fmt.Errorf("probe list: probe %d: %w", n, err)) {
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

// peekNonSpace returns the next non-space byte the decoder will read.
func peekNonSpace(br *bufio.Reader, dec *json.Decoder) (byte, error) {
	// The decoder buffers ahead: look at its buffer first.
	buf, _ := io.ReadAll(io.LimitReader(dec.Buffered(), 1<<20))
	if c := bytes.TrimLeft(buf, " \t\r\n"); len(c) > 0 {
		return c[0], nil
	}
	for {
		b, err := br.Peek(1)
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.Discard(1)
			continue
		}
		return b[0], nil
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
