package traceroute

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// scamper JSON (sc_warts2json, and M-Lab's traceroute-caller files, which
// wrap it as JSON Lines: a metadata line {"UUID":...}, then cycle-start, one
// trace or tracelb record, cycle-stop; or a single object with the keys
// Metadata, CycleStart, Trace/Tracelb, CycleStop).
//
// What we accept, compared with M-Lab's own parser: M-Lab rejects a file
// unless it has exactly those four lines and a non-empty UUID. We read any
// number of records in any order (files are often concatenated), ignore
// blank lines and the M-Lab metadata contents, and report each bad record
// (malformed JSON, a field of the wrong type, an unknown record type) as an
// error naming its line, going on with the next. Records that are valid
// scamper output but not traceroutes (ping, dealias, ...) are skipped.
//
// A "trace" becomes one hop per probe TTL from firsthop to hop_count (TTLs
// without replies are hops without probes: scamper lists only replies). A
// "tracelb" (Paris/MDA traceroute) becomes hops by probe TTL, each link's
// far node answering at the TTL of the probes sent along it, so ECMP branches
// show as several addresses in one hop; probes without a reply are lost. The
// replies that discovered the first node are not in tracelb output, so that
// node appears at firsthop as a Stats entry with no times. IPv4-mapped IPv6
// addresses ("::ffff:192.0.2.1") are unmapped; anonymised addresses ("*",
// "") leave Addr unset on a probe that still carries its RTT.

func detectScamper(head []byte) bool {
	f, ok := peekFirstObject(head)
	if !ok {
		return false
	}
	if f.has("UUID") && (f.has("TracerouteCallerVersion", "CachedResult") || bytes.Contains(head, []byte(`"TracerouteCallerVersion"`))) {
		return true
	}
	if f.has("Metadata") && f.has("CycleStart", "Trace", "Tracelb") {
		return true
	}
	switch f.typ {
	case "cycle-start", "cycle-def", "cycle-stop", "list", "trace", "tracelb":
		return !f.has("result", "prb_id")
	}
	return false
}

func parseScamper(br *bufio.Reader, input string, yield func(*Trace, error) bool) {
	jsonRecordLoop(br, input, FormatScamperJSON, func(val []byte, _ int) (*Trace, error) { return decodeScamper(val) }, yield)
}

// scamperEnvelope holds what dispatching a record needs.
type scamperEnvelope struct {
	Type string  `json:"type"`
	UUID *string `json:"UUID"`
	// M-Lab's single-object form.
	Metadata   json.RawMessage `json:"Metadata"`
	CycleStart json.RawMessage `json:"CycleStart"`
	Trace      json.RawMessage `json:"Trace"`
	Tracelb    json.RawMessage `json:"Tracelb"`
	CycleStop  json.RawMessage `json:"CycleStop"`
}

type scamperTypeOnly struct {
	Type string `json:"type"`
}

func decodeScamper(val []byte) (*Trace, error) {
	var env scamperEnvelope
	if err := json.Unmarshal(val, &env); err != nil {
		return nil, jsonErr(err)
	}
	if env.Metadata != nil || env.Trace != nil || env.Tracelb != nil {
		return decodeScamperObject(&env)
	}
	switch env.Type {
	case "":
		if env.UUID != nil {
			return nil, nil // M-Lab metadata line
		}
		return nil, errors.New(`scamper record without a "type"`)
	case "cycle-start", "cycle-stop", "cycle-def", "list":
		return nil, nil
	case "trace":
		return decodeScamperTrace(val)
	case "tracelb":
		return decodeScamperTracelb(val)
	case "ping", "dealias", "neighbourdisc", "tbit", "sting", "sniff", "host", "http", "udpprobe", "owamp":
		return nil, nil // valid scamper output, not a traceroute
	}
	return nil, fmt.Errorf("unknown scamper record type %q", env.Type)
}

