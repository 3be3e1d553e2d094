package traceroute

import (
	"bufio"
	"regexp"
	"strconv"
	"strings"
)

// mtr --split (mtr's "split" interface, ui/split.c, for GUIs that drive
// mtr) prints one line per hop whenever the hop's figures change:
//
//	1 gw.example 0 10 10 0 0 1
//	2 ???
//	3 ae-5.r21.example.net 198.51.100.17 2000 49 50 11 12 14
//	-4
//
// that is "HOP NAME [ADDR] LOSS RETURNED SENT BEST AVG WORST" (ADDR with
// -b; LOSS in thousandths of a percent; times in whole milliseconds,
// truncated), "HOP ???" for a hop that never answered, and "-HOP" when the
// path shrank and that hop is gone. The last line of each hop is its
// state, so the input is one trace of Stats aggregates; it names no
// destination. An average of 0 ms with replies is stored as
// TracertSubMsRTTMs (the figures are truncated, not rounded).

var (
	mtrSplitRe  = regexp.MustCompile(`^(\d{1,3}) (\S+)(?: (\S+))? (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$`)
	mtrSplitNil = regexp.MustCompile(`^(\d{1,3}) \?\?\?$`)
	mtrSplitDel = regexp.MustCompile(`^-(\d{1,3})$`)
)

// detectMtrSplit: the first lines are all split lines, and at least two
// carry figures.
func detectMtrSplit(head []byte) bool {
	n := 0
	for _, l := range headLines(head, 8) {
		s := strings.TrimRight(l, "\r")
		switch {
		case s == "":
		case mtrSplitRe.MatchString(s):
			n++
		case mtrSplitNil.MatchString(s), mtrSplitDel.MatchString(s):
		default:
			return false
		}
	}
	return n >= 2
}

func parseMtrSplit(r *bufio.Reader, input string, yield func(*Trace, error) bool) {
	b := newTraceBuilder(r, "mtr-split", input, yield)
	b.noSplit = true // hop 1 again is an update, not a new trace
	b.each(func(line string) error { return mtrSplitLine(b, strings.TrimSpace(line)) })
	b.finish()
}

func mtrSplitLine(b *traceBuilder, s string) error {
	if s == "" {
		return nil
	}
	if m := mtrSplitDel.FindStringSubmatch(s); m != nil {
		ttl, ok := parseTTL(m[1])
		if !ok {
			return badTTL(m[1])
		}
		t := b.trace()
		t.Hops = slicesDeleteTTL(t.Hops, ttl)
		b.cur = -1
		return nil
	}
	if m := mtrSplitNil.FindStringSubmatch(s); m != nil {
		ttl, ok := parseTTL(m[1])
		if !ok {
			return badTTL(m[1])
		}
		h := b.hop(ttl)
		h.Stats, h.Probes = h.Stats[:0], nil
		h.Stats = append(h.Stats, Stats{LossPct: 100})
		return nil
	}
	m := mtrSplitRe.FindStringSubmatch(s)
	if m == nil {
		return errUnexpected(s)
	}
	ttl, ok := parseTTL(m[1])
	if !ok {
		return badTTL(m[1])
	}
	var n [6]int
	for i := range n {
		v, err := strconv.Atoi(m[4+i])
		if err != nil || v > 1e9 {
			return errUnexpected(s)
		}
		n[i] = v
	}
	loss, returned, sent, best, avg, worst := n[0], n[1], n[2], n[3], n[4], n[5]
	if loss > 100000 || returned > sent {
		return errUnexpected(s)
	}
	var r responder
	r.setHost(m[2], m[3], m[3] != "")
	st := Stats{Addr: r.addr, Name: r.name, Sent: sent, LossPct: float64(loss) / 1000}
	if returned > 0 {
		st.MinMs, st.AvgMs, st.MaxMs = float64(best), max(float64(avg), TracertSubMsRTTMs), float64(worst)
	}
	h := b.hop(ttl)
	h.Stats = append(h.Stats[:0], st)
	return nil
}

// slicesDeleteTTL removes the hop numbered ttl, if any.
func slicesDeleteTTL(hops []Hop, ttl int) []Hop {
	for i := range hops {
		if hops[i].TTL == ttl {
			return append(hops[:i], hops[i+1:]...)
		}
	}
	return hops
}
