package traceroute

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// textFormats are the text formats, most specific first: each detector looks
// for something only its format prints (a CSV header, a "|--" column, "msec",
// "Tracing route to"), and the two traceroute flavours, whose hop lines are
// the same grammar, come last.
//
// Router CLIs map onto these: Junos' traceroute is FreeBSD's (bsd-traceroute,
// "MPLS Label=" lines included), Junos "traceroute monitor" is mtr's screen
// (mtr-report / mtr-screen), Arista EOS and NX-OS run Linux traceroute
// (linux-traceroute, NX-OS "[Label=...]" lines included), Cisco IOS and
// IOS-XR print their own ("cisco").
var textFormats = []format{
	{name: "mtr-csv", detect: detectMTRCSV, parse: parseMTRCSV},
	{name: "mtr-raw", detect: detectMTRRaw, parse: parseMTRRaw},
	{name: "mtr-split", detect: detectMtrSplit, parse: parseMtrSplit},
	{name: "winmtr", detect: detectWinMTR, parse: parseWinMTR},
	{name: "mtr-report", detect: detectMTRReport, parse: mtrTextParser("mtr-report")},
	{name: "mtr-screen", detect: detectMTRScreen, parse: mtrTextParser("mtr-screen")},
	{name: "pathping", detect: detectPathping, parse: parsePathping},
	{name: "windows-tracert", detect: detectTracert, parse: parseTracert},
	{name: "tracepath", detect: detectTracepath, parse: parseTracepath},
	{name: "cisco", detect: detectCisco, parse: unixTextParser("cisco")},
	{name: "tcptraceroute", detect: detectTCPTraceroute, parse: unixTextParser("tcptraceroute")},
	{name: "bsd-traceroute", detect: detectBSD, parse: unixTextParser("bsd-traceroute")},
	{name: "linux-traceroute", detect: detectLinux, parse: unixTextParser("linux-traceroute")},
	// Junos' CLI traceroute is FreeBSD's: detection reads it as
	// bsd-traceroute; forcing "junos" records the router as the origin.
	{name: "junos", detect: func([]byte) bool { return false }, parse: unixTextParser("junos")},
}

// maxBadLines is how many bad lines in a row a text parser reports before it
// gives up on an input: past that it is not the format it was told it is.
const maxBadLines = 32

// textLines reads an input line by line, counting lines for error positions.
// A line longer than the reader's buffer (64 KiB from Read) is skipped and
// reported, so a line-less binary blob cannot make memory grow.
type textLines struct {
	r   *bufio.Reader
	n   int   // number of the line last returned, 1-based
	err error // read error other than EOF, reported once by the caller
}

// next returns the next line without its line end and trailing blanks.
// tooLong reports a line over the cap; its content is dropped.
func (l *textLines) next() (line string, tooLong, ok bool) {
	if l.err != nil {
		return "", false, false
	}
	b, err := l.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		l.n++
		skipped := len(b)
		for errors.Is(err, bufio.ErrBufferFull) {
			if skipped > maxLineSkip {
				// /dev/zero, a binary file: a line without end is
				// no text output of any tool.
				l.err = fmt.Errorf("%w: no line end in %d MiB", errGiveUp, maxLineSkip>>20)
				return "", true, true
			}
			b, err = l.r.ReadSlice('\n')
			skipped += len(b)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			l.err = err
		}
		return "", true, true
	}
	if len(b) == 0 && err != nil {
		if !errors.Is(err, io.EOF) {
			l.err = err
		}
		return "", false, false
	}
	if err != nil && !errors.Is(err, io.EOF) {
		l.err = err
	}
	l.n++
	b = bytes.TrimRight(b, " \t\r\n\x00")
	if !utf8.Valid(b) {
		// Names end up in JSON, which cannot carry invalid UTF-8: mark the
		// bad bytes now, the same way for every consumer.
		return strings.ToValidUTF8(string(b), "\uFFFD"), false, true
	}
	return string(b), false, true
}