func decodeScamperObject(env *scamperEnvelope) (*Trace, error) {
	for _, part := range []struct {
		name, want string
		raw        json.RawMessage
	}{{"CycleStart", "cycle-start", env.CycleStart}, {"CycleStop", "cycle-stop", env.CycleStop}} {
		if part.raw == nil {
			continue
		}
		var o scamperTypeOnly
		if err := json.Unmarshal(part.raw, &o); err != nil {
			return nil, fmt.Errorf("%s: %w", part.name, jsonErr(err))
		}
		if o.Type != part.want {
			return nil, fmt.Errorf("%s: type %q, want %q", part.name, o.Type, part.want)
		}
	}
	switch {
	case env.Trace != nil && !isJSONNull(env.Trace):
		return decodeScamperTrace(env.Trace)
	case env.Tracelb != nil && !isJSONNull(env.Tracelb):
		return decodeScamperTracelb(env.Tracelb)
	}
	return nil, errors.New("scamper object without a Trace or Tracelb")
}

func isJSONNull(b json.RawMessage) bool { return string(bytes.TrimSpace(b)) == "null" }

// jsonErr makes encoding/json errors name the field and the offending type
// without Go type names leaking more than necessary.
func jsonErr(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "value"
		}
		return &jsonPosError{Off: int(te.Offset), Msg: fmt.Sprintf("field %s: JSON %s where %s is expected", field, te.Value, jsonKind(te.Type.Kind().String()))}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &jsonPosError{Off: int(se.Offset), Msg: se.Error()}
	}
	return err
}

func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"):
		return "an integer"
	case strings.HasPrefix(k, "float"):
		return "a number"
	case k == "string":
		return "a string"
	case k == "slice", k == "array":
		return "an array"
	case k == "struct", k == "map":
		return "an object"
	case k == "bool":
		return "a boolean"
	}
	return k
}

type scamperTime struct {
	Sec  int64 `json:"sec"`
	Usec int64 `json:"usec"`
}

func (t scamperTime) time() (time.Time, error) {
	if t.Sec <= 0 {
		return time.Time{}, nil
	}
	if t.Sec > maxUnixSec || t.Usec < 0 || t.Usec >= 1e6 {
		return time.Time{}, fmt.Errorf("start time %d.%06d out of range", t.Sec, t.Usec)
	}
	return time.Unix(t.Sec, t.Usec*1000).UTC(), nil
}

type scamperMPLS struct {
	TTL   uint8  `json:"mpls_ttl"`
	S     int    `json:"mpls_s"`
	Exp   uint8  `json:"mpls_exp"`
	Label uint32 `json:"mpls_label"`
}

type scamperICMPExt struct {
	Class int           `json:"ie_cn"`
	Type  int           `json:"ie_ct"`
	MPLS  []scamperMPLS `json:"mpls_ext"`
}

// scamperHead is what trace and tracelb records share.
type scamperHead struct {
	Type     string      `json:"type"`
	Method   string      `json:"method"`
	Src      string      `json:"src"`
	Dst      string      `json:"dst"`
	Start    scamperTime `json:"start"`
	Firsthop int         `json:"firsthop"`
}

// trace checks the record type and starts the trace it describes.
func (r *scamperHead) trace(typ string) (*Trace, error) {
	if r.Type != typ {
		return nil, fmt.Errorf("%s record has type %q", typ, r.Type)
	}
	t := &Trace{Format: FormatScamperJSON, Protocol: scamperProtocol(r.Method)}
	if err := scamperEndpoints(t, r.Src, r.Dst); err != nil {
		return nil, err
	}
	var err error
	if t.Started, err = r.Start.time(); err != nil {
		return nil, err
	}
	return t, nil
}

type scamperTraceRec struct {
	scamperHead
	HopCount int               `json:"hop_count"`
	Hops     []scamperTraceHop `json:"hops"`
}

type scamperTraceHop struct {
	Addr     string           `json:"addr"`
	Name     string           `json:"name"`
	ProbeTTL int              `json:"probe_ttl"`
	RTT      *float64         `json:"rtt"`
	ReplyTTL int              `json:"reply_ttl"`
	ICMPType *int             `json:"icmp_type"`
	ICMPCode int              `json:"icmp_code"`
	ICMPExt  []scamperICMPExt `json:"icmpext"`
}

func scamperProtocol(method string) string {
	switch {
	case strings.HasPrefix(method, "icmp"):
		return "icmp"
	case strings.HasPrefix(method, "udp"):
		return "udp"
	case strings.HasPrefix(method, "tcp"):
		return "tcp"
	}
	return ""
}

