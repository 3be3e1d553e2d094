package traceroute

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Windows pathping lists the route as tracert does, but from hop 0 (the
// source host) and without times; then, after "Computing statistics for N
// seconds...", a table of what 100 pings to each hop found:
//
//	            Source to Here   This Node/Link
//	Hop  RTT    Lost/Sent = Pct  Lost/Sent = Pct  Address
//	  0                                           pc.example [192.0.2.10]
//	                                0/ 100 =  0%   |
//	  1    1ms     0/ 100 =  0%     0/ 100 =  0%  gw.example [192.0.2.1]
//	  2  ---     100/ 100 =100%   100/ 100 =100%  198.51.100.9
//
// Each table row becomes one Stats aggregate: RTT (the average, whole
// milliseconds; "0ms" is stored as TracertSubMsRTTMs) as AvgMs, and "Source
// to Here" as Sent and LossPct. Hop 0 is the trace's source. The link rows
// ("|") measure links, not routers, and are not kept. An output cut off
// before the table keeps the listed hops without times.

var (
	pathpingStatRe = regexp.MustCompile(`^\s*(\d{1,3})\s+(?:(\d+)ms|---)\s+(\d+)/\s*(\d+)\s*=\s*\d+%\s+\d+/\s*\d+\s*=\s*\d+%\s+(\S.*)$`)
	pathpingLinkRe = regexp.MustCompile(`^\d+/\s*\d+\s*=\s*\d+%\s+\|$`)
	pathpingZeroRe = regexp.MustCompile(`(?m)^\s{0,3}0\s{2}\S`)
)

// detectPathping: tracert's header, then a route that starts at hop 0, or
// the statistics table's header.
func detectPathping(head []byte) bool {
	s := string(head)
	if strings.Contains(s, "Lost/Sent = Pct") {
		return true
	}
	i := strings.Index(s, "Tracing route to ")
	return i >= 0 && pathpingZeroRe.MatchString(s[i:])
}

func parsePathping(r *bufio.Reader, input string, yield func(*Trace, error) bool) {
	b := newTraceBuilder(r, "pathping", input, yield)
	b.protocol = "icmp"
	p := &pathpingParser{b: b}
	b.each(p.line)
	b.finish()
}

type pathpingParser struct {
	b       *traceBuilder
	stats   bool // past "Computing statistics"
	cleared bool // the listing was dropped for the table's first row
}

func (p *pathpingParser) line(line string) error {
	s := strings.TrimSpace(line)
	switch {
	case s == "", tracertDone[s], strings.HasPrefix(s, "over a maximum of"), isCommandEcho(s),
		strings.HasPrefix(s, "Source to Here"), strings.HasPrefix(s, "Hop  RTT"), pathpingLinkRe.MatchString(s):
		return nil
	}
	if m := tracertHeaderRe.FindStringSubmatch(s); m != nil {
		t := p.b.newTrace()
		p.stats, p.cleared = false, false
		setDestination(t, m[1], m[2])
		return nil
	}
	if strings.HasPrefix(strings.ToLower(s), "computing statistics for") {
		p.stats, p.cleared = true, false
		return nil
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		// A long name pushed the address to a line of its own.
		return p.wrappedAddr(s[1 : len(s)-1])
	}
	if m := pathpingStatRe.FindStringSubmatch(line); m != nil {
		ttl, ok := parseTTL(m[1])
		if !ok {
			return badTTL(m[1])
		}
		lost, _ := strconv.Atoi(m[3])
		sent, _ := strconv.Atoi(m[4])
		st := pathpingHost(m[5])
		if sent > 0 {
			st.Sent = sent
			st.LossPct = 100 * float64(min(lost, sent)) / float64(sent)
		}
		if m[2] != "" {
			ms, _ := strconv.ParseFloat(m[2], 64)
			st.AvgMs = max(ms, TracertSubMsRTTMs)
		}
		if !p.cleared {
			// The table is what counts: it replaces the listing.
			t := p.b.trace()
			t.Hops = t.Hops[:0]
			p.b.cur = -1
			p.cleared = true
		}
		h := p.b.hop(ttl)
		h.Stats = append(h.Stats, st)
		return nil
	}
	toks := strings.Fields(s)
	if toks[0] == "0" && len(toks) > 1 {
		st := pathpingHost(strings.Join(toks[1:], " "))
		t := p.b.trace()
		t.Source.Addr, t.Source.Name = st.Addr, st.Name
		return nil
	}
	ttl, ok := parseTTL(toks[0])
	if !ok {
		return badTTL(toks[0])
	}
	if p.cleared {
		return errUnexpected(s)
	}
	h := p.b.hop(ttl)
	if len(toks) > 1 && toks[1] == "*" {
		// No reply while listing the route.
		h.Probes = append(h.Probes, Probe{Lost: true})
		return nil
	}
	if len(toks) < 2 {
		return errUnexpected(s)
	}
	h.Stats = append(h.Stats, pathpingHost(strings.Join(toks[1:], " ")))
	return nil
}

// wrappedAddr gives the last host read (a hop's or the source's) the
// address printed on the line after it.
func (p *pathpingParser) wrappedAddr(addr string) error {
	a, ok := parseHostAddr(addr)
	if !ok {
		return errUnexpected("[" + addr + "]")
	}
	if h := p.b.curHop(); h != nil && len(h.Stats) > 0 && !h.Stats[len(h.Stats)-1].Addr.IsValid() {
		h.Stats[len(h.Stats)-1].Addr = a
		return nil
	}
	if t := p.b.trace(); !t.Source.Addr.IsValid() && t.Source.Name != "" {
		t.Source.Addr = a
		return nil
	}
	return errUnexpected("[" + addr + "]")
}

// pathpingHost reads "name [addr]" or a bare address or name.
func pathpingHost(s string) Stats {
	var r responder
	name, inner, hasInner := strings.TrimSpace(s), "", false
	if i := strings.LastIndexByte(name, '['); i > 0 && strings.HasSuffix(name, "]") {
		name, inner, hasInner = strings.TrimSpace(name[:i]), name[i+1:len(name)-1], true
	}
	r.setHost(name, inner, hasInner)
	return Stats{Addr: r.addr, Name: r.name}
}

func errUnexpected(s string) error { return fmt.Errorf("unexpected line %q", clip(s)) }
