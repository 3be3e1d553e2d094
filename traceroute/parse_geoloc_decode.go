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
	hops   []Hop
	ranges [][2]int
	probes []Probe
	nStats int // per-address statistics read, against MaxProbes
	// lastText and lastAddr are the last address textAddr read.
	lastText []byte
	lastAddr netip.Addr
}

func (d *interchangeDecoder) decode(val []byte) (*Trace, error) {
	s := &d.s
	s.reset(val)
	d.hops, d.ranges, d.probes, d.nStats = d.hops[:0], d.ranges[:0], d.probes[:0], 0
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
	t.Hops = hopsFromSlabs(d.hops, d.probes, d.ranges)
	return t, nil
}

// hopsFromSlabs copies hops read into a decoder's reused scratch slabs out
// to a trace's own memory, in two allocations: hop i's probes are
// probes[ranges[i][0]:ranges[i][1]] (nil when empty), capped so that
// appending to one hop never overwrites the next. No hops give nil.
func hopsFromSlabs(hops []Hop, probes []Probe, ranges [][2]int) []Hop {
	if len(hops) == 0 {
		return nil
	}
	out := make([]Hop, len(hops))
	copy(out, hops)
	own := make([]Probe, len(probes))
	copy(own, probes)
	for i, r := range ranges {
		if r[1] > r[0] {
			out[i].Probes = own[r[0]:r[1]:r[1]]
		}
	}
	return out
}

// textAddr reads an address as encoding/json reads a netip.Addr, with
// UnmarshalText: zones and IPv4-mapped forms are kept, "" is the zero
// Addr. The last address read is remembered: the probes of a hop mostly
// repeat their router's.
func (d *interchangeDecoder) textAddr(what string) (a netip.Addr) {
	b := d.s.str()
	if d.s.err != nil {
		return a
	}
	if len(b) > 0 && string(b) == string(d.lastText) {
		return d.lastAddr
	}
	if err := a.UnmarshalText(b); err != nil {
		d.s.fail("%s: %v", what, err)
		return a
	}
	d.lastText, d.lastAddr = append(d.lastText[:0], b...), a
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
			e.Addr = d.textAddr("addr")
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
		if len(d.hops) >= MaxHops {
			s.fail("more than %d hops in one trace", MaxHops)
			return
		}
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
					if d.nStats+len(d.probes) >= MaxProbes {
						s.fail("more than %d probes in one trace", MaxProbes)
						return
					}
					d.probes = append(d.probes, d.probe())
				}
			case "stats":
				h.Stats = nil
				if !s.enter('[') {
					return
				}
				sf := true
				for s.more(']', &sf) {
					if d.nStats+len(d.probes) >= MaxProbes {
						s.fail("more than %d probes in one trace", MaxProbes)
						return
					}
					h.Stats = append(h.Stats, d.stats())
					d.nStats++
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
			p.Addr = d.textAddr("probe addr")
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
			st.Addr = d.textAddr("stats addr")
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
