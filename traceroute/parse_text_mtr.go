package traceroute

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// mtr prints aggregates per hop (and per address where it shows several),
// never single probes; they go to Hop.Stats. Only --raw prints probes.
//
// --report / --report-wide (and Junos "traceroute monitor ... summary"):
//
//	Start: 2021-02-07T13:51:06+0100
//	HOST: localhost                   Loss%   Snt   Last   Avg  Best  Wrst StDev
//	  1.|-- 192.168.1.254              0.0%     2    3.8   6.4   3.8   9.1   3.7
//	  2. AS15169  dns.google (8.8.8.8)  0.0%  ...    (-z, -b)
//	    |  `|-- 10.0.0.2                              (another address of hop 2)
//	       [MPLS: Lbl 21 TC 0 S 1 TTL 1]              (-e)
//	 10.|-- ???                        100.0    10    0.0   0.0   0.0   0.0   0.0
//
// The interactive screen as pasted ("My traceroute [v0.93]", "Keys: ...",
// " Host  Loss% ..." then rows "1. host ..."; extra addresses of a hop on
// lines of their own, "2. ???" and "5. (waiting for reply)" without
// figures). The figures of a row are the hop's; the extra addresses get a
// Stats entry with no figures rather than copies of them.

var (
	mtrRowRe    = regexp.MustCompile(`^\s*(\d{1,3})\.(?:\|--)?\s+(\S.*)$`)
	mtrHeadRe   = regexp.MustCompile(`^(?:HOST: (\S*)\s+|Host\s+)(Loss%.*)$`)
	mtrSourceRe = regexp.MustCompile(`^(\S+) \(([^)]*)\)\s+(\S.*)$`)
	mtrMPLSRe   = regexp.MustCompile(`^\[MPLS: Lbl (\d+) TC (\d+) S (\S+) TTL (\d+)\]$`)
	mtrDefault  = []string{"Loss%", "Snt", "Last", "Avg", "Best", "Wrst", "StDev"}
)

func mtrTextParser(name string) func(*bufio.Reader, string, func(*Trace, error) bool) {
	return func(r *bufio.Reader, input string, yield func(*Trace, error) bool) {
		p := mtrText{b: newTraceBuilder(r, name, input, yield), cols: mtrDefault}
		p.b.each(p.line)
		p.b.finish()
	}
}

type mtrText struct {
	b     *traceBuilder
	cols  []string
	fresh bool // a trace was started by a line before the column header
}

// startTrace begins a new trace unless the current one has no hops yet.
func (p *mtrText) startTrace() *Trace {
	if p.b.has() && len(p.b.trace().Hops) == 0 {
		return p.b.trace()
	}
	return p.b.newTrace()
}