// traceBuilder assembles traces from lines and yields them, one at a time, so
// memory stays bounded by one trace. It owns the rules shared by every text
// format: a header starts a new trace, a TTL going back to 1 starts a new
// trace, a TTL seen before adds to that hop, bad lines are yielded as errors.
type traceBuilder struct {
	format, input string
	yield         func(*Trace, error) bool
	lines         textLines

	// protocol is set on every trace when the tool has only one
	// ("icmp" for tracert and WinMTR, "udp" for tracepath).
	protocol string
	// noSplit keeps TTL 1 after higher TTLs in the same trace (mtr --raw
	// cycles through the TTLs again and again).
	noSplit bool

	t       *Trace
	cur     int // index of the current hop in t.Hops, -1 if none
	stopped bool
	traces  int // traces yielded
	errs    int // errors yielded
	badRun  int // bad lines since the last good one
	// checked is how much of a hop good() has looked at for absurd RTTs.
	checked struct {
		t             *Trace
		ttl           int
		probes, stats int
	}
}

func newTraceBuilder(r *bufio.Reader, format, input string, yield func(*Trace, error) bool) *traceBuilder {
	return &traceBuilder{format: format, input: input, yield: yield, lines: textLines{r: r}, cur: -1}
}

// next returns the next line, reporting over-long lines itself. It returns
// false at the end of the input or when the consumer stopped.
func (b *traceBuilder) next() (string, bool) {
	for !b.stopped {
		line, tooLong, ok := b.lines.next()
		if !ok {
			return "", false
		}
		if tooLong {
			b.bad("line longer than %d bytes", b.lines.r.Size())
			continue
		}
		if b.t != nil && b.size(b.t) > MaxProbes {
			// Lines adding to one trace without end (a hostile file,
			// mtr --raw run for days): the trace ends here.
			b.errAt(b.lines.n, fmt.Errorf("trace holds more than %d probes: it ends here, and the lines after it start a new one", MaxProbes))
			b.flush()
		}
		return line, true
	}
	return "", false
}

// size is the number of probes and statistics of t.
func (b *traceBuilder) size(t *Trace) int {
	n := 0
	for i := range t.Hops {
		n += len(t.Hops[i].Probes) + len(t.Hops[i].Stats)
	}
	return n
}

// trace returns the trace being built, starting one if needed.
func (b *traceBuilder) trace() *Trace {
	if b.t == nil {
		b.t = &Trace{Format: b.format, Protocol: b.protocol, Hops: make([]Hop, 0, 16)}
		b.cur = -1
	}
	return b.t
}

// has reports whether a trace is being built.
func (b *traceBuilder) has() bool { return b.t != nil }

// flush yields the trace being built, if any.
func (b *traceBuilder) flush() {
	t := b.t
	b.t, b.cur, b.checked.t = nil, -1, nil
	if t == nil || b.stopped {
		return
	}
	for i := range t.Hops {
		// What good() did not see (a line adding to a hop other than
		// the current one).
		if v, bad := absurdRTT(&t.Hops[i]); bad {
			dropAbsurdRTTs(&t.Hops[i])
			b.errAt(b.lines.n, errAbsurdRTT(t.Hops[i].TTL, v))
		}
	}
	if len(t.Hops) == 0 && t.Destination == (Endpoint{}) && t.Source == (Endpoint{}) && t.Started.IsZero() {
		return // nothing known: only bad lines went into it
	}
	b.traces++
	if !b.yield(t, nil) {
		b.stopped = true
	}
}

// newTrace ends the current trace and starts another.
func (b *traceBuilder) newTrace() *Trace {
	b.flush()
	return b.trace()
}

// hop returns the hop for ttl, following the shared rules: the same TTL as
// the current hop continues it; TTL 1 after higher TTLs starts a new trace
// (outputs appended without their header); a lower TTL seen before adds to
// that hop (tracepath prints late answers out of order); a new TTL is
// inserted in order.
func (b *traceBuilder) hop(ttl int) *Hop {
	t := b.trace()
	if b.cur >= 0 && t.Hops[b.cur].TTL == ttl {
		return &t.Hops[b.cur]
	}
	if n := len(t.Hops); n > 0 && ttl == 1 && t.Hops[n-1].TTL > 1 && !b.noSplit {
		t = b.newTrace()
	}
	i := len(t.Hops)
	for i > 0 && t.Hops[i-1].TTL >= ttl {
		i--
	}
	if i < len(t.Hops) && t.Hops[i].TTL == ttl {
		b.cur = i
		return &t.Hops[i]
	}
	t.Hops = append(t.Hops, Hop{})
	copy(t.Hops[i+1:], t.Hops[i:])
	t.Hops[i] = Hop{TTL: ttl}
	b.cur = i
	return &t.Hops[i]
}

