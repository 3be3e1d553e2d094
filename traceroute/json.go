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

// UnmarshalTrace decodes one interchange JSON line. An empty "hops" array
// reads as nil hops, so that encoding and decoding a trace gives back an
// equal value.
func UnmarshalTrace(line []byte) (*Trace, error) {
	var t Trace
	if err := json.Unmarshal(line, &t); err != nil {
		return nil, err
	}
	if len(t.Hops) == 0 {
		t.Hops = nil
	}
	return &t, nil
}