func (p *mtrText) line(line string) error {
	s := strings.TrimSpace(line)
	switch {
	case s == "", strings.HasPrefix(s, "Keys:"), isCommandEcho(s),
		strings.Fields(s)[0] == "Packets" && strings.HasSuffix(s, "Pings"):
		return nil
	case strings.HasPrefix(s, "My traceroute"):
		p.startTrace()
		p.fresh = true
		return nil
	case strings.HasPrefix(s, "Start:"):
		t := p.startTrace()
		p.fresh = true
		if ts, ok := parseMTRTime(strings.TrimSpace(strings.TrimPrefix(s, "Start:"))); ok {
			t.Started = ts
		}
		return nil
	}
	if m := mtrHeadRe.FindStringSubmatch(s); m != nil {
		t := p.b.trace()
		if !p.fresh {
			t = p.startTrace()
		}
		p.fresh = false
		if m[1] != "" {
			t.Source.Name = m[1]
		}
		p.cols = strings.Fields(m[2])
		return nil
	}
	if m := mtrRowRe.FindStringSubmatch(s); m != nil {
		ttl, ok := parseTTL(m[1])
		if !ok {
			return badTTL(m[1])
		}
		p.fresh = false
		if err := p.row(p.b.hop(ttl), strings.Fields(m[2])); err != nil {
			p.b.dropCurIfEmpty()
			return err
		}
		return nil
	}
	if m := mtrMPLSRe.FindStringSubmatch(s); m != nil {
		h := p.b.curHop()
		if h == nil || len(h.Stats) == 0 {
			return fmt.Errorf("MPLS labels before any host")
		}
		sbit := m[3]
		if sbit != "0" && sbit != "1" {
			sbit = "0" // old mtr printed "S u"
		}
		l, err := mplsEntry(m[1], m[2], sbit, m[4])
		if err != nil {
			return err
		}
		st := &h.Stats[len(h.Stats)-1]
		st.MPLS = append(st.MPLS, l)
		return nil
	}
	if line[0] == ' ' || line[0] == '\t' || line[0] == '|' {
		// Another address of the current hop.
		h := p.b.curHop()
		host := strings.TrimLeft(s, "|` -")
		f := strings.Fields(host)
		if h == nil || len(f) == 0 || len(f) > 2 || !plausibleHost(f[0]) {
			return fmt.Errorf("unexpected line %q", clip(s))
		}
		var r responder
		if len(f) == 2 && strings.HasPrefix(f[1], "(") && strings.HasSuffix(f[1], ")") {
			r.setHost(f[0], f[1][1:len(f[1])-1], true)
		} else if len(f) == 1 {
			r.setHost(f[0], "", false)
		} else {
			return fmt.Errorf("unexpected line %q", clip(s))
		}
		h.Stats = append(h.Stats, Stats{Addr: r.addr, Name: r.name})
		return nil
	}
	if m := mtrSourceRe.FindStringSubmatch(s); m != nil && (!p.b.has() || len(p.b.trace().Hops) == 0) {
		t := p.startTrace()
		p.fresh = true
		var r responder
		r.setHost(m[1], m[2], true)
		t.Source.Name = r.name
		if r.addr.IsValid() && !r.addr.IsUnspecified() {
			t.Source.Addr = r.addr
		}
		if ts, ok := parseMTRTime(m[3]); ok {
			t.Started = ts
		}
		return nil
	}
	return fmt.Errorf("unexpected line %q", clip(s))
}

// row reads the fields after "N." of a report or screen row.
func (p *mtrText) row(h *Hop, f []string) error {
	if strings.Join(f, " ") == "(waiting for reply)" {
		return nil
	}
	var st Stats
	nvals := 0
	if len(f) > len(p.cols) {
		nvals = len(p.cols)
	}
	if len(f) == 1 || len(f) == 2 && strings.HasPrefix(f[0], "AS") {
		nvals = 0 // screen rows without figures
	}
	hostPart := f[:len(f)-nvals]
	if nvals > 0 {
		if err := p.values(&st, f[len(f)-nvals:]); err != nil {
			return err
		}
	}
	if len(hostPart) > 0 && strings.HasPrefix(hostPart[0], "AS") && len(hostPart) > 1 {
		asn, ok := textASN(hostPart[0])
		if !ok {
			return fmt.Errorf("bad AS number %q", hostPart[0])
		}
		st.ASN = asn
		hostPart = hostPart[1:]
	}
	switch {
	case len(hostPart) == 1 && hostPart[0] == "???":
	case len(hostPart) == 1 && plausibleHost(hostPart[0]):
		var r responder
		r.setHost(hostPart[0], "", false)
		st.Addr, st.Name = r.addr, r.name
	case len(hostPart) == 2 && plausibleHost(hostPart[0]) && strings.HasPrefix(hostPart[1], "(") && strings.HasSuffix(hostPart[1], ")"):
		var r responder
		r.setHost(hostPart[0], hostPart[1][1:len(hostPart[1])-1], true)
		st.Addr, st.Name = r.addr, r.name
	default:
		return fmt.Errorf("unexpected host %q", clip(strings.Join(hostPart, " ")))
	}
	if nvals == 0 && !st.Addr.IsValid() && st.Name == "" {
		return nil // "???" without figures: nothing known
	}
	h.Stats = append(h.Stats, st)
	return nil
}

