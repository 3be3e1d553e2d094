package traceroute

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// mtr --json. Two generations are in use: mtr 0.87-0.92 writes "count" as a
// string and the statistics with two decimals ("Loss%": 0.00); mtr 0.93 and
// later write "count" as a number, plain numbers, and with -z an "ASN":
// "AS15169" member ("AS???" when unknown). Both are
//
//	{"report":{"mtr":{"src":..,"dst":..,"tests":..,...},
//	           "hubs":[{"count":1,"host":"name or address","Loss%":..,"Snt":..,
//	                    "Last":..,"Avg":..,"Best":..,"Wrst":..,"StDev":..},...]}}
//
// Each hub becomes a Stats entry of the hop numbered by "count" (several
// hubs with one count become several entries): mtr reports aggregates, and
// the reader never invents single probes from them. "host" is an address, a
// name, "name (address)" (mtr -b), or "???" for a hop that never answered
// (kept as Stats without an address, so its sent count and 100 % loss stay).
//
// Some builds print a flat form instead (issue 13 item 5; the fixture
// README names the published output it follows):
//
//	{"src":..,"dst":..,"tos":..,"packetsize":..,"bitpattern":..,"packets":..,
//	 "hops":[{"hop":1,"ipaddr":"192.0.2.1","host":"name or unresolved",
//	          "asn":"AS64500","drop":..,"received":..,"geomean":..,"jitter":..,
//	          "losspercent":..,"sent":..,"last":..,"avg":..,"best":..,
//	          "worst":..,"stddev":..},...]}
//
// read the same way: "hop" numbers the hop, "ipaddr" is the address ("???"
// or empty: no answer), "host" the name ("unresolved", "???" or the
// address itself: none), "asn" the AS (with --aslookup). The jitter and
// geometric-mean columns have no place in Stats and are left out. Both
// forms are the format mtr-json; each record is read as the form it is.

func detectMtrJSON(head []byte) bool {
	f, ok := peekFirstObject(head)
	if !ok {
		return false
	}
	if f.has("report") && bytes.Contains(head, []byte(`"hubs"`)) {
		return true
	}
	// The flat form: "src"/"dst" and "hops" at the top, no key that names
	// another format (scamper's "type", the interchange's "format", RIPE
	// Atlas's "result"), and mtr's own: a hop's "ipaddr" or the run's
	// "bitpattern" (jc's traceroute JSON, also with "hops", has none).
	return f.has("hops") && f.has("src", "dst") && !f.has("type", "report", "format", "result") &&
		(f.has("bitpattern") || bytes.Contains(head, []byte(`"ipaddr"`)))
}

func parseMtrJSON(br *bufio.Reader, input string, yield func(*Trace, error) bool) {
	jsonRecordLoop(br, input, FormatMtrJSON, func(val []byte, _ int) (*Trace, error) { return decodeMtrJSON(val) }, yield)
}

// flexNum accepts a JSON number or a string holding one (mtr writes some
// numbers as strings, depending on the version).
type flexNum struct {
	v   float64
	set bool
}

func (n *flexNum) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("want a number, found %s", b)
	}
	n.v, n.set = v, true
	return nil
}

type mtrJSONDoc struct {
	// The flat form.
	Src     string            `json:"src"`
	Dst     string            `json:"dst"`
	Packets flexNum           `json:"packets"`
	Hops    *[]mtrJSONFlatHop `json:"hops"`

	Report *struct {
		Mtr struct {
			Src   string  `json:"src"`
			Dst   string  `json:"dst"`
			Tests flexNum `json:"tests"`
		} `json:"mtr"`
		Hubs []mtrJSONHub `json:"hubs"`
	} `json:"report"`
}

type mtrJSONHub struct {
	Count flexNum `json:"count"`
	Host  string  `json:"host"`
	ASN   string  `json:"ASN"`
	Loss  flexNum `json:"Loss%"`
	Snt   flexNum `json:"Snt"`
	Last  flexNum `json:"Last"`
	Avg   flexNum `json:"Avg"`
	Best  flexNum `json:"Best"`
	Wrst  flexNum `json:"Wrst"`
	StDev flexNum `json:"StDev"`
}

// mtrJSONFlatHop is a hop of the flat form.
type mtrJSONFlatHop struct {
	Hop      flexNum `json:"hop"`
	IPAddr   string  `json:"ipaddr"`
	Host     string  `json:"host"`
	ASN      string  `json:"asn"`
	Loss     flexNum `json:"losspercent"`
	Sent     flexNum `json:"sent"`
	Received flexNum `json:"received"`
	Last     flexNum `json:"last"`
	Avg      flexNum `json:"avg"`
	Best     flexNum `json:"best"`
	Worst    flexNum `json:"worst"`
	StdDev   flexNum `json:"stddev"`
}

