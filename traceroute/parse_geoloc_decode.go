package traceroute

import (
	"errors"
	"math"
	"net/netip"
)

// interchangeDecoder reads one interchange line with the pull scanner: the
// same result as encoding/json with the Trace/Probe methods (a differential
// fuzz test holds them together), several times faster. Like encoding/json
// it skips unknown keys (later additive fields) and treats null as absent.
type interchangeDecoder struct {
	s      jscan
	addrs  addrCache
	hops   []Hop
	ranges [][2]int
	probes []Probe
}

func (d *interchangeDecoder) decode(val []byte) (*Trace, error) {
	s := &d.s
	s.reset(val)
	d.hops, d.ranges, d.probes = d.hops[:0], d.ranges[:0], d.probes[:0]
	t := &Trace{}
	if !s.enter('{') {
		return nil, s.err
	}
	hasHops := false
	first := true
	for s.more('}', &first) {
		k := s.key()
		if string(k) == "hops" {
			hasHops = true
		}
		if s.isNull() {
			continue
		}
		switch string(k) {
		case "format":
			t.Format = string(s.str())
		case "source":
			d.endpoint(&t.Source)
		case "destination":
			d.endpoint(&t.Destination)
		case "protocol":
			t.Protocol = string(s.str())
		case "started":
			b := s.str()
			if s.err != nil {
				break
			}
			if err := t.Started.UnmarshalText(b); err != nil { // RFC 3339, as encoding/json
				s.fail("started: %v", err)
			}
		case "error":
			t.Error = string(s.str())
		case "hops":
			d.readHops()
		default:
			s.skip()
		}
	}
	s.end()
	if s.err != nil {
		return nil, s.err
	}
	if !hasHops {
		// The Encoder always writes "hops"; an object without it is not
		// a trace (an empty {} would otherwise read as one).
		return nil, errors.New(`not an interchange trace (no "hops")`)
	}
	if len(d.hops) > 0 {
		t.Hops = make([]Hop, len(d.hops))
		copy(t.Hops, d.hops)
		probes := make([]Probe, len(d.probes))
		copy(probes, d.probes)
		for i, r := range d.ranges {
			if r[1] > r[0] {
				t.Hops[i].Probes = probes[r[0]:r[1]:r[1]]
			}
		}
	}
	return t, nil
}

func (d *interchangeDecoder) addr(what string) netip.Addr {
	s := &d.s
	b := s.str()
	if s.err != nil {
		return netip.Addr{}
	}
	a, err := d.addrs.parse(b)
	if err != nil {
		s.fail("%s: %v", what, err)
	}
	return a
}

func (d *interchangeDecoder) endpoint(e *Endpoint) {
	s := &d.s
	if !s.enter('{') {
		return
	}
	first := true
	for s.more('}', &first) {
		k := s.key()
		if s.isNull() {
			continue
		}
		switch string(k) {
		case "addr":
			// encoding/json reads netip.Addr with UnmarshalText, which keeps
			// zones and IPv4-mapped forms; so do we.
			b := s.str()
			if s.err == nil {
				if err := e.Addr.UnmarshalText(b); err != nil {
					s.fail("addr: %v", err)
				}
			}
		case "name":
			e.Name = string(s.str())
		case "lat":
			v := s.num()
			e.Lat = &v
		case "lon":
			v := s.num()
			e.Lon = &v
		case "probe_id":
			e.ProbeID = string(s.str())
		default:
			s.skip()
		}
	}
}

func (d *interchangeDecoder) readHops() {
	s := &d.s
	if !s.enter('[') {
		return
	}
	first := true
	for s.more(']', &first) {
		if s.isNull() {
			d.hops = append(d.hops, Hop{})
			d.ranges = append(d.ranges, [2]int{len(d.probes), len(d.probes)})
			continue
		}
		if !s.enter('{') {
			return
		}
		var h Hop
		start := len(d.probes)
		hf := true
		for s.more('}', &hf) {
			k := s.key()
			if s.isNull() {
				continue
			}
			switch string(k) {
			case "ttl":
				h.TTL = d.intIn("ttl", math.MinInt64, math.MaxInt64)
			case "probes":
				d.probes = d.probes[:start] // a repeated key replaces, as in encoding/json
				if !s.enter('[') {
					return
				}
				pf := true
				for s.more(']', &pf) {
					d.probes = append(d.probes, d.probe())
				}
			case "stats":
				h.Stats = nil
				if !s.enter('[') {
					return
				}
				sf := true
				for s.more(']', &sf) {
					h.Stats = append(h.Stats, d.stats())
				}
				if len(h.Stats) == 0 {
					h.Stats = nil
				}
			default:
				s.skip()
			}
		}
		d.hops = append(d.hops, h)
		d.ranges = append(d.ranges, [2]int{start, len(d.probes)})
	}
}