// values fills st from the figure columns named by p.cols.
func (p *mtrText) values(st *Stats, vals []string) error {
	for i, col := range p.cols {
		v := vals[i]
		switch col {
		case "Loss%":
			x, ok := parseMs(strings.TrimSuffix(v, "%"))
			if !ok || x > 100 {
				return fmt.Errorf("bad loss %q", v)
			}
			st.LossPct = x
		case "Snt":
			n, ok := parseUint(v, 31)
			if !ok {
				return fmt.Errorf("bad sent count %q", v)
			}
			st.Sent = int(n)
		case "Last", "Avg", "Best", "Wrst", "StDev":
			x, ok := parseMs(v)
			if !ok {
				return fmt.Errorf("bad %s %q", col, v)
			}
			switch col {
			case "Last":
				st.LastMs = x
			case "Avg":
				st.AvgMs = x
			case "Best":
				st.MinMs = x
			case "Wrst":
				st.MaxMs = x
			case "StDev":
				st.StdevMs = x
			}
		}
	}
	return nil
}

// parseMTRTime reads the times mtr prints: ISO 8601 ("2021-02-07T13:51:06+0100")
// and ctime ("Mon Mar  1 13:50:36 2021", local time of an unknown zone, read
// as UTC). The result is in UTC, as every parser's Started: time.Parse
// would otherwise return time.Local for an offset that matches the
// machine's zone, and the interchange keeps only the instant. A time past
// year 9999 in UTC, which JSON cannot write, is not kept.
func parseMTRTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05-0700", time.RFC3339, time.ANSIC} {
		if t, err := time.Parse(layout, s); err == nil {
			if u := t.UTC(); u.Unix() > 0 && u.Unix() <= maxUnixSec {
				return u, true
			}
			break
		}
	}
	return time.Time{}, false
}

func detectMTRReport(head []byte) bool {
	lines := headLines(head, 3)
	for _, l := range lines {
		s := strings.TrimSpace(l)
		if strings.HasPrefix(s, "HOST: ") && strings.Contains(s, "Loss%") {
			return true
		}
	}
	return len(lines) > 1 && strings.HasPrefix(lines[0], "Start: ") && strings.Contains(lines[1], "Loss%")
}

func detectMTRScreen(head []byte) bool {
	lines := headLines(head, 8)
	for _, l := range lines {
		s := strings.TrimSpace(l)
		if strings.HasPrefix(s, "My traceroute") || strings.HasPrefix(s, "Keys:  Help") || mtrHeadRe.MatchString(s) {
			return true
		}
	}
	return false
}

// ---- mtr --csv ----

// parseMTRCSV reads mtr --csv: a header naming the columns, then one row per
// hop ("MTR.0.95,1612703466,OK,dns.google,1,192.168.1.254,0.00,2,0,3.79,...").
// A repeated header, a new Start_Time or Host, or a hop number going back
// to 1 starts a new trace (files appended run after run).
func parseMTRCSV(r *bufio.Reader, input string, yield func(*Trace, error) bool) {
	b := newTraceBuilder(r, "mtr-csv", input, yield)
	cols := []string{"Mtr_Version", "Start_Time", "Status", "Host", "Hop", "Ip", "Loss%", "Snt", "", "Last", "Avg", "Best", "Wrst", "StDev"}
	var start, host string
	offset := 0
	for {
		line, ok := b.next()
		if !ok {
			break
		}
		s := strings.TrimSpace(line)
		if s == "" || isCommandEcho(s) {
			continue
		}
		f := strings.Split(s, ",")
		if f[0] == "Mtr_Version" {
			cols = f
			b.flush()
			b.good()
			continue
		}
		b.note(mtrCSVRow(b, cols, f, &start, &host, &offset))
	}
	b.finish()
}

