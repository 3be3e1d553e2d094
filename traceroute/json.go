package traceroute

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
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
}

// MarshalJSON writes the interchange shape of a probe.
func (p Probe) MarshalJSON() ([]byte, error) {
	j := probeJSON{Name: p.Name, Lost: p.Lost, ASN: p.ASN, Flags: p.Flags, MTU: p.MTU, ReplyTTL: p.ReplyTTL, MPLS: p.MPLS}
	if p.Addr.IsValid() {
		j.Addr = p.Addr.String()
	}
	if !p.Lost {
		rtt := p.RTTMs
		j.RTTMs = &rtt
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the interchange shape of a probe. A probe without
// rtt_ms that is not marked lost is read as lost: the interchange never
// writes an answered probe without its RTT.
func (p *Probe) UnmarshalJSON(b []byte) error {
	var j probeJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*p = Probe{Name: j.Name, Lost: j.Lost, ASN: j.ASN, Flags: j.Flags, MTU: j.MTU, ReplyTTL: j.ReplyTTL, MPLS: j.MPLS}
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
type Encoder struct {
	w   *bufio.Writer
	enc *json.Encoder
}

// NewEncoder returns an Encoder writing to w. Call Flush when done.
func NewEncoder(w io.Writer) *Encoder {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &Encoder{w: bw, enc: enc}
}

// Encode writes t as one line.
func (e *Encoder) Encode(t *Trace) error {
	if t.Hops == nil {
		// "hops":[] rather than null: consumers iterate it without a check.
		c := *t
		c.Hops = []Hop{}
		t = &c
	}
	return e.enc.Encode(t)
}

// Flush writes any buffered data to the underlying writer.
func (e *Encoder) Flush() error { return e.w.Flush() }

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
