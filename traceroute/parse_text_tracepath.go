package traceroute

import (
	"bufio"
	"fmt"
	"regexp"
	"strings"
)

// tracepath and tracepath6 (iputils) print one line per probe:
//
//	 1?: [LOCALHOST]                      pmtu 1500
//	 1:  _gateway (192.168.1.1)             0.874ms
//	 2:  dust.inr.ac.ru        asymm  1   0.390ms pmtu 1480
//	 3:  no reply
//	 4:  3ffe:2400:0:109::2               463.514ms reached
//	     Resume: pmtu 1480 hops 2 back 2
//
// Lines of one TTL are probes of one hop, even when a late answer comes
// back out of order. "pmtu N" on a hop line is the path MTU that probe
// learnt (Probe.MTU); "asymm N" (return path length) is not modelled;
// "reached" marks the destination, which fills Trace.Destination when no
// header named it (tracepath prints none).

var (
	tracepathRe   = regexp.MustCompile(`^\s*(\d+)(\??):\s+(.*)$`)
	tracepathRTT  = regexp.MustCompile(`^(\d+(?:\.\d+)?)ms$`)
	tracepathTail = regexp.MustCompile(`^(?:Resume|Too many hops):`)
)

func parseTracepath(r *bufio.Reader, input string, yield func(*Trace, error) bool) {
	b := newTraceBuilder(r, "tracepath", input, yield)
	b.protocol = "udp" // the only probe tracepath sends
	b.each(func(line string) error { return tracepathLine(b, line) })
	b.finish()
}

func tracepathLine(b *traceBuilder, line string) error {
	err := tracepathProbe(b, line)
	if err != nil {
		b.dropCurIfEmpty()
	}
	return err
}

func tracepathProbe(b *traceBuilder, line string) error {
	s := strings.TrimSpace(line)
	if s == "" || tracepathTail.MatchString(s) || isCommandEcho(s) {
		return nil
	}
	m := tracepathRe.FindStringSubmatch(s)
	if m == nil {
		return fmt.Errorf("unexpected line %q", clip(s))
	}
	ttl, ok := parseTTL(m[1])
	if !ok {
		return badTTL(m[1])
	}
	toks := strings.Fields(m[3])
	if toks[0] == "[LOCALHOST]" {
		// The local MTU line opens each run of tracepath.
		if b.has() && len(b.trace().Hops) > 0 {
			b.flush()
		}
		b.trace()
		return nil
	}
	h := b.hop(ttl)
	if strings.Join(toks, " ") == "no reply" || strings.HasPrefix(m[3], "send failed") {
		h.Probes = append(h.Probes, Probe{Lost: true})
		return nil
	}
	var resp responder
	i := 0
	if toks[0] == "???" {
		// Answered, but tracepath could not name the host and printed no
		// address (iputils 20221126 without -n does this).
		toks = toks[1:]
	} else if !plausibleHost(toks[0]) {
		return fmt.Errorf("unexpected host %q", clip(toks[0]))
	}
	switch {
	case len(toks) == 0 || len(toks) < len(strings.Fields(m[3])):
		// "???": no host
	case len(toks) > 1 && strings.HasPrefix(toks[1], "(") && strings.HasSuffix(toks[1], ")"):
		resp.setHost(toks[0], toks[1][1:len(toks[1])-1], true)
		i = 2
	default:
		resp.setHost(toks[0], "", false)
		i = 1
	}
	pr, hasRTT, reached := resp.probe(0), false, false
	for ; i < len(toks); i++ {
		t := toks[i]
		switch {
		case tracepathRTT.MatchString(t):
			v, ok := parseMs(strings.TrimSuffix(t, "ms"))
			if !ok || hasRTT {
				return fmt.Errorf("bad round-trip time %q", t)
			}
			pr.RTTMs, hasRTT = v, true
		case (t == "asymm" || t == "pmtu") && i+1 < len(toks):
			v, ok := parseUint(toks[i+1], 32)
			if !ok {
				return fmt.Errorf("bad %s value %q", t, toks[i+1])
			}
			if t == "pmtu" {
				pr.MTU = int(v)
			}
			i++
		case t == "reached":
			reached = true
		default:
			return fmt.Errorf("unexpected %q", clip(t))
		}
	}
	if !hasRTT {
		return fmt.Errorf("no round-trip time in %q", clip(s))
	}
	h.Probes = append(h.Probes, pr)
	if t := b.trace(); reached && !t.Destination.Addr.IsValid() && t.Destination.Name == "" {
		t.Destination.Addr, t.Destination.Name = pr.Addr, pr.Name
	}
	return nil
}

func detectTracepath(head []byte) bool {
	lines := headLines(head, 10)
	hits := 0
	for _, l := range lines {
		if m := tracepathRe.FindStringSubmatch(l); m != nil {
			if strings.Contains(m[3], "[LOCALHOST]") {
				return true
			}
			f := strings.Fields(m[3])
			if len(f) >= 2 && (tracepathRTT.MatchString(f[len(f)-1]) || m[3] == "no reply" || tracepathRTT.MatchString(f[1]) || len(f) > 2 && tracepathRTT.MatchString(f[2])) {
				hits++
			}
		}
	}
	return hits > 0 && hits*2 >= len(lines)
}
