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

// FormatRIPEAtlasPing names RIPE Atlas ping results.
const FormatRIPEAtlasPing = "ripe-atlas-ping"

// RIPE Atlas ping results (https://atlas.ripe.net/docs/apis/measurement-result-format/):
// a JSON array as the API downloads it, a single object, or one object a
// line, from every probe firmware. A ping result is one observation of its
// destination from its probe: the reader makes it a trace of one hop whose
// probes are the ping's packets, all from the destination address. The
// engine then takes each RTT as a hard bound around the probe (when the
// probe's position is known: a --vantage-points table of RIPE Atlas
// probes). The mapping:
//
//   - Source, Destination, Started and Protocol as for traceroute results
//     (see the RIPE Atlas traceroute reader); firmware 1 names the
//     destination "addr" and "name" instead of "dst_addr" and "dst_name".
//   - Each element of "result" becomes a Probe from the destination:
//     {"rtt": ms} a reply, {"x": "*"} lost, {"error": "..."} lost with the
//     error going to Trace.Error. A packet's "ttl" (or, failing it, the
//     result's "ttl", as ripe.atlas.sagan reads it) is its ReplyTTL; a
//     duplicate reply ("dup": 1) keeps its RTT, which is still a true upper
//     bound of the distance, and gets the flag "dup".
//   - Firmware 1 and older give no packets, only "sent", "rcvd", "min",
//     "avg" and "max" (numbers, or strings holding them): they become one
//     Stats aggregate of the destination, or lost probes when nothing came
//     back. Probes are never invented from aggregates.
//   - The hop's TTL is how far the destination is, estimated from the
//     largest reply TTL: the reply started at 64, 128 or 255 (the smallest
//     of these not below what arrived) and lost one per router on the way
//     back, so it is 1 + initial − arrived. Without any reply TTL it is 1.
//     The estimate orders nothing and bounds nothing: the engine uses the
//     RTT only.
//
// A stream may mix ping and traceroute results (both readers read both):
// each result is read by its own "type".

func detectAtlasPing(head []byte) bool {
	f, ok := peekFirstObject(head)
	if !ok {
		return false
	}
	switch f.typ {
	case "ping":
		return true
	case "": // firmware 1 has no "type"; API results put it last
		return f.has("rcvd") && f.has("sent") && f.has("prb_id", "msm_id", "fw", "lts", "msm_name")
	}
	return false
}

func parseAtlasPing(br *bufio.Reader, input string, yield func(*Trace, error) bool) {
	var d atlasAnyDecoder
	jsonRecordLoop(br, input, FormatRIPEAtlasPing, func(val []byte, _ int) (*Trace, error) { return d.decodePingFirst(val) }, yield)
}

// atlasAnyDecoder reads RIPE Atlas results of either type, so that a stream
// mixing pings and traceroutes loses nothing whichever reader detected it.
type atlasAnyDecoder struct {
	trace atlasDecoder
	ping  atlasPingDecoder
}

func (d *atlasAnyDecoder) decodePingFirst(val []byte) (*Trace, error) {
	t, err := d.ping.decode(val)
	if d.ping.isTraceroute {
		return d.trace.decode(val)
	}
	return t, err
}

// decodeTracerouteFirst is the traceroute reader's fallback: a result the
// traceroute decoder refuses for its type is read as a ping when it is one.
func (d *atlasAnyDecoder) decodeTracerouteFirst(val []byte) (*Trace, error) {
	t, err := d.trace.decode(val)
	if err == nil || !d.trace.notTraceroute {
		return t, err
	}
	pt, perr := d.ping.decode(val)
	if d.ping.isPing {
		return pt, perr
	}
	return t, err
}

// atlasPingDecoder decodes one ping result at a time, reusing its scratch.
type atlasPingDecoder struct {
	s      jscan
	addrs  addrCache
	probes []Probe
	// isTraceroute is set when the value turned out to be a traceroute
	// result (by its "type", or, without one, by hop-shaped "result"
	// elements); isPing when it is certainly a ping result.
	isTraceroute, isPing bool
}