// scamperAddr parses an address field; anonymised or missing addresses ("*",
// "") are the zero Addr.
func scamperAddr(s, what string) (netip.Addr, error) {
	if s == "" || s == "*" {
		return netip.Addr{}, nil
	}
	a, err := parseAddrBytes([]byte(s))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%s %q: %w", what, s, err)
	}
	return a, nil
}

func scamperEndpoints(t *Trace, src, dst string) error {
	if dst == "" {
		return errors.New(`record without a destination ("dst")`)
	}
	var err error
	if t.Source.Addr, err = scamperAddr(src, "src"); err != nil {
		return err
	}
	if t.Destination.Addr, err = scamperAddr(dst, "dst"); err != nil {
		return err
	}
	return nil
}

func decodeScamperTrace(val []byte) (*Trace, error) {
	var r scamperTraceRec
	if err := json.Unmarshal(val, &r); err != nil {
		return nil, fmt.Errorf("trace: %w", jsonErr(err))
	}
	t, err := r.trace("trace")
	if err != nil {
		return nil, err
	}
	first := max(r.Firsthop, 1)
	last := r.HopCount
	for i, h := range r.Hops {
		if h.ProbeTTL < 1 || h.ProbeTTL > 255 {
			return nil, fmt.Errorf("hops[%d]: probe_ttl %d out of range 1..255", i, h.ProbeTTL)
		}
		first = min(first, h.ProbeTTL)
		last = max(last, h.ProbeTTL)
	}
	if last > 255 {
		return nil, fmt.Errorf("hop_count %d out of range", last)
	}
	if last >= first {
		t.Hops = make([]Hop, last-first+1)
		for i := range t.Hops {
			t.Hops[i].TTL = first + i
		}
	}
	v6 := t.Destination.Addr.Is6()
	for i, h := range r.Hops {
		addr, err := scamperAddr(h.Addr, fmt.Sprintf("hops[%d].addr", i))
		if err != nil {
			return nil, err
		}
		if addr.IsValid() {
			v6 = addr.Is6()
		}
		p := Probe{Addr: addr, Name: h.Name, ReplyTTL: h.ReplyTTL}
		if h.RTT == nil || *h.RTT < 0 {
			p.Lost = true
		} else {
			p.RTTMs = *h.RTT
		}
		if h.ICMPType != nil {
			if f := icmpUnreachFlag(v6, *h.ICMPType, h.ICMPCode); f != "" {
				p.Flags = []string{f}
			}
		}
		p.MPLS = scamperLabels(h.ICMPExt)
		hop := &t.Hops[h.ProbeTTL-first]
		hop.Probes = append(hop.Probes, p)
	}
	return t, nil
}

func scamperLabels(exts []scamperICMPExt) []MPLSLabel {
	var out []MPLSLabel
	for _, e := range exts {
		if e.Class != 1 || e.Type != 1 {
			continue
		}
		for _, m := range e.MPLS {
			out = append(out, MPLSLabel{Label: m.Label & (1<<20 - 1), TC: m.Exp & 7, S: m.S != 0, TTL: m.TTL})
		}
	}
	return out
}

// icmpUnreachFlag returns the traceroute annotation for an ICMP destination
// unreachable reply (type 3 in IPv4, type 1 in IPv6), or "" for other
// messages and for port unreachable, which is the normal answer of the
// destination to a UDP probe.
func icmpUnreachFlag(v6 bool, typ, code int) string {
	if !v6 && typ == 3 {
		switch code {
		case 0, 6, 11:
			return "!N"
		case 1, 7, 12:
			return "!H"
		case 2:
			return "!P"
		case 3:
			return ""
		case 4:
			return "!F"
		case 5:
			return "!S"
		case 9, 10, 13:
			return "!X"
		case 14:
			return "!V"
		case 15:
			return "!C"
		}
		return fmt.Sprintf("!%d", code)
	}
	if v6 && typ == 1 {
		switch code {
		case 0:
			return "!N"
		case 1:
			return "!X"
		case 2:
			return "!S"
		case 3:
			return "!H"
		case 4:
			return ""
		}
		return fmt.Sprintf("!%d", code)
	}
	return ""
}