func mtrCSVRow(b *traceBuilder, cols, f []string, start, host *string, offset *int) error {
	if len(f) < len(cols)-1 { // the header ends with a comma, rows do not
		return fmt.Errorf("%d fields, header has %d", len(f), len(cols))
	}
	if !strings.HasPrefix(f[0], "MTR") {
		return fmt.Errorf("unexpected line %q", clip(strings.Join(f, ",")))
	}
	var st Stats
	hop := -1
	var rowStart, rowHost string
	for i, col := range cols {
		if i >= len(f) {
			break
		}
		v := strings.TrimSpace(f[i])
		var ok bool
		switch col {
		case "Start_Time":
			rowStart, ok = v, true
		case "Host":
			rowHost, ok = v, true
		case "Hop":
			n, k := parseUint(v, 16)
			// Counted from 0 or 1: hop+offset is checked below.
			hop, ok = int(n), k
		case "Ip":
			ok = v != ""
			if v != "???" && ok {
				// "name", "addr", or with -b "name (addr)".
				var r responder
				if name, inner, found := strings.Cut(v, " ("); found && strings.HasSuffix(inner, ")") {
					r.setHost(name, strings.TrimSuffix(inner, ")"), true)
				} else {
					r.setHost(v, "", false)
				}
				st.Addr, st.Name = r.addr, r.name
			}
		case "Asn":
			st.ASN, ok = textASN(v)
		case "Loss%":
			st.LossPct, ok = parseMs(v)
			ok = ok && st.LossPct <= 100
		case "Snt":
			n, k := parseUint(v, 31)
			st.Sent, ok = int(n), k
		case "Last":
			st.LastMs, ok = parseMs(v)
		case "Avg":
			st.AvgMs, ok = parseMs(v)
		case "Best":
			st.MinMs, ok = parseMs(v)
		case "Wrst":
			st.MaxMs, ok = parseMs(v)
		case "StDev":
			st.StdevMs, ok = parseMs(v)
		default:
			ok = true
		}
		if !ok {
			return fmt.Errorf("bad %s %q", col, clip(v))
		}
	}
	if hop < 0 {
		return fmt.Errorf("no Hop column")
	}
	if !b.has() || rowStart != *start || rowHost != *host {
		t := b.newTrace()
		*start, *host, *offset = rowStart, rowHost, 0
		if secs, err := strconv.ParseInt(rowStart, 10, 64); err == nil && secs > 0 && secs <= maxUnixSec {
			t.Started = time.Unix(secs, 0).UTC()
		}
		setDestination(t, rowHost, "")
		if hop == 0 {
			*offset = 1 // hop numbers counted from 0
		}
	}
	if hop+*offset < 1 {
		return fmt.Errorf("hop number 0 in a trace counted from 1")
	}
	if hop+*offset > maxTTL {
		return fmt.Errorf("hop number %d out of range 1..%d", hop+*offset, maxTTL)
	}
	h := b.hop(hop + *offset)
	if st.Addr.IsValid() || st.Name != "" || st.Sent > 0 {
		h.Stats = append(h.Stats, st)
	}
	return nil
}

func detectMTRCSV(head []byte) bool {
	lines := headLines(head, 2)
	return len(lines) > 0 && (strings.HasPrefix(lines[0], "Mtr_Version,") || strings.HasPrefix(lines[0], "MTR.") && strings.Count(lines[0], ",") >= 8)
}

// ---- mtr --raw ----