// intIn reads an integer within [lo, hi].
func (d *interchangeDecoder) intIn(what string, lo, hi int64) int {
	v := d.s.int()
	if d.s.err == nil && (v < lo || v > hi) {
		d.s.fail("%s %d out of range", what, v)
	}
	return int(v)
}

func (d *interchangeDecoder) probe() Probe {
	s := &d.s
	var p Probe
	if s.isNull() {
		return Probe{Lost: true}
	}
	if !s.enter('{') {
		return p
	}
	var rtt float64
	hasRTT := false
	first := true
	for s.more('}', &first) {
		k := s.key()
		if s.isNull() {
			continue
		}
		switch string(k) {
		case "addr":
			b := s.str()
			if s.err == nil && len(b) > 0 {
				if err := p.Addr.UnmarshalText(b); err != nil {
					s.fail("probe addr: %v", err)
				}
			}
		case "name":
			p.Name = string(s.str())
		case "rtt_ms":
			rtt, hasRTT = s.num(), true
		case "lost":
			p.Lost = s.bool()
		case "asn":
			p.ASN = uint32(d.intIn("asn", 0, math.MaxUint32))
		case "flags":
			p.Flags = d.strings()
		case "mtu":
			p.MTU = d.intIn("mtu", math.MinInt64, math.MaxInt64)
		case "reply_ttl":
			p.ReplyTTL = d.intIn("reply_ttl", math.MinInt64, math.MaxInt64)
		case "mpls":
			p.MPLS = d.mpls()
		case "flow":
			p.Flow = d.intIn("flow", math.MinInt64, math.MaxInt64)
		default:
			s.skip()
		}
	}
	switch {
	case hasRTT && !p.Lost:
		p.RTTMs = rtt
	case !hasRTT:
		p.Lost = true
	}
	return p
}

func (d *interchangeDecoder) stats() Stats {
	s := &d.s
	var st Stats
	if s.isNull() || !s.enter('{') {
		return st
	}
	first := true
	for s.more('}', &first) {
		k := s.key()
		if s.isNull() {
			continue
		}
		switch string(k) {
		case "addr":
			b := s.str()
			if s.err == nil {
				if err := st.Addr.UnmarshalText(b); err != nil {
					s.fail("stats addr: %v", err)
				}
			}
		case "name":
			st.Name = string(s.str())
		case "asn":
			st.ASN = uint32(d.intIn("asn", 0, math.MaxUint32))
		case "sent":
			st.Sent = d.intIn("sent", math.MinInt64, math.MaxInt64)
		case "loss_pct":
			st.LossPct = s.num()
		case "last_ms":
			st.LastMs = s.num()
		case "min_ms":
			st.MinMs = s.num()
		case "avg_ms":
			st.AvgMs = s.num()
		case "max_ms":
			st.MaxMs = s.num()
		case "stdev_ms":
			st.StdevMs = s.num()
		case "mpls":
			st.MPLS = d.mpls()
		default:
			s.skip()
		}
	}
	return st
}

func (d *interchangeDecoder) strings() []string {
	s := &d.s
	if !s.enter('[') {
		return nil
	}
	var out []string
	first := true
	for s.more(']', &first) {
		if s.isNull() {
			out = append(out, "")
			continue
		}
		out = append(out, string(s.str()))
	}
	return out
}

func (d *interchangeDecoder) mpls() []MPLSLabel {
	s := &d.s
	if !s.enter('[') {
		return nil
	}
	var out []MPLSLabel
	first := true
	for s.more(']', &first) {
		var l MPLSLabel
		if s.isNull() {
			out = append(out, l)
			continue
		}
		if !s.enter('{') {
			return out
		}
		lf := true
		for s.more('}', &lf) {
			k := s.key()
			if s.isNull() {
				continue
			}
			switch string(k) {
			case "label":
				l.Label = uint32(d.intIn("label", 0, math.MaxUint32))
			case "tc":
				l.TC = uint8(d.intIn("tc", 0, math.MaxUint8))
			case "s":
				l.S = s.bool()
			case "ttl":
				l.TTL = uint8(d.intIn("mpls ttl", 0, math.MaxUint8))
			default:
				s.skip()
			}
		}
		out = append(out, l)
	}
	return out
}

// bool reads true or false.
func (s *jscan) bool() bool {
	switch s.peek() {
	case 't':
		return s.literal("true")
	case 'f':
		s.literal("false")
		return false
	}
	if s.i < len(s.b) {
		s.fail("want true or false, found %s", quoteByte(s.b[s.i]))
	} else {
		s.fail("want true or false, found end of value")
	}
	return false
}