type scamperTracelbRec struct {
	scamperHead
	Nodes []scamperNode `json:"nodes"`
}

type scamperNode struct {
	Addr  string          `json:"addr"`
	Name  string          `json:"name"`
	Links [][]scamperLink `json:"links"`
}

type scamperLink struct {
	Addr   string           `json:"addr"`
	Probes []scamperLBProbe `json:"probes"`
}

type scamperLBProbe struct {
	TTL     int              `json:"ttl"`
	Replies []scamperLBReply `json:"replies"`
}

type scamperLBReply struct {
	TTL      int              `json:"ttl"`
	RTT      float64          `json:"rtt"`
	ICMPType int              `json:"icmp_type"`
	ICMPCode int              `json:"icmp_code"`
	ICMPExt  []scamperICMPExt `json:"icmpext"`
}

func decodeScamperTracelb(val []byte) (*Trace, error) {
	var r scamperTracelbRec
	if err := json.Unmarshal(val, &r); err != nil {
		return nil, fmt.Errorf("tracelb: %w", jsonErr(err))
	}
	t, err := r.trace("tracelb")
	if err != nil {
		return nil, err
	}
	v6 := t.Destination.Addr.Is6()
	names := map[netip.Addr]string{}
	for i, n := range r.Nodes {
		a, err := scamperAddr(n.Addr, fmt.Sprintf("nodes[%d].addr", i))
		if err != nil {
			return nil, err
		}
		if a.IsValid() && n.Name != "" {
			names[a] = n.Name
		}
	}
	byTTL := map[int]*Hop{}
	hop := func(ttl int) *Hop {
		h := byTTL[ttl]
		if h == nil {
			h = &Hop{TTL: ttl}
			byTTL[ttl] = h
		}
		return h
	}
	answered := map[netip.Addr]bool{}
	for i, n := range r.Nodes {
		for j, seq := range n.Links {
			for k, l := range seq {
				where := fmt.Sprintf("nodes[%d].links[%d][%d]", i, j, k)
				a, err := scamperAddr(l.Addr, where+".addr")
				if err != nil {
					return nil, err
				}
				for _, pr := range l.Probes {
					if pr.TTL < 1 || pr.TTL > 255 {
						return nil, fmt.Errorf("%s: probe ttl %d out of range 1..255", where, pr.TTL)
					}
					h := hop(pr.TTL)
					if len(pr.Replies) == 0 {
						h.Probes = append(h.Probes, Probe{Lost: true})
						continue
					}
					for _, rep := range pr.Replies {
						p := Probe{Addr: a, Name: names[a], RTTMs: rep.RTT, ReplyTTL: rep.TTL, MPLS: scamperLabels(rep.ICMPExt)}
						if rep.RTT < 0 {
							p.Lost, p.RTTMs = true, 0
						}
						if f := icmpUnreachFlag(v6, rep.ICMPType, rep.ICMPCode); f != "" {
							p.Flags = []string{f}
						}
						h.Probes = append(h.Probes, p)
						if a.IsValid() {
							answered[a] = true
						}
					}
				}
			}
		}
	}
	if len(r.Nodes) > 0 {
		a, _ := scamperAddr(r.Nodes[0].Addr, "")
		if a.IsValid() && !answered[a] {
			first := max(r.Firsthop, 1)
			h := hop(first)
			h.Stats = append(h.Stats, Stats{Addr: a, Name: r.Nodes[0].Name})
		}
	}
	// One hop per TTL from firsthop to the last answered one, as for trace:
	// a TTL whose probes all went unanswered has no entries at all.
	if len(byTTL) > 0 {
		first, last := max(r.Firsthop, 1), 0
		for ttl := range byTTL {
			first, last = min(first, ttl), max(last, ttl)
		}
		for ttl := first; ttl <= last; ttl++ {
			if h := byTTL[ttl]; h != nil {
				t.Hops = append(t.Hops, *h)
			} else {
				t.Hops = append(t.Hops, Hop{TTL: ttl})
			}
		}
	}
	return t, nil
}