// mtr --raw prints events: "x HOP SEQ" (probe sent), "h HOP ADDR" (address
// seen at a hop), "d HOP NAME" (its name), "p HOP USEC SEQ" (reply after USEC
// microseconds). HOP counts from 0. These are real probes: a sent probe
// without its reply is lost. mtr sends past the destination; trailing hops
// that only repeat the previous hop's address are dropped, as mtr's own
// displays do.
func parseMTRRaw(r *bufio.Reader, input string, yield func(*Trace, error) bool) {
	b := newTraceBuilder(r, "mtr-raw", input, yield)
	b.noSplit = true
	st := mtrRaw{b: b, seq: map[int]rawProbe{}, cur: map[int]responder{}}
	b.each(st.line)
	if b.has() {
		trimRepeatedTail(b.trace())
	}
	b.finish()
}

type mtrRaw struct {
	b   *traceBuilder
	seq map[int]rawProbe  // sequence number → probe awaiting its reply
	cur map[int]responder // TTL → address last seen there
}

// rawProbe locates a sent probe: hops may be inserted before its hop, but
// probes are only ever appended within a hop.
type rawProbe struct{ ttl, idx int }

func (m *mtrRaw) line(line string) error {
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil
	}
	if len(f) < 3 || len(f[0]) != 1 {
		return fmt.Errorf("unexpected line %q", clip(line))
	}
	idx, ok := parseUint(f[1], 16)
	if !ok {
		return fmt.Errorf("bad hop index %q", clip(f[1]))
	}
	if idx >= maxTTL {
		return fmt.Errorf("hop index %d out of range 0..%d", idx, maxTTL-1)
	}
	ttl := int(idx) + 1
	m.b.trace()
	switch f[0] {
	case "x":
		seq, ok := parseUint(f[2], 31)
		if !ok {
			return fmt.Errorf("bad sequence number %q", f[2])
		}
		if len(m.seq) > 1<<16 {
			return fmt.Errorf("too many probes without reply")
		}
		h := m.b.hop(ttl)
		m.seq[int(seq)] = rawProbe{ttl: ttl, idx: len(h.Probes)}
		h.Probes = append(h.Probes, Probe{Lost: true})
	case "h":
		a, ok := parseHostAddr(f[2])
		if !ok {
			return fmt.Errorf("bad address %q", clip(f[2]))
		}
		if len(m.cur) > 1024 {
			return fmt.Errorf("too many hops")
		}
		m.cur[ttl] = responder{addr: a}
	case "d":
		r := m.cur[ttl]
		r.name = f[2]
		m.cur[ttl] = r
		// Name the probes already answered by that address.
		if h := m.hopIfAny(ttl); h != nil {
			for i := range h.Probes {
				if !h.Probes[i].Lost && h.Probes[i].Addr == r.addr {
					h.Probes[i].Name = r.name
				}
			}
		}
	case "p":
		usec, ok := parseUint(f[2], 63)
		if !ok {
			return fmt.Errorf("bad round-trip time %q", f[2])
		}
		r := m.cur[ttl]
		pr := r.probe(float64(usec) / 1000)
		h := m.b.hop(ttl)
		if len(f) >= 4 {
			seq, ok := parseUint(f[3], 31)
			if !ok {
				return fmt.Errorf("bad sequence number %q", f[3])
			}
			if sent, ok := m.seq[int(seq)]; ok && sent.ttl == ttl && sent.idx < len(h.Probes) {
				h.Probes[sent.idx] = pr
				delete(m.seq, int(seq))
				return nil
			}
		}
		h.Probes = append(h.Probes, pr) // mtr before 0.88 printed no "x" lines
	default:
		// "t" (timestamps) and later event kinds carry nothing modelled.
	}
	return nil
}

// hopIfAny returns the hop with ttl if the trace has one.
func (m *mtrRaw) hopIfAny(ttl int) *Hop {
	t := m.b.trace()
	for i := range t.Hops {
		if t.Hops[i].TTL == ttl {
			return &t.Hops[i]
		}
	}
	return nil
}

