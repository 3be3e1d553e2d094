package traceroute

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// RIPE Atlas traceroute results (https://atlas.ripe.net/docs/apis/result-format/):
// a JSON array as the API downloads it, a single object, or one object a
// line, from every probe firmware. The reader maps a result as follows:
//
//   - Source.Addr is "from" (the probe's public address as the controller
//     saw it) or, when that is empty, "src_addr"; Source.ProbeID is "prb_id";
//     Started is "timestamp".
//   - Destination is "dst_addr" and "dst_name"; a dst_name that only repeats
//     the address is dropped.
//   - Each packet becomes a Probe: {"x":"*"} is lost; "from"/"rtt"/"ttl"
//     give Addr, RTTMs and ReplyTTL; "mtu" gives MTU; ICMP extension objects
//     of class 1 type 1 ("icmpext") give the MPLS label stack.
//   - "err" becomes a flag as traceroute prints it: N → !N, H → !H, A → !X
//     (administratively prohibited), P → !P, h → !S (beyond scope), p → !p
//     (port unreachable, kept verbatim), a number n → !n.
//   - A "late" reply (the answer to an earlier probe, arriving after its
//     timeout) has an address but no RTT: it is kept as a lost probe with
//     its Addr and the flag "late". ripe.atlas.sagan drops such packets; the
//     address is real evidence of the router at that TTL, so it stays.
//   - A hop "error" (for example "connect failed: Network is unreachable")
//     keeps the hop, without probes, and goes to Trace.Error; a result entry
//     with an error and no hop number only sets Trace.Error.
//
// Fields with no place in the model (fw, msm_id, paris_id, size, ittl, edst,
// option sizes) are skipped.

func detectAtlas(head []byte) bool {
	f, ok := peekFirstObject(head)
	if !ok {
		return false
	}
	switch f.typ {
	case "traceroute":
		return true
	case "": // "type" comes last in API results; the head may end before it
		return f.has("result") && f.has("prb_id", "msm_id", "fw", "paris_id", "lts", "msm_name")
	}
	return false // ping, dns, sslcert, ... results: not traceroutes
}

func parseAtlas(br *bufio.Reader, input string, yield func(*Trace, error) bool) {
	var d atlasAnyDecoder // ping results mixed in are read too (parse_atlas_ping.go)
	jsonRecordLoop(br, input, FormatRIPEAtlas, func(val []byte, _ int) (*Trace, error) { return d.decodeTracerouteFirst(val) }, yield)
}

// atlasDecoder decodes one result at a time, reusing its scratch space.
type atlasDecoder struct {
	s     jscan
	addrs addrCache
	// Per-trace scratch, reused: probes of all hops in one slab, then one
	// right-sized allocation each for hops and probes of the trace.
	hops   []Hop
	ranges [][2]int // probe slab range of each hop
	probes []Probe
	// notTraceroute is set when decode refused a value for its type (or
	// for having neither "result" nor "type"): it may be another kind of
	// result, which the ping decoder then tries.
	notTraceroute bool
}

// endpointAddr parses an address field of the result into *a; an empty
// string leaves it unset.
func (d *atlasDecoder) endpointAddr(field string, a *netip.Addr) error {
	return scanAddrField(&d.s, &d.addrs, field, a)
}