// dropCurIfEmpty removes the current hop if nothing was recorded in it (its
// only line was bad).
func (b *traceBuilder) dropCurIfEmpty() {
	h := b.curHop()
	if h == nil || len(h.Probes) > 0 || len(h.Stats) > 0 {
		return
	}
	b.t.Hops = append(b.t.Hops[:b.cur], b.t.Hops[b.cur+1:]...)
	b.cur = -1
}

// curHop returns the current hop, or nil.
func (b *traceBuilder) curHop() *Hop {
	if b.t == nil || b.cur < 0 {
		return nil
	}
	return &b.t.Hops[b.cur]
}

// each feeds every line to parse, noting its outcome.
func (b *traceBuilder) each(parse func(line string) error) {
	for line, ok := b.next(); ok; line, ok = b.next() {
		b.note(parse(line))
	}
}

// note records the outcome of one line: an error makes it a bad line.
func (b *traceBuilder) note(err error) {
	if err != nil {
		b.bad("%v", err)
		return
	}
	b.good()
}

// good notes a line that parsed.
// An RTT past MaxRTTMs makes the line bad: its absurd figures are dropped.
func (b *traceBuilder) good() {
	if h := b.curHop(); h != nil {
		// Only what this line added: a hop may gather thousands of
		// probes, and looking at all of them each line is quadratic.
		from := Hop{TTL: h.TTL}
		if b.checked.t == b.t && b.checked.ttl == h.TTL {
			from.Probes = h.Probes[min(b.checked.probes, len(h.Probes)):]
			from.Stats = h.Stats[min(b.checked.stats, len(h.Stats)):]
		} else {
			from.Probes, from.Stats = h.Probes, h.Stats
		}
		if v, bad := absurdRTT(&from); bad {
			ttl := h.TTL
			dropAbsurdRTTs(h)
			b.checked.t = nil
			b.dropCurIfEmpty()
			b.bad("%v", errAbsurdRTT(ttl, v))
			return
		}
		b.checked.t, b.checked.ttl, b.checked.probes, b.checked.stats = b.t, h.TTL, len(h.Probes), len(h.Stats)
	}
	b.badRun = 0
}

// bad yields a *ParseError for the current line; the line is skipped. After
// maxBadLines bad lines in a row it stops the input.
func (b *traceBuilder) bad(format string, args ...any) {
	b.errAt(b.lines.n, fmt.Errorf(format, args...))
	b.badRun++
	if b.badRun >= maxBadLines && !b.stopped {
		b.errAt(b.lines.n, fmt.Errorf("%d bad lines in a row, giving up (not %s output?)", b.badRun, b.format))
		b.stopped = true
	}
}

func (b *traceBuilder) errAt(line int, err error) {
	if b.stopped {
		return
	}
	b.errs++
	if !b.yield(nil, &ParseError{Input: b.input, Line: line, Format: b.format, Err: err}) {
		b.stopped = true
	}
}

// finish flushes the last trace and reports read errors and inputs that held
// no trace at all.
func (b *traceBuilder) finish() {
	b.flush()
	if b.stopped {
		return
	}
	if errors.Is(b.lines.err, errGiveUp) {
		b.errAt(b.lines.n, b.lines.err)
		return
	}
	if b.lines.err != nil {
		b.errAt(b.lines.n+1, fmt.Errorf("read: %w", b.lines.err))
		return
	}
	if b.traces == 0 && b.errs == 0 {
		b.errAt(b.lines.n, errors.New("no trace found"))
	}
}

// ---- shared token helpers ----

