package traceroute

import (
	"bufio"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// This file reads the classic traceroute grammar shared by Linux traceroute
// (2.x and inetutils), BSD/macOS traceroute and traceroute6, Junos (FreeBSD's
// traceroute), Arista EOS and NX-OS (Linux's), and Cisco IOS / IOS-XR:
//
//	[TTL] { HOST [(ADDR)] [[ASN]] [<MPLS:...>] { RTT ms [!X] | * } }
//
// A hop line starts with its TTL; a line that starts with blanks and a host
// continues the hop (BSD and Cisco print each new address of a hop on its
// own line; Linux switches address mid-line). MPLS label stacks come inline
// (Linux "<MPLS:L=24001,E=0,S=1,T=1>", Cisco "[MPLS: Label 24001 Exp 0]") or
// on lines of their own (BSD/Junos "MPLS Label=24001 CoS=0 TTL=1 S=1", Cisco
// "[MPLS: ...]", NX-OS "[Label=24001 E=0 TTL=1 S=1]" one line per answered
// probe).

var (
	// "traceroute to NAME (ADDR)[ from SRC], ..." and Huawei's
	// "traceroute to  NAME(ADDR), max hops: 30 ,...".
	unixHeaderRe  = regexp.MustCompile(`^traceroute6? to\s+([^\s(,]+)\s*(?:\(([^)]*)\))?(?:\s+from\s+([^,\s]+))?\s*,`)
	ciscoHeaderRe = regexp.MustCompile(`^Tracing the route to (\S+)(?:\s+\(([^)]*)\))?`)
	// Michael Toren's tcptraceroute: "Selected device eth0, address
	// 192.0.2.10, port 41022 for outgoing packets" then "Tracing the path
	// to NAME (ADDR) on TCP port 80 (http), 30 hops max".
	tcptracerouteHeaderRe = regexp.MustCompile(`^Tracing the path to (\S+)(?:\s+\(([^)]*)\))? on TCP port \d+`)
	tcptracerouteDeviceRe = regexp.MustCompile(`^Selected device \S+, address (\S+)(?:, port \d+)? for outgoing packets$`)
	// weekday timestamp IOS-XR prints before a command's output.
	ciscoTimeRe  = regexp.MustCompile(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d+ [\d:.]+ \S+$`)
	mplsBSDRe    = regexp.MustCompile(`^MPLS Label=(\d+) CoS=(\d+) TTL=(\d+) S=(\d)$`)
	mplsNXOSRe   = regexp.MustCompile(`^\[Label=(\d+) E=(\d+) TTL=(\d+) S=(\d)\]$`)
	mplsCiscoRe  = regexp.MustCompile(`^\[MPLS: Labels? ([\d/]+) Exp (\d+)\]$`)
	mplsLinuxRe  = regexp.MustCompile(`^L=(\d+),E=(\d+),S=(\d),T=(\d+)$`)
	backHopsRe   = regexp.MustCompile(`^'-?\d+'$`)
	annotationRe = regexp.MustCompile(`^!(?:[A-Za-z]|<\d{1,5}>|F-\d{1,5}|\d{1,5})?$`)
	errNoHostYet = errors.New("round-trip time before any host")
)

func unixTextParser(name string) func(*bufio.Reader, string, func(*Trace, error) bool) {
	return func(r *bufio.Reader, input string, yield func(*Trace, error) bool) {
		p := unixParser{b: newTraceBuilder(r, name, input, yield), cisco: name == "cisco"}
		p.b.each(p.line)
		p.b.finish()
	}
}

type unixParser struct {
	b     *traceBuilder
	cisco bool // "!X" tokens stand for a probe (IOS) instead of following one

	toks     []string  // reused token buffer
	resp     responder // host of the probes that follow
	hasResp  bool
	labelIdx int // NX-OS label lines seen for the current hop
	// ttlShift is 1 in a trace whose first hop is numbered 0 (some Cisco
	// outputs count from 0): its hops are renumbered from 1.
	ttlShift int
	// src is tcptraceroute's "Selected device" address, for the trace its
	// header starts next.
	src string
}

func (p *unixParser) line(line string) error {
	s := strings.TrimSpace(line)
	if s == "" {
		return nil
	}
	if s[0] >= '0' && s[0] <= '9' {
		// Most lines are hop lines: try them first.
		p.toks = appendFields(p.toks[:0], s)
		toks := p.toks
		if toks[0] == "0" && (!p.b.has() || len(p.b.trace().Hops) == 0) {
			p.ttlShift = 1
		}
		if ttl, ok := parseTTL(toks[0]); ok && ttl+p.ttlShift <= maxTTL {
			return p.hopLine(ttl+p.ttlShift, toks[1:])
		}
		if toks[0] == "0" && p.ttlShift == 1 {
			return p.hopLine(1, toks[1:])
		}
		if isDigits(toks[0]) {
			// A hop number, but one no TTL can have ("700 A0 0ms").
			return badTTL(toks[0])
		}
	}
	if m := unixHeaderRe.FindStringSubmatch(s); m != nil {
		t := p.b.newTrace()
		p.ttlShift = 0
		setDestination(t, m[1], m[2])
		if a, ok := parseHostAddr(m[3]); ok {
			t.Source.Addr = a
		}
		return nil
	}
	if m := ciscoHeaderRe.FindStringSubmatch(s); m != nil {
		t := p.b.trace()
		if len(t.Hops) > 0 || t.Destination != (Endpoint{}) {
			t = p.b.newTrace()
		}
		p.ttlShift = 0
		setDestination(t, m[1], m[2])
		return nil
	}
	if m := tcptracerouteDeviceRe.FindStringSubmatch(s); m != nil {
		p.src = m[1]
		return nil
	}
	if m := tcptracerouteHeaderRe.FindStringSubmatch(s); m != nil {
		t := p.b.newTrace()
		p.ttlShift = 0
		t.Protocol = "tcp"
		setDestination(t, m[1], m[2])
		if a, ok := parseHostAddr(p.src); ok {
			t.Source.Addr = a
		}
		p.src = ""
		return nil
	}
	switch {
	case s == "Type escape sequence to abort.":
		if p.b.has() && len(p.b.trace().Hops) > 0 {
			p.b.flush()
		}
		p.ttlShift = 0
		return nil
	case isUnixNoise(s), isCommandEcho(s):
		return nil
	case mplsBSDRe.MatchString(s):
		m := mplsBSDRe.FindStringSubmatch(s)
		l, err := mplsEntry(m[1], m[2], m[4], m[3])
		if err != nil {
			return err
		}
		return p.labelsForLastHost([]MPLSLabel{l})
	case strings.HasPrefix(s, "[MPLS:"):
		ls, err := parseCiscoMPLS(s)
		if err != nil {
			return err
		}
		return p.labelsForLastHost(ls)
	case s == "[No MPLS labels]":
		p.labelIdx++
		return nil
	case strings.HasPrefix(s, "[Label="):
		m := mplsNXOSRe.FindStringSubmatch(s)
		if m == nil {
			return fmt.Errorf("bad MPLS label line %q", s)
		}
		l, err := mplsEntry(m[1], m[2], m[4], m[3])
		if err != nil {
			return err
		}
		return p.labelsForNthProbe(l)
	}
	toks := strings.Fields(s)
	if line[0] == ' ' || line[0] == '\t' {
		if h := p.b.curHop(); h != nil {
			p.hasResp = false
			return p.lineTokens(h, toks)
		}
	}
	return fmt.Errorf("unexpected line %q", clip(s))
}

// hopLine reads a line that starts with a hop number.
func (p *unixParser) hopLine(ttl int, toks []string) error {
	if len(toks) == 0 {
		return fmt.Errorf("nothing after hop number %d", ttl)
	}
	h := p.b.hop(ttl)
	p.hasResp, p.labelIdx = false, 0
	err := p.lineTokens(h, toks)
	if err != nil {
		p.b.dropCurIfEmpty()
	}
	return err
}

// isUnixNoise reports lines traceroute-family tools print that carry nothing
// for the model.
func isUnixNoise(s string) bool {
	switch {
	case strings.HasPrefix(s, "traceroute: "), strings.HasPrefix(s, "traceroute6: "),
		strings.HasPrefix(s, "VRF info:"), strings.HasPrefix(s, "Translating "),
		s == "Destination not reached", // tcptraceroute, after the last hop
		s == "Trace complete.", s == "^C":
		return true
	}
	return ciscoTimeRe.MatchString(s)
}

// setDestination fills t.Destination from a printed name and optional address.
func setDestination(t *Trace, name, addr string) {
	var r responder
	r.setHost(name, addr, addr != "")
	t.Destination.Addr, t.Destination.Name = r.addr, r.name
}

// lineTokens reads the probes of one line; a bad line adds none of them.
func (p *unixParser) lineTokens(h *Hop, toks []string) error {
	n := len(h.Probes)
	want := 0
	for _, t := range toks {
		if t == "*" || strings.HasSuffix(t, "ms") || strings.HasSuffix(t, "msec") {
			want++
		}
	}
	h.Probes = slices.Grow(h.Probes, want)
	err := p.tokens(h, toks)
	if err != nil {
		clear(h.Probes[n:])
		h.Probes = h.Probes[:n]
		if n == 0 {
			h.Probes = nil
		}
		p.hasResp = false
	}
	return err
}

// tokens reads the probes of one hop line (after its TTL) or continuation.
func (p *unixParser) tokens(h *Hop, toks []string) error {
	justHost, hostTok := false, ""
	var pendingASN uint32
	hasPending := false
	for i := 0; i < len(toks); i++ {
		t := strings.TrimSuffix(toks[i], "^C") // interrupted output: "* *^C"
		if t == "" {
			continue
		}
		switch {
		case t == "*":
			h.Probes = append(h.Probes, Probe{Lost: true})
			justHost = false
		case t == "ms" || t == "msec":
			return fmt.Errorf("unit %q without a number", t)
		case t[0] == '!':
			if err := p.annotation(h, t); err != nil {
				return err
			}
			justHost = false
		case strings.HasPrefix(t, "<MPLS:"):
			j, all := collect(toks, i, ">")
			i = j
			ls, err := parseLinuxMPLS(all)
			if err != nil {
				return err
			}
			p.resp.mpls = ls
		case len(t) > 2 && t[0] == '<' && t[len(t)-1] == '>' && p.hasResp:
			// Linux traceroute module info after the host, such as
			// the TCP flags of the answer with -T -O info ("<syn,ack>"):
			// kept as a flag of the probes that follow.
			p.resp.flags = append(p.resp.flags, t)
		case strings.HasPrefix(t, "[MPLS:"):
			j, all := collect(toks, i, "]")
			i = j
			ls, err := parseCiscoMPLS(all)
			if err != nil {
				return err
			}
			p.resp.mpls = ls
		case strings.HasPrefix(t, "[AS") || strings.HasPrefix(t, "[as") || t == "[*]":
			j, all := collect(toks, i, "]")
			i = j
			asn, ok := textASN(strings.ReplaceAll(strings.Trim(all, "[]"), " ", ""))
			if !ok {
				return fmt.Errorf("bad AS number %q", all)
			}
			if justHost {
				p.resp.asn = asn
			} else {
				pendingASN, hasPending = asn, true
			}
		case strings.HasPrefix(t, "F="):
			// Linux --mtu: printed after the time of the probe that
			// learnt a new path MTU.
			v, ok := parseUint(t[2:], 16)
			n := len(h.Probes)
			if !ok || n == 0 || h.Probes[n-1].Lost {
				return fmt.Errorf("bad MTU %q", clip(t))
			}
			h.Probes[n-1].MTU = int(v)
			justHost = false
		case t[0] == '\'' && backHopsRe.MatchString(t):
			// Linux --back: the return path's hop count; not modelled.
		case t == "[open]" || t == "[closed]":
			// tcptraceroute marks the destination's SYN-ACK or RST; the
			// address already says the destination answered.
		default:
			if v, n, ok := rttToken(toks, i); ok {
				if !p.hasResp {
					return errNoHostYet
				}
				h.Probes = append(h.Probes, p.resp.probe(v))
				i += n
				justHost = false
				continue
			}
			if _, ok := parseMs(t); ok {
				return fmt.Errorf("number %q without a unit", t)
			}
			if !plausibleHost(t) {
				return fmt.Errorf("unexpected %q", clip(t))
			}
			inner, hasInner := "", false
			if i+1 < len(toks) && len(toks[i+1]) >= 2 && toks[i+1][0] == '(' && toks[i+1][len(toks[i+1])-1] == ')' {
				inner, hasInner = toks[i+1][1:len(toks[i+1])-1], true
				i++
			}
			p.resp = responder{}
			p.resp.setHost(t, inner, hasInner)
			if hasPending {
				p.resp.asn, hasPending = pendingASN, false
			}
			p.hasResp, justHost, hostTok = true, true, t
		}
	}
	if justHost {
		// Every host traceroute prints is followed by its times; a
		// line ending on a host was cut or is not traceroute output.
		return fmt.Errorf("host %q without round-trip times", clip(hostTok))
	}
	return nil
}

// rttToken reads "12.3 ms", "12 msec" or "12.3ms" at toks[i]; n is the
// number of extra tokens used.
func rttToken(toks []string, i int) (v float64, n int, ok bool) {
	t := toks[i]
	if v, ok := parseMs(t); ok && i+1 < len(toks) && (toks[i+1] == "ms" || toks[i+1] == "msec") {
		return v, 1, true
	}
	for _, unit := range []string{"msec", "ms"} {
		if num, found := strings.CutSuffix(t, unit); found {
			if v, ok := parseMs(num); ok {
				return v, 0, true
			}
		}
	}
	return 0, 0, false
}

// annotation applies an ICMP annotation token ("!H", "!F-1500", "!<10>").
func (p *unixParser) annotation(h *Hop, t string) error {
	flag, mtu := t, 0
	if rest, ok := strings.CutPrefix(t, "!F-"); ok {
		v, ok := parseUint(rest, 16)
		if !ok {
			return fmt.Errorf("bad MTU annotation %q", t)
		}
		flag, mtu = "!F", int(v)
	}
	if !annotationRe.MatchString(t) {
		return fmt.Errorf("bad annotation %q", clip(t))
	}
	if p.cisco {
		// IOS prints the annotation in place of the round-trip time: a
		// reply whose time is not shown. It is kept as not answered (no
		// RTT to use) with the replying host and the flag.
		if !p.hasResp {
			return fmt.Errorf("annotation %q before any host", t)
		}
		pr := p.resp.probe(0)
		pr.Lost, pr.Flags, pr.MTU = true, []string{flag}, mtu
		h.Probes = append(h.Probes, pr)
		return nil
	}
	n := len(h.Probes)
	if n == 0 || h.Probes[n-1].Lost {
		return fmt.Errorf("annotation %q without a reply before it", t)
	}
	last := &h.Probes[n-1]
	last.Flags = append(last.Flags, flag)
	if mtu > 0 {
		last.MTU = mtu
	}
	return nil
}

// labelsForLastHost appends labels to the answered probes of the current
// hop's last host (BSD, Junos and Cisco print them once under the host).
func (p *unixParser) labelsForLastHost(ls []MPLSLabel) error {
	h := p.b.curHop()
	if h == nil || !p.hasResp {
		return errors.New("MPLS labels before any host")
	}
	found := false
	for i := len(h.Probes) - 1; i >= 0; i-- {
		pr := &h.Probes[i]
		if pr.Lost && len(pr.Flags) == 0 {
			continue
		}
		if pr.Addr != p.resp.addr || pr.Name != p.resp.name {
			break
		}
		pr.MPLS = append(pr.MPLS, ls...)
		found = true
	}
	if !found {
		// Labels printed between the host and its times (Cisco): they go
		// with the probes that follow.
		p.resp.mpls = append(p.resp.mpls, ls...)
	}
	return nil
}

// labelsForNthProbe gives an NX-OS label line to the next answered probe of
// the current hop: NX-OS prints one line per answered probe, in order.
func (p *unixParser) labelsForNthProbe(l MPLSLabel) error {
	h := p.b.curHop()
	if h == nil {
		return errors.New("MPLS labels before any hop")
	}
	k := p.labelIdx
	p.labelIdx++
	for i := range h.Probes {
		if h.Probes[i].Lost {
			continue
		}
		if k == 0 {
			h.Probes[i].MPLS = append(h.Probes[i].MPLS, l)
			return nil
		}
		k--
	}
	return fmt.Errorf("MPLS label line %d but only %d answered probes", p.labelIdx, p.labelIdx-1-k)
}

// collect joins toks[i..] up to the first token ending in end; it returns
// the index of that token.
func collect(toks []string, i int, end string) (int, string) {
	j := i
	for j < len(toks)-1 && !strings.HasSuffix(toks[j], end) {
		j++
	}
	return j, strings.Join(toks[i:j+1], " ")
}

func mplsEntry(label, tc, s, ttl string) (MPLSLabel, error) {
	l, ok1 := parseUint(label, 20)
	c, ok2 := parseUint(tc, 3)
	b, ok3 := parseUint(s, 1)
	t, ok4 := parseUint(ttl, 8)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return MPLSLabel{}, fmt.Errorf("bad MPLS label entry (label %s, TC %s, S %s, TTL %s)", label, tc, s, ttl)
	}
	return MPLSLabel{Label: uint32(l), TC: uint8(c), S: b == 1, TTL: uint8(t)}, nil
}

// parseLinuxMPLS reads "<MPLS:L=24001,E=0,S=0,T=1/L=16,E=0,S=1,T=1>".
func parseLinuxMPLS(s string) ([]MPLSLabel, error) {
	body, ok := strings.CutPrefix(s, "<MPLS:")
	body, ok2 := strings.CutSuffix(body, ">")
	if !ok || !ok2 {
		return nil, fmt.Errorf("bad MPLS extension %q", clip(s))
	}
	var out []MPLSLabel
	for e := range strings.SplitSeq(body, "/") {
		m := mplsLinuxRe.FindStringSubmatch(e)
		if m == nil {
			return nil, fmt.Errorf("bad MPLS extension %q", clip(s))
		}
		l, err := mplsEntry(m[1], m[2], m[3], m[4])
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// parseCiscoMPLS reads "[MPLS: Label 24001 Exp 0]" or "[MPLS: Labels
// 24001/16 Exp 0]". Cisco prints neither S nor TTL: S is set on the last
// entry, TTL is left 0 (unknown).
func parseCiscoMPLS(s string) ([]MPLSLabel, error) {
	m := mplsCiscoRe.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("bad MPLS line %q", clip(s))
	}
	exp, ok := parseUint(m[2], 3)
	if !ok {
		return nil, fmt.Errorf("bad MPLS EXP in %q", clip(s))
	}
	parts := strings.Split(m[1], "/")
	out := make([]MPLSLabel, 0, len(parts))
	for i, part := range parts {
		v, ok := parseUint(part, 20)
		if !ok {
			return nil, fmt.Errorf("bad MPLS label in %q", clip(s))
		}
		out = append(out, MPLSLabel{Label: uint32(v), TC: uint8(exp), S: i == len(parts)-1})
	}
	return out, nil
}

// plausibleHost accepts what traceroutes print as a host: names, addresses,
// and the odd decorated name ("http://x" in hand-edited outputs). It refuses
// punctuation-only tokens and tokens with brackets or quotes.
func plausibleHost(t string) bool {
	if len(t) > 255 || strings.ContainsAny(t, "()[]<>\"'{}|,;=") {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 {
			return true
		}
	}
	return false
}

// clip shortens a string for an error message.
func clip(s string) string {
	if len(s) <= 60 {
		return s
	}
	n := 57
	for n > 0 && !utf8.RuneStart(s[n]) {
		n-- // do not cut a character in two
	}
	return s[:n] + "..."
}

// ---- detection ----

var (
	unixHopRe      = regexp.MustCompile(`^\s*\d{1,3}\s+(?:\*|\S+(?:\s+\(\S+\))?\s+(?:\[\S+\]\s+)?(?:<\S+>\s+)?[\d.]+ ?ms|\[AS\S*\]\s+\S+)`)
	unixContRe     = regexp.MustCompile(`^\s+\S+ \(\S+\)\s+[\d.]+ ms`)
	unixInlineRe   = regexp.MustCompile(`\d ms +(?:\* +)?[^\s*!<\[]\S* \(`)
	unixASAfterRe  = regexp.MustCompile(`\) \[(?:AS|\*)`)
	unixASBeforeRe = regexp.MustCompile(`^\s*\d+\s+\[AS`)
	unixGluedMsRe  = regexp.MustCompile(`\d\.\d+ms(?:\s|$)`) // GNU inetutils: "0.504ms"
	ciscoHopRe     = regexp.MustCompile(`^\s*\d{1,3}\s+\S+.*\d msec`)
)

// unixFlavor looks at the head of a classic traceroute output and tells
// whether it is one, and which flavour the evidence favours. Both flavours
// share the parser; the name only records where a trace came from.
func unixFlavor(head []byte) (isTrace, bsd bool) {
	lines := headLines(head, 40)
	if len(lines) == 0 {
		return false, false
	}
	header := ""
	for _, l := range lines[:min(3, len(lines))] {
		if s := strings.TrimSpace(l); unixHeaderRe.MatchString(s) {
			header = s
			break
		}
	}
	hops := 0
	bsdScore, linuxScore := 0, 0
	for _, l := range lines {
		if unixHopRe.MatchString(l) {
			hops++
		}
		switch {
		case unixContRe.MatchString(l), unixASBeforeRe.MatchString(l), mplsBSDRe.MatchString(strings.TrimSpace(l)):
			bsdScore += 2
		case unixInlineRe.MatchString(l), unixASAfterRe.MatchString(l), strings.Contains(l, "<MPLS:"), unixGluedMsRe.MatchString(l),
			strings.HasPrefix(strings.TrimSpace(l), "[Label="), strings.HasPrefix(strings.TrimSpace(l), "[No MPLS"):
			linuxScore += 2
		}
	}
	if header == "" && hops == 0 {
		return false, false
	}
	if header != "" {
		switch {
		case strings.Contains(header, " 64 hops max"), strings.HasPrefix(header, "traceroute6 "):
			bsdScore++
		case strings.Contains(header, " 30 hops max"):
			linuxScore++
		}
		switch {
		case strings.Contains(header, " 60 byte packets"), strings.Contains(header, " 80 byte packets"):
			linuxScore++ // Linux defaults (IPv4, IPv6)
		case strings.Contains(header, " 52 byte packets"), strings.Contains(header, " 12 byte packets"):
			bsdScore++ // macOS defaults (traceroute, traceroute6)
		}
	}
	// No header and nothing telling: macOS pastes are the common case
	// (traceroute's header goes to stderr there).
	return true, bsdScore > linuxScore || bsdScore == linuxScore && header == ""
}

func detectBSD(head []byte) bool {
	ok, bsd := unixFlavor(head)
	return ok && bsd
}

func detectLinux(head []byte) bool {
	ok, bsd := unixFlavor(head)
	return ok && !bsd
}

func detectTCPTraceroute(head []byte) bool {
	for _, l := range headLines(head, 5) {
		if tcptracerouteHeaderRe.MatchString(strings.TrimSpace(l)) {
			return true
		}
	}
	return false
}

func detectCisco(head []byte) bool {
	for _, l := range headLines(head, 20) {
		s := strings.TrimSpace(l)
		if strings.HasPrefix(s, "Tracing the route to ") || s == "Type escape sequence to abort." || ciscoHopRe.MatchString(l) {
			return true
		}
	}
	return false
}