// trimRepeatedTail drops trailing hops whose answers all come from the
// single address the hop before answered from.
func trimRepeatedTail(t *Trace) {
	for n := len(t.Hops); n >= 2; n-- {
		last, prev := t.Hops[n-1].Addrs(), t.Hops[n-2].Addrs()
		if len(prev) != 1 || len(last) > 1 || len(last) == 1 && last[0] != prev[0] {
			break
		}
		t.Hops = t.Hops[:n-1]
	}
}

var mtrRawRe = regexp.MustCompile(`^[xhpdt] \d+ \S+`)

func detectMTRRaw(head []byte) bool {
	lines := headLines(head, 8)
	if len(lines) == 0 {
		return false
	}
	for _, l := range lines {
		if !mtrRawRe.MatchString(l) {
			return false
		}
	}
	return true
}

// ---- WinMTR ----

// WinMTR's text export is a box of rows, one per hop in order:
//
//	| 192.168.1.1                             -    0 |   22 |   22 |    0 |    0 |    3 |    1 |
//	| No response from host                   -  100 |    9 |    0 |    0 |    0 |    0 |    0 |
//
// (host - loss% | sent | recv | best | avg | worst | last), whole ms.
func parseWinMTR(r *bufio.Reader, input string, yield func(*Trace, error) bool) {
	b := newTraceBuilder(r, "winmtr", input, yield)
	b.protocol = "icmp" // the only probe winmtr sends
	ttl := 0
	for {
		line, ok := b.next()
		if !ok {
			break
		}
		s := strings.TrimSpace(line)
		switch {
		case s == "", strings.HasPrefix(s, "|---"), strings.HasPrefix(s, "|___"):
			b.good()
			continue
		case strings.Contains(s, "WinMTR statistics"):
			if b.has() && len(b.trace().Hops) > 0 {
				b.flush()
			}
			b.trace()
			ttl = 0
			b.good()
			continue
		case strings.Contains(s, "| Sent |"):
			b.good()
			continue
		}
		if !b.has() {
			ttl = 0
		}
		b.note(winMTRRow(b, s, &ttl))
	}
	b.finish()
}

func winMTRRow(b *traceBuilder, s string, ttl *int) error {
	f := strings.Split(strings.Trim(s, "|"), "|")
	if len(f) != 7 {
		return fmt.Errorf("unexpected line %q", clip(s))
	}
	hostLoss := strings.TrimSpace(f[0])
	i := strings.LastIndex(hostLoss, " - ")
	if i < 0 {
		return fmt.Errorf("no loss column in %q", clip(s))
	}
	host := strings.TrimSpace(hostLoss[:i])
	var st Stats
	loss, ok := parseMs(strings.TrimSpace(hostLoss[i+3:]))
	if !ok || loss > 100 {
		return fmt.Errorf("bad loss in %q", clip(s))
	}
	st.LossPct = loss
	var nums [6]float64
	for k := 1; k < 7; k++ {
		v, ok := parseMs(strings.TrimSpace(f[k]))
		if !ok {
			return fmt.Errorf("bad number %q", strings.TrimSpace(f[k]))
		}
		nums[k-1] = v
	}
	st.Sent = int(nums[0])
	st.MinMs, st.AvgMs, st.MaxMs, st.LastMs = nums[2], nums[3], nums[4], nums[5]
	if host != "No response from host" {
		if !plausibleHost(host) || strings.ContainsAny(host, " \t") {
			return fmt.Errorf("unexpected host %q", clip(host))
		}
		var r responder
		r.setHost(host, "", false)
		st.Addr, st.Name = r.addr, r.name
	}
	if *ttl >= maxTTL {
		return fmt.Errorf("more than %d hops", maxTTL)
	}
	*ttl++
	h := b.hop(*ttl)
	h.Stats = append(h.Stats, st)
	return nil
}

func detectWinMTR(head []byte) bool {
	for _, l := range headLines(head, 4) {
		if strings.Contains(l, "WinMTR statistics") || strings.Contains(l, "| Sent | Recv |") {
			return true
		}
	}
	return false
}