func (d *atlasDecoder) decode(val []byte) (*Trace, error) {
	s := &d.s
	s.reset(val)
	t := &Trace{Format: FormatRIPEAtlas}
	var from, srcAddr, dstNameAddr netip.Addr
	var dstName string
	var errs []string
	isResult := false
	d.hops, d.ranges, d.probes = d.hops[:0], d.ranges[:0], d.probes[:0]
	d.notTraceroute = false
	if !s.enter('{') {
		return nil, s.err
	}
	first := true
	for s.more('}', &first) {
		k := s.key()
		switch string(k) {
		case "type":
			if typ := s.str(); s.err == nil && string(typ) != "traceroute" {
				d.notTraceroute = true
				return nil, fmt.Errorf("not a traceroute result (type %q)", typ) // the record as a whole
			}
			isResult = true
		case "dst_addr":
			if err := d.endpointAddr("dst_addr", &t.Destination.Addr); err != nil {
				return nil, err
			}
		case "dst_name":
			if s.isNull() {
				continue
			}
			b := s.str()
			if a, err := parseAddrBytes(b); err == nil {
				dstNameAddr = a
			} else {
				dstName = string(b)
			}
		case "from":
			if err := d.endpointAddr("from", &from); err != nil {
				return nil, err
			}
		case "src_addr":
			if err := d.endpointAddr("src_addr", &srcAddr); err != nil {
				return nil, err
			}
		case "prb_id":
			t.Source.ProbeID = strconv.FormatInt(s.int(), 10)
		case "proto":
			t.Protocol = lowerProto(s.str())
		case "timestamp":
			switch ts := s.int(); {
			case ts > maxUnixSec:
				s.fail("timestamp %d out of range", ts)
			case ts > 0:
				t.Started = time.Unix(ts, 0).UTC()
			}
		case "result":
			isResult = true
			if s.isNull() {
				continue
			}
			if err := d.readHops(&errs); err != nil {
				return nil, err
			}
		case "error":
			if s.peek() == '"' {
				errs = append(errs, string(s.str()))
			} else {
				s.skip()
			}
		default:
			s.skip()
		}
	}
	s.end()
	if s.err != nil {
		return nil, s.err
	}
	if !isResult {
		d.notTraceroute = true
		return nil, errors.New(`not a RIPE Atlas traceroute result (no "result" and no "type")`)
	}
	t.Source.Addr = from
	if !from.IsValid() {
		t.Source.Addr = srcAddr
	}
	t.Destination.Name = dstName
	if dstNameAddr.IsValid() {
		if !t.Destination.Addr.IsValid() {
			t.Destination.Addr = dstNameAddr
		} else if dstNameAddr != t.Destination.Addr {
			t.Destination.Name = dstNameAddr.String()
		}
	}
	t.Error = strings.Join(errs, "; ")
	t.Hops = hopsFromSlabs(d.hops, d.probes, d.ranges)
	return t, nil
}

func lowerProto(b []byte) string {
	switch string(b) {
	case "UDP", "udp":
		return "udp"
	case "ICMP", "icmp":
		return "icmp"
	case "TCP", "tcp":
		return "tcp"
	}
	return strings.ToLower(string(b))
}

// readHops reads the "result" array of hops into the scratch slabs.
func (d *atlasDecoder) readHops(errs *[]string) error {
	s := &d.s
	if !s.enter('[') {
		return s.err
	}
	first := true
	for s.more(']', &first) {
		if !s.enter('{') {
			break
		}
		h := Hop{}
		hasHop := false
		start := len(d.probes)
		hopFirst := true
		for s.more('}', &hopFirst) {
			switch string(s.key()) {
			case "hop":
				n := s.int()
				if s.err == nil && (n < 1 || n > 255) {
					s.fail("hop %d out of range", n)
				}
				h.TTL, hasHop = int(n), true
			case "result":
				if s.isNull() {
					continue
				}
				if err := d.packets(); err != nil {
					return err
				}
			case "error":
				if s.peek() == '"' {
					*errs = append(*errs, string(s.str()))
				} else {
					s.skip()
				}
			default:
				s.skip()
			}
		}
		if s.err != nil {
			break
		}
		switch {
		case hasHop && len(d.hops) >= MaxHops:
			s.fail("more than %d hops in one trace", MaxHops)
		case hasHop:
			d.hops = append(d.hops, h)
			d.ranges = append(d.ranges, [2]int{start, len(d.probes)})
		case len(d.probes) > start:
			s.fail("hop entry without a hop number")
		}
	}
	return s.err
}