// parseMs parses a non-negative decimal number of milliseconds ("0.345",
// "12"). Unlike strconv it refuses NaN, Inf, signs and exponents, which no
// traceroute prints.
func parseMs(s string) (float64, bool) {
	if s == "" || len(s) > 24 {
		return 0, false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0:
			dot = true
		default:
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// parseUint parses a small unsigned decimal.
func parseUint(s string, bits int) (uint64, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, bits)
	return v, err == nil
}

// maxTTL is the largest hop number: the IPv4 TTL and the IPv6 hop limit are
// 8-bit fields, so no tool can probe further.
const maxTTL = 255

// parseTTL parses a hop number, 1..maxTTL.
func parseTTL(s string) (int, bool) {
	v, ok := parseUint(s, 16)
	if !ok || v == 0 || v > maxTTL {
		return 0, false
	}
	return int(v), true
}

// badTTL explains why parseTTL refused s.
func badTTL(s string) error {
	if isDigits(s) {
		return fmt.Errorf("hop number %s out of range 1..%d", clip(s), maxTTL)
	}
	return fmt.Errorf("bad hop number %q", clip(s))
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseHostAddr parses an address as tools print it: plain, with an IPv6 zone,
// or with leading zeros in IPv6 groups (which netip accepts).
func parseHostAddr(s string) (netip.Addr, bool) {
	if s == "" || len(s) > 64 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone(""), true
}

// responder is the host a run of probes came from, as printed.
type responder struct {
	addr  netip.Addr
	name  string
	asn   uint32
	mpls  []MPLSLabel
	flags []string
}

// setHost fills addr and name from a printed host and an optional
// parenthesised or bracketed address. A name that is just the address is
// dropped (traceroute prints "1.2.3.4 (1.2.3.4)" when there is no PTR).
func (r *responder) setHost(host, inner string, hasInner bool) {
	r.addr, r.name = netip.Addr{}, ""
	if hasInner {
		if a, ok := parseHostAddr(inner); ok {
			r.addr = a
			if host != inner {
				r.name = host
			}
			return
		}
		// "Internal (Internal)": a name standing in for an address.
		r.name = host
		return
	}
	if a, ok := parseHostAddr(host); ok {
		r.addr = a
		return
	}
	r.name = host
}

func (r *responder) probe(rttMs float64) Probe {
	p := Probe{Addr: r.addr, Name: r.name, RTTMs: rttMs, ASN: r.asn}
	if len(r.mpls) > 0 {
		p.MPLS = append([]MPLSLabel(nil), r.mpls...)
	}
	if len(r.flags) > 0 {
		p.Flags = append([]string(nil), r.flags...)
	}
	return p
}

// textASN reads "AS15169", "15169", "AS15169/AS36040" (first wins), "*" or
// "AS???" (no ASN, ok with 0).
func textASN(s string) (uint32, bool) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "AS"), "as")
	if s == "*" || s == "???" || s == "" {
		return 0, true
	}
	v, ok := parseUint(s, 32)
	return uint32(v), ok
}

// isCommandEcho reports a pasted shell prompt or command line
// ("H:\>tracert google.co.nz", "$ mtr -r example.org").
func isCommandEcho(line string) bool {
	f := strings.Fields(line)
	for i, w := range f {
		if i > 3 {
			break
		}
		w = strings.ToLower(w)
		if j := strings.LastIndexAny(w, ">$#%"); j >= 0 {
			w = w[j+1:]
		}
		switch w {
		case "tracert", "tracert.exe", "traceroute", "traceroute6", "tracepath", "tracepath6", "mtr", "winmtr", "sudo",
			"pathping", "pathping.exe", "tcptraceroute":
			return i+1 < len(f) || i > 0 || strings.ContainsAny(line, ">$#%")
		}
	}
	return false
}

// headLines returns up to n non-blank lines of a detection head, dropping a
// possibly cut last line when the head is full.
func headLines(head []byte, n int) []string {
	s := string(head)
	if len(head) >= detectSize {
		if i := strings.LastIndexByte(s, '\n'); i >= 0 {
			s = s[:i]
		}
	}
	var out []string
	for len(s) > 0 && len(out) < n {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		line = strings.TrimRight(line, " \t\r")
		if strings.TrimSpace(line) != "" {
			out = append(out, line)
		}
	}
	return out
}

// appendFields appends the blank-separated fields of s to dst, like
// strings.Fields for ASCII blanks, reusing dst's array.
func appendFields(dst []string, s string) []string {
	start := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == '\n' {
			if start >= 0 {
				dst = append(dst, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		dst = append(dst, s[start:])
	}
	return dst
}
