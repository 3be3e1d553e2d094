package traceroute

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"

	"github.com/geoloc-dev/geoloc/internal/jsonw"
)

// probeJSON is Probe's wire shape: rtt_ms is written exactly when the probe
// was answered, so a lost probe and a 0 ms reply stay distinct.
type probeJSON struct {
	Addr     string      `json:"addr,omitempty"`
	Name     string      `json:"name,omitempty"`
	RTTMs    *float64    `json:"rtt_ms,omitempty"`
	Lost     bool        `json:"lost,omitempty"`
	ASN      uint32      `json:"asn,omitempty"`
	Flags    []string    `json:"flags,omitempty"`
	MTU      int         `json:"mtu,omitempty"`
	ReplyTTL int         `json:"reply_ttl,omitempty"`
	MPLS     []MPLSLabel `json:"mpls,omitempty"`
	Flow     int         `json:"flow,omitempty"`
}

// MarshalJSON writes the interchange shape of a probe.
func (p Probe) MarshalJSON() ([]byte, error) {
	j := probeJSON{Name: p.Name, Lost: p.Lost, ASN: p.ASN, Flags: p.Flags, MTU: p.MTU, ReplyTTL: p.ReplyTTL, MPLS: p.MPLS, Flow: p.Flow}
	if p.Addr.IsValid() {
		j.Addr = p.Addr.String()
	}
	if !p.Lost {
		rtt := p.RTTMs
		j.RTTMs = &rtt
	}
	// No HTML escaping here: the caller's encoder decides ("!<500>" stays
	// readable in the interchange; json.Marshal of a Trace still escapes).
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON reads the interchange shape of a probe. A probe without
// rtt_ms that is not marked lost is read as lost: the interchange never
// writes an answered probe without its RTT.
func (p *Probe) UnmarshalJSON(b []byte) error {
	var j probeJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*p = Probe{Name: j.Name, Lost: j.Lost, ASN: j.ASN, Flags: j.Flags, MTU: j.MTU, ReplyTTL: j.ReplyTTL, MPLS: j.MPLS, Flow: j.Flow}
	if j.Addr != "" {
		if err := p.Addr.UnmarshalText([]byte(j.Addr)); err != nil {
			return fmt.Errorf("probe addr: %w", err)
		}
	}
	switch {
	case j.RTTMs != nil && !j.Lost:
		p.RTTMs = *j.RTTMs
	case j.RTTMs == nil:
		p.Lost = true
	}
	return nil
}

// Encoder writes traces as interchange JSON Lines, one trace a line. Read
// (or ReadOptions{Format: FormatGeoloc}) reads them back into equal traces.
//
// The encoder writes by hand what encoding/json would write for a Trace
// (with HTML escaping off): the same bytes, several times faster. A
// differential test and fuzz target hold the two together.
type Encoder struct {
	w   *bufio.Writer
	buf []byte
	tmp []byte
}

// NewEncoder returns an Encoder writing to w. Call Flush when done.
func NewEncoder(w io.Writer) *Encoder {
	return &Encoder{w: bufio.NewWriterSize(w, 64<<10)}
}

// Encode writes t as one line. It fails, writing nothing, for values JSON
// cannot carry (NaN or infinite numbers, a start time outside years 0-9999).
func (e *Encoder) Encode(t *Trace) error {
	b, err := e.appendTrace(e.buf[:0], t)
	e.buf = b[:0]
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = e.w.Write(b)
	return err
}

// Flush writes any buffered data to the underlying writer.
func (e *Encoder) Flush() error { return e.w.Flush() }

// errUnsupportedFloat mirrors encoding/json's refusal of NaN and infinities.
type errUnsupportedFloat float64

func (f errUnsupportedFloat) Error() string {
	return "json: unsupported value: " + strconv.FormatFloat(float64(f), 'g', -1, 64)
}

func (e *Encoder) appendTrace(b []byte, t *Trace) ([]byte, error) {
	var err error
	b = append(b, '{')
	if t.Format != "" {
		b = jsonw.Key(b, "format")
		b = appendJSONString(b, t.Format)
	}
	if !t.Source.IsZero() {
		b = jsonw.Key(b, "source")
		if b, err = e.appendEndpoint(b, &t.Source); err != nil {
			return b, err
		}
	}
	if !t.Destination.IsZero() {
		b = jsonw.Key(b, "destination")
		if b, err = e.appendEndpoint(b, &t.Destination); err != nil {
			return b, err
		}
	}
	if t.Protocol != "" {
		b = jsonw.Key(b, "protocol")
		b = appendJSONString(b, t.Protocol)
	}
	if !t.Started.IsZero() {
		b = jsonw.Key(b, "started")
		ts, err := t.Started.MarshalJSON()
		if err != nil {
			return b, fmt.Errorf("json: error calling MarshalJSON for type time.Time: %w", err)
		}
		b = append(b, ts...)
	}
	if t.Error != "" {
		b = jsonw.Key(b, "error")
		b = appendJSONString(b, t.Error)
	}
	b = jsonw.Key(b, "hops")
	b = append(b, '[')
	for i := range t.Hops {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = e.appendHop(b, &t.Hops[i]); err != nil {
			return b, err
		}
	}
	b = append(b, ']', '}')
	return b, nil
}

func (e *Encoder) appendAddr(b []byte, a netip.Addr) []byte {
	e.tmp = a.AppendTo(e.tmp[:0])
	return appendJSONString(b, string(e.tmp))
}

func (e *Encoder) appendEndpoint(b []byte, p *Endpoint) ([]byte, error) {
	var err error
	b = append(b, '{')
	if p.Addr != (netip.Addr{}) {
		b = jsonw.Key(b, "addr")
		b = e.appendAddr(b, p.Addr)
	}
	if p.Name != "" {
		b = jsonw.Key(b, "name")
		b = appendJSONString(b, p.Name)
	}
	if p.Lat != nil {
		b = jsonw.Key(b, "lat")
		if b, err = appendJSONFloat(b, *p.Lat); err != nil {
			return b, err
		}
	}
	if p.Lon != nil {
		b = jsonw.Key(b, "lon")
		if b, err = appendJSONFloat(b, *p.Lon); err != nil {
			return b, err
		}
	}
	if p.ProbeID != "" {
		b = jsonw.Key(b, "probe_id")
		b = appendJSONString(b, p.ProbeID)
	}
	return append(b, '}'), nil
}

func (e *Encoder) appendHop(b []byte, h *Hop) ([]byte, error) {
	var err error
	b = append(b, `{"ttl":`...)
	b = strconv.AppendInt(b, int64(h.TTL), 10)
	if len(h.Probes) > 0 {
		b = append(b, `,"probes":[`...)
		for i := range h.Probes {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = e.appendProbe(b, &h.Probes[i]); err != nil {
				return b, err
			}
		}
		b = append(b, ']')
	}
	if len(h.Stats) > 0 {
		b = append(b, `,"stats":[`...)
		for i := range h.Stats {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = e.appendStats(b, &h.Stats[i]); err != nil {
				return b, err
			}
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

func (e *Encoder) appendProbe(b []byte, p *Probe) ([]byte, error) {
	var err error
	b = append(b, '{')
	if p.Addr.IsValid() {
		b = jsonw.Key(b, "addr")
		b = e.appendAddr(b, p.Addr)
	}
	if p.Name != "" {
		b = jsonw.Key(b, "name")
		b = appendJSONString(b, p.Name)
	}
	if !p.Lost {
		b = jsonw.Key(b, "rtt_ms")
		if b, err = appendJSONFloat(b, p.RTTMs); err != nil {
			return b, err
		}
	}
	if p.Lost {
		b = jsonw.Key(b, "lost")
		b = append(b, "true"...)
	}
	if p.ASN != 0 {
		b = jsonw.Key(b, "asn")
		b = strconv.AppendUint(b, uint64(p.ASN), 10)
	}
	if len(p.Flags) > 0 {
		b = jsonw.Key(b, "flags")
		b = append(b, '[')
		for i, f := range p.Flags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f)
		}
		b = append(b, ']')
	}
	if p.MTU != 0 {
		b = jsonw.Key(b, "mtu")
		b = strconv.AppendInt(b, int64(p.MTU), 10)
	}
	if p.ReplyTTL != 0 {
		b = jsonw.Key(b, "reply_ttl")
		b = strconv.AppendInt(b, int64(p.ReplyTTL), 10)
	}
	if len(p.MPLS) > 0 {
		b = jsonw.Key(b, "mpls")
		b = appendMPLS(b, p.MPLS)
	}
	if p.Flow != 0 {
		b = jsonw.Key(b, "flow")
		b = strconv.AppendInt(b, int64(p.Flow), 10)
	}
	return append(b, '}'), nil
}

func (e *Encoder) appendStats(b []byte, s *Stats) ([]byte, error) {
	var err error
	b = append(b, '{')
	if s.Addr != (netip.Addr{}) {
		b = jsonw.Key(b, "addr")
		b = e.appendAddr(b, s.Addr)
	}
	if s.Name != "" {
		b = jsonw.Key(b, "name")
		b = appendJSONString(b, s.Name)
	}
	if s.ASN != 0 {
		b = jsonw.Key(b, "asn")
		b = strconv.AppendUint(b, uint64(s.ASN), 10)
	}
	if s.Sent != 0 {
		b = jsonw.Key(b, "sent")
		b = strconv.AppendInt(b, int64(s.Sent), 10)
	}
	b = jsonw.Key(b, "loss_pct")
	if b, err = appendJSONFloat(b, s.LossPct); err != nil {
		return b, err
	}
	for _, f := range [...]struct {
		name string
		v    float64
	}{{"last_ms", s.LastMs}, {"min_ms", s.MinMs}, {"avg_ms", s.AvgMs}, {"max_ms", s.MaxMs}, {"stdev_ms", s.StdevMs}} {
		if f.v != 0 {
			b = jsonw.Key(b, f.name)
			if b, err = appendJSONFloat(b, f.v); err != nil {
				return b, err
			}
		}
	}
	if len(s.MPLS) > 0 {
		b = jsonw.Key(b, "mpls")
		b = appendMPLS(b, s.MPLS)
	}
	return append(b, '}'), nil
}

func appendMPLS(b []byte, ls []MPLSLabel) []byte {
	b = append(b, '[')
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"label":`...)
		b = strconv.AppendUint(b, uint64(l.Label), 10)
		b = append(b, `,"tc":`...)
		b = strconv.AppendUint(b, uint64(l.TC), 10)
		b = append(b, `,"s":`...)
		b = strconv.AppendBool(b, l.S)
		b = append(b, `,"ttl":`...)
		b = strconv.AppendUint(b, uint64(l.TTL), 10)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendJSONFloat formats f as encoding/json does (jsonw.Float), refusing
// NaN and infinities as it does.
func appendJSONFloat(b []byte, f float64) ([]byte, error) {
	b, ok := jsonw.Float(b, f)
	if !ok {
		return b, errUnsupportedFloat(f)
	}
	return b, nil
}

// appendJSONString quotes s as encoding/json does with HTML escaping off.
func appendJSONString(b []byte, s string) []byte { return jsonw.String(b, s, false) }

// UnmarshalTrace decodes one interchange JSON line. Empty arrays read as nil
// slices (the encoder omits them, or writes "hops":[] for none), so that
// decoding what Encoder wrote gives back an equal value.
func UnmarshalTrace(line []byte) (*Trace, error) {
	var t Trace
	if err := json.Unmarshal(line, &t); err != nil {
		return nil, err
	}
	if len(t.Hops) == 0 {
		t.Hops = nil
	}
	for i := range t.Hops {
		h := &t.Hops[i]
		if len(h.Probes) == 0 {
			h.Probes = nil
		}
		if len(h.Stats) == 0 {
			h.Stats = nil
		}
		for j := range h.Probes {
			p := &h.Probes[j]
			if len(p.Flags) == 0 {
				p.Flags = nil
			}
			if len(p.MPLS) == 0 {
				p.MPLS = nil
			}
		}
		for j := range h.Stats {
			if len(h.Stats[j].MPLS) == 0 {
				h.Stats[j].MPLS = nil
			}
		}
	}
	return &t, nil
}