func (d *atlasDecoder) packets() error {
	s := &d.s
	if !s.enter('[') {
		return s.err
	}
	first := true
	for s.more(']', &first) {
		p, err := d.packet()
		if err != nil {
			return err
		}
		if len(d.probes) >= MaxProbes {
			s.fail("more than %d probes in one trace", MaxProbes)
			return s.err
		}
		d.probes = append(d.probes, p)
	}
	return s.err
}

func (d *atlasDecoder) packet() (Probe, error) {
	s := &d.s
	var p Probe
	if !s.enter('{') {
		return p, s.err
	}
	hasRTT, late := false, false
	first := true
	for s.more('}', &first) {
		switch string(s.key()) {
		case "from":
			if s.isNull() {
				continue
			}
			off := s.i
			b := s.str()
			if s.err != nil || len(b) == 0 {
				continue
			}
			a, err := d.addrs.parse(b)
			if err != nil {
				s.failAt(off, "packet from %q: %v", b, err)
				return p, s.err
			}
			p.Addr = a
		case "rtt":
			if s.isNull() {
				continue
			}
			p.RTTMs = s.num()
			hasRTT = true
		case "ttl":
			p.ReplyTTL = int(s.int())
		case "mtu":
			p.MTU = int(s.int())
		case "late":
			s.skip()
			late = true
		case "err":
			if s.peek() == '"' {
				p.Flags = append(p.Flags, atlasErrFlag(s.str()))
			} else {
				p.Flags = append(p.Flags, "!"+strconv.FormatInt(s.int(), 10))
			}
		case "icmpext":
			d.icmpext(&p)
		default: // "x", "size", "ittl", "edst", "dstoptsize", "hbhoptsize", "flags", ...
			s.skip()
		}
	}
	if s.err != nil {
		return p, s.err
	}
	if late {
		p.Flags = append(p.Flags, "late")
	}
	if late || !hasRTT || p.RTTMs < 0 {
		p.Lost, p.RTTMs = true, 0
	}
	return p, nil
}

func atlasErrFlag(b []byte) string {
	switch string(b) {
	case "N":
		return "!N"
	case "H":
		return "!H"
	case "A":
		return "!X"
	case "P":
		return "!P"
	case "h":
		return "!S"
	case "p":
		return "!p"
	}
	return "!" + string(b)
}

// icmpext reads {"version":2,"rfc4884":1,"obj":[{"class":1,"type":1,"mpls":[...]}]}.
func (d *atlasDecoder) icmpext(p *Probe) {
	s := &d.s
	if s.isNull() || !s.enter('{') {
		return
	}
	first := true
	for s.more('}', &first) {
		if string(s.key()) != "obj" || s.isNull() {
			s.skip()
			continue
		}
		if !s.enter('[') {
			return
		}
		objFirst := true
		for s.more(']', &objFirst) {
			if !s.enter('{') {
				return
			}
			class, typ := int64(-1), int64(-1)
			var labels []MPLSLabel
			oFirst := true
			for s.more('}', &oFirst) {
				switch string(s.key()) {
				case "class":
					class = s.int()
				case "type":
					typ = s.int()
				case "mpls":
					labels = d.mpls(labels)
				default:
					s.skip()
				}
			}
			if class == 1 && typ == 1 {
				p.MPLS = append(p.MPLS, labels...)
			}
		}
	}
}

func (d *atlasDecoder) mpls(out []MPLSLabel) []MPLSLabel {
	s := &d.s
	if s.isNull() || !s.enter('[') {
		return out
	}
	first := true
	for s.more(']', &first) {
		if !s.enter('{') {
			return out
		}
		var l MPLSLabel
		lFirst := true
		for s.more('}', &lFirst) {
			switch string(s.key()) {
			case "label":
				v := s.int()
				if v < 0 || v >= 1<<20 {
					s.fail("MPLS label %d out of range", v)
				}
				l.Label = uint32(v)
			case "exp":
				l.TC = uint8(s.int() & 7)
			case "s":
				l.S = s.boolish()
			case "ttl":
				l.TTL = uint8(s.int() & 0xff)
			default:
				s.skip()
			}
		}
		out = append(out, l)
	}
	return out
}