func decodeMtrJSON(val []byte) (*Trace, error) {
	var doc mtrJSONDoc
	if err := json.Unmarshal(val, &doc); err != nil {
		return nil, jsonErr(err)
	}
	if doc.Report == nil {
		if doc.Hops != nil {
			return decodeMtrJSONFlat(&doc)
		}
		return nil, errors.New(`mtr JSON without a "report" object or a "hops" array`)
	}
	rep := doc.Report
	t := &Trace{Format: FormatMtrJSON}
	setEndpoint(&t.Source, rep.Mtr.Src)
	setEndpoint(&t.Destination, rep.Mtr.Dst)
	var hopAt = map[int]int{} // ttl → index in t.Hops
	for i, h := range rep.Hubs {
		if !h.Count.set || h.Count.v < 1 || h.Count.v > 255 || h.Count.v != math.Trunc(h.Count.v) {
			return nil, fmt.Errorf("hubs[%d]: bad hop number %v", i, h.Count.v)
		}
		ttl := int(h.Count.v)
		s := Stats{LossPct: h.Loss.v, LastMs: h.Last.v, MinMs: h.Best.v, AvgMs: h.Avg.v, MaxMs: h.Wrst.v, StdevMs: h.StDev.v}
		if h.Snt.set {
			s.Sent = int(h.Snt.v)
		} else if rep.Mtr.Tests.set && rep.Mtr.Tests.v >= 0 && rep.Mtr.Tests.v <= 1e9 {
			s.Sent = int(rep.Mtr.Tests.v)
		}
		s.Addr, s.Name = splitHost(h.Host)
		if asn, ok := parseASN(h.ASN); ok {
			s.ASN = asn
		}
		if s.LossPct < 0 || s.LossPct > 100 || (h.Snt.set && (h.Snt.v < 0 || h.Snt.v > 1e9)) {
			return nil, fmt.Errorf("hubs[%d]: loss %v%% of %v sent is impossible", i, s.LossPct, h.Snt.v)
		}
		for _, v := range []float64{s.LastMs, s.MinMs, s.AvgMs, s.MaxMs, s.StdevMs} {
			if v < 0 {
				return nil, fmt.Errorf("hubs[%d]: negative time %v ms", i, v)
			}
		}
		j, ok := hopAt[ttl]
		if !ok {
			j = len(t.Hops)
			hopAt[ttl] = j
			t.Hops = append(t.Hops, Hop{TTL: ttl})
		}
		t.Hops[j].Stats = append(t.Hops[j].Stats, s)
	}
	return t, nil
}

// decodeMtrJSONFlat reads the flat form (see above).
func decodeMtrJSONFlat(doc *mtrJSONDoc) (*Trace, error) {
	t := &Trace{Format: FormatMtrJSON}
	setEndpoint(&t.Source, doc.Src)
	setEndpoint(&t.Destination, doc.Dst)
	hopAt := map[int]int{} // ttl → index in t.Hops
	for i, h := range *doc.Hops {
		if !h.Hop.set || h.Hop.v < 1 || h.Hop.v > 255 || h.Hop.v != math.Trunc(h.Hop.v) {
			return nil, fmt.Errorf("hops[%d]: bad hop number %v", i, h.Hop.v)
		}
		ttl := int(h.Hop.v)
		for _, n := range []flexNum{h.Sent, h.Received, doc.Packets} {
			if n.set && (n.v < 0 || n.v > 1e9) {
				return nil, fmt.Errorf("hops[%d]: impossible packet count %v", i, n.v)
			}
		}
		s := Stats{LastMs: h.Last.v, MinMs: h.Best.v, AvgMs: h.Avg.v, MaxMs: h.Worst.v, StdevMs: h.StdDev.v}
		switch {
		case h.Sent.set:
			s.Sent = int(h.Sent.v)
		case doc.Packets.set:
			s.Sent = int(doc.Packets.v)
		}
		switch {
		case h.Loss.set:
			s.LossPct = h.Loss.v
		case h.Received.set && s.Sent > 0 && h.Received.v <= float64(s.Sent):
			s.LossPct = 100 * float64(s.Sent-int(h.Received.v)) / float64(s.Sent)
		}
		if s.LossPct < 0 || s.LossPct > 100 {
			return nil, fmt.Errorf("hops[%d]: loss %v%% is impossible", i, s.LossPct)
		}
		for _, v := range []float64{s.LastMs, s.MinMs, s.AvgMs, s.MaxMs, s.StdevMs} {
			if v < 0 {
				return nil, fmt.Errorf("hops[%d]: negative time %v ms", i, v)
			}
		}
		s.Addr, s.Name = splitHost(h.IPAddr)
		if s.Name != "" {
			return nil, fmt.Errorf("hops[%d]: ipaddr %q is no address", i, h.IPAddr)
		}
		addr, name := splitHost(h.Host)
		switch {
		case name == "unresolved":
		case addr.IsValid() && !s.Addr.IsValid():
			s.Addr, s.Name = addr, name // no ipaddr: the host column has it
		case addr.IsValid() && addr != s.Addr:
			return nil, fmt.Errorf("hops[%d]: host %q and ipaddr %q disagree", i, h.Host, h.IPAddr)
		default:
			s.Name = name
		}
		if asn, ok := parseASN(h.ASN); ok {
			s.ASN = asn
		}
		j, ok := hopAt[ttl]
		if !ok {
			j = len(t.Hops)
			hopAt[ttl] = j
			t.Hops = append(t.Hops, Hop{TTL: ttl})
		}
		t.Hops[j].Stats = append(t.Hops[j].Stats, s)
	}
	return t, nil
}

// setEndpoint fills an endpoint from a host string that may be an address,
// a name, or "name (address)".
func setEndpoint(e *Endpoint, host string) {
	e.Addr, e.Name = splitHost(host)
}

// splitHost splits mtr's host column: "192.0.2.1", "name", "name (192.0.2.1)";
// "???" and "" mean no answer.
func splitHost(host string) (netip.Addr, string) {
	host = strings.TrimSpace(host)
	if host == "" || host == "???" {
		return netip.Addr{}, ""
	}
	if a, err := parseAddrBytes([]byte(host)); err == nil {
		return a, ""
	}
	if i := strings.LastIndexByte(host, '('); i > 0 && strings.HasSuffix(host, ")") {
		if a, err := parseAddrBytes([]byte(host[i+1 : len(host)-1])); err == nil {
			return a, strings.TrimSpace(host[:i])
		}
	}
	return netip.Addr{}, host
}

// parseASN reads "AS15169", "15169"; "AS???" and "" are unknown.
func parseASN(s string) (uint32, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "AS"), "as")
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return 0, false
	}
	return uint32(n), true
}