// pingNum reads a number, or a string holding one (firmware 0 writes
// "avg":"58.042"); null is absent.
func (d *atlasPingDecoder) pingNum(field string) (float64, bool) {
	s := &d.s
	switch s.peek() {
	case 'n':
		s.isNull()
		return 0, false
	case '"':
		off := s.i
		b := s.str()
		if s.err != nil {
			return 0, false
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
		if err != nil {
			s.failAt(off, "%s %q: not a number", field, b)
			return 0, false
		}
		return v, true
	}
	return s.num(), s.err == nil
}

func (d *atlasPingDecoder) addr(field string, a *netip.Addr) {
	_ = scanAddrField(&d.s, &d.addrs, field, a)
}

// scanAddrField reads an address-valued field into *a: null or "" leaves it
// unset, a bad address fails the scan at its position.
func scanAddrField(s *jscan, c *addrCache, field string, a *netip.Addr) error {
	if s.isNull() {
		return nil
	}
	off := s.i
	b := s.str()
	if s.err != nil || len(b) == 0 {
		return s.err
	}
	v, err := c.parse(b)
	if err != nil {
		s.failAt(off, "%s %q: %v", field, b, err)
		return s.err
	}
	*a = v
	return nil
}

func (d *atlasPingDecoder) decode(val []byte) (*Trace, error) {
	s := &d.s
	s.reset(val)
	d.isTraceroute, d.isPing = false, false
	d.probes = d.probes[:0]
	t := &Trace{Format: FormatRIPEAtlasPing}
	var from, srcAddr, dst, dstNameAddr netip.Addr
	var dstName string
	var errs []string
	var sent, rcvd, minMs, avgMs, maxMs, topTTL float64
	var haveSent, haveRcvd, haveMin, haveAvg, haveMax, haveTopTTL, haveResult, hopShaped bool
	typ := ""
	if !s.enter('{') {
		return nil, s.err
	}
	first := true
	for s.more('}', &first) {
		switch k := string(s.key()); k {
		case "type":
			typ = string(s.str())
		case "dst_addr", "addr":
			d.addr(k, &dst)
		case "dst_name", "name":
			if s.isNull() {
				continue
			}
			b := s.str()
			if a, err := parseAddrBytes(b); err == nil {
				dstNameAddr = a
			} else if len(b) > 0 {
				dstName = string(b)
			}
		case "from":
			d.addr("from", &from)
		case "src_addr":
			d.addr("src_addr", &srcAddr)
		case "prb_id":
			if id, ok := d.pingNum("prb_id"); ok {
				t.Source.ProbeID = strconv.FormatInt(int64(id), 10)
			}
		case "proto":
			t.Protocol = lowerProto(s.str())
		case "timestamp":
			switch ts, _ := d.pingNum("timestamp"); {
			case ts > maxUnixSec:
				s.fail("timestamp %v out of range", ts)
			case ts > 0:
				t.Started = time.Unix(int64(ts), 0).UTC()
			}
		case "sent":
			sent, haveSent = d.pingNum("sent")
		case "rcvd":
			rcvd, haveRcvd = d.pingNum("rcvd")
		case "min":
			minMs, haveMin = d.pingNum("min")
		case "avg":
			avgMs, haveAvg = d.pingNum("avg")
		case "max":
			maxMs, haveMax = d.pingNum("max")
		case "ttl":
			topTTL, haveTopTTL = d.pingNum("ttl")
		case "result":
			haveResult = true
			if s.isNull() {
				continue
			}
			hopShaped = d.packets(&errs)
		case "error":
			if s.peek() == '"' {
				errs = append(errs, string(s.str()))
			} else {
				s.skip()
			}
		default: // fw, mver, lts, af, msm_id, msm_name, group_id, step, size, dup, stored_timestamp, ...
			s.skip()
		}
		if s.err != nil {
			break
		}
	}
	s.end()
	switch {
	case typ == "traceroute", typ == "" && hopShaped && !haveRcvd:
		d.isTraceroute = true
		return nil, errors.New("not a ping result")
	case typ != "" && typ != "ping":
		return nil, fmt.Errorf("not a ping or traceroute result (type %q)", typ)
	}
	if s.err != nil {
		return nil, s.err
	}
	if typ == "" && !haveRcvd && !haveSent && !haveResult {
		return nil, errors.New(`not a RIPE Atlas ping result (no "type", "sent", "rcvd" or "result")`)
	}
	d.isPing = true
	t.Source.Addr = from
	if !from.IsValid() {
		t.Source.Addr = srcAddr
	}
	if !dst.IsValid() {
		dst = dstNameAddr
	} else if dstNameAddr.IsValid() && dstNameAddr != dst {
		dstName = dstNameAddr.String()
	}
	t.Destination = Endpoint{Addr: dst, Name: dstName}
	if t.Protocol == "" {
		t.Protocol = "icmp"
	}
	t.Error = strings.Join(errs, "; ")
	if !dst.IsValid() {
		if t.Error == "" {
			return nil, errors.New("ping result without a destination address (dst_addr)")
		}
		return t, nil // a failed ping (DNS, sendto): the error is the record
	}
	h := Hop{TTL: 1}
	replyTTL := 0
	if haveTopTTL && topTTL > 0 && topTTL < 256 {
		replyTTL = int(topTTL)
	}
	for i := range d.probes {
		p := &d.probes[i]
		if p.Lost {
			continue
		}
		p.Addr = dst
		if p.ReplyTTL == 0 {
			p.ReplyTTL = replyTTL
		}
	}
	switch {
	case haveResult && len(d.probes) > 0:
		h.Probes = append([]Probe(nil), d.probes...)
	case haveRcvd && rcvd > 0 && haveMin && minMs >= 0:
		st := Stats{Addr: dst, MinMs: minMs}
		if haveSent && sent >= rcvd && sent > 0 {
			st.Sent = int(sent)
			st.LossPct = 100 * (sent - rcvd) / sent
		}
		if haveAvg && avgMs >= minMs {
			st.AvgMs = avgMs
		}
		if haveMax && maxMs >= minMs {
			st.MaxMs = maxMs
		}
		h.Stats = []Stats{st}
	default:
		n := 1
		if haveSent && sent > 1 && sent < 256 {
			n = int(sent)
		}
		for range n {
			h.Probes = append(h.Probes, Probe{Lost: true})
		}
	}
	maxReply := 0
	for _, p := range h.Probes {
		maxReply = max(maxReply, p.ReplyTTL)
	}
	if maxReply == 0 {
		maxReply = replyTTL
	}
	if maxReply > 0 {
		h.TTL = hopsAway(maxReply)
	}
	t.Hops = []Hop{h}
	return t, nil
}

// hopsAway estimates the hop distance of a host from the TTL its reply
// arrived with: it started at 64, 128 or 255 and lost one per router.
func hopsAway(replyTTL int) int {
	initial := 255
	switch {
	case replyTTL <= 64:
		initial = 64
	case replyTTL <= 128:
		initial = 128
	}
	return min(255, max(1, initial-replyTTL+1))
}

// packets reads the "result" array of a ping into d.probes. It reports
// whether an element looked like a traceroute hop ({"hop": n, ...}), for
// results without a "type".
func (d *atlasPingDecoder) packets(errs *[]string) (hopShaped bool) {
	s := &d.s
	if !s.enter('[') {
		return false
	}
	first := true
	for s.more(']', &first) {
		if !s.enter('{') {
			return hopShaped
		}
		var p Probe
		hasRTT, dup, failed := false, false, false
		pFirst := true
		for s.more('}', &pFirst) {
			switch string(s.key()) {
			case "rtt":
				if s.isNull() {
					continue
				}
				p.RTTMs = s.num()
				hasRTT = true
			case "ttl":
				if v, ok := d.pingNum("ttl"); ok && v > 0 && v < 256 {
					p.ReplyTTL = int(v)
				}
			case "dup":
				dup = s.boolish()
			case "error":
				failed = true
				if s.peek() == '"' {
					*errs = append(*errs, string(s.str()))
				} else {
					s.skip()
				}
			case "hop":
				hopShaped = true
				s.skip()
			default: // "x", "srcaddr", "result" (of a hop), ...
				s.skip()
			}
		}
		if s.err != nil {
			return hopShaped
		}
		if hopShaped {
			continue
		}
		if !hasRTT || failed || p.RTTMs < 0 {
			p = Probe{Lost: true}
		} else if dup {
			p.Flags = []string{"dup"}
		}
		d.probes = append(d.probes, p)
	}
	return hopShaped
}
