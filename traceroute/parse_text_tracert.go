package traceroute

import (
	"bufio"
	"fmt"
	"regexp"
	"strings"
)

// Windows tracert prints three time columns, then the host:
//
//	Tracing route to google.co.nz [216.58.200.99]
//	over a maximum of 30 hops:
//	  1    <1 ms    <1 ms    <1 ms  172.16.0.5
//	  3     3 ms     5 ms     2 ms  122-56-168-186.n4l.sparkdigital.co.nz [122.56.168.186]
//	  6     *        *        *     Request timed out.
//	  7  10.0.0.1  reports: Destination host unreachable.
//
// Times are whole milliseconds; "<1 ms" is stored as 0.5 ms, the middle of
// the [0, 1) interval it stands for. (rich-traceroute reads it as 0, which
// would claim a zero distance to the router; 1 would claim as much as a
// real "1 ms".) A "reports: Destination ... unreachable." line has no time:
// its probe is kept as not answered, with the reporting address and "!H",
// "!N", "!P" or "!X" as traceroute prints it.

// TracertSubMsRTTMs is the round-trip time stored for tracert's "<1 ms".
const TracertSubMsRTTMs = 0.5

var (
	tracertHeaderRe = regexp.MustCompile(`^Tracing route to (\S+)(?:\s+\[([^\]]*)\])?(?:\s+from\s+(\S+))?`)
	// A time right after the hop number: the classic grammar has a host there.
	tracertHopRe = regexp.MustCompile(`^\s*\d{1,3}\s+(?:<?\d+\s*ms|\*)\s+(?:<?\d+\s*ms|\*)\s+(?:<?\d+\s*ms|\*)\s+(?:[^*\s]\S*)$|^\s*\d{1,3}\s+<?\d+ ms\s`)
	// Localised Windows headers: "Routenverfolgung zu host [addr]",
	// "Détermination de l'itinéraire vers host [addr]", ...: some words,
	// then a name and its address in brackets.
	tracertLocalHeaderRe = regexp.MustCompile(`^[^\d\[\]]+?\s(\S+)\s+\[([0-9A-Fa-f:.]+)\]$`)
	// "Trace complete." in the languages Windows ships most.
	tracertDone = map[string]bool{
		"Trace complete.": true, "Ablaufverfolgung beendet.": true, "Itinéraire déterminé.": true,
		"Traza completa.": true, "Rilevazione della route completata.": true, "Rastreamento concluído.": true,
		"Trace voltooid.": true, "Трассировка завершена.": true,
	}
	tracertReports = map[string]string{
		"host": "!H", "net": "!N", "network": "!N", "protocol": "!P", "port": "!P",
	}
)

func parseTracert(r *bufio.Reader, input string, yield func(*Trace, error) bool) {
	b := newTraceBuilder(r, "windows-tracert", input, yield)
	b.protocol = "icmp" // the only probe windows-tracert sends
	b.each(func(line string) error { return tracertLine(b, line) })
	b.finish()
}

func tracertLine(b *traceBuilder, line string) (err error) {
	s := strings.TrimSpace(line)
	switch {
	case s == "", tracertDone[s], strings.HasPrefix(s, "over a maximum of"), isCommandEcho(s):
		return nil
	}
	if m := tracertHeaderRe.FindStringSubmatch(s); m != nil {
		t := b.newTrace()
		setDestination(t, m[1], m[2])
		if a, ok := parseHostAddr(m[3]); ok {
			t.Source.Addr = a
		}
		return nil
	}
	if strings.HasPrefix(s, "from ") && strings.Contains(s, " over a maximum of") {
		// IPv6: "from 2001:db8::1 over a maximum of 30 hops:"
		if a, ok := parseHostAddr(strings.Fields(s)[1]); ok && b.has() {
			b.trace().Source.Addr = a
		}
		return nil
	}
	toks := strings.Fields(s)
	ttl, ok := parseTTL(toks[0])
	if !ok {
		if b.has() && len(b.trace().Hops) == 0 && strings.HasSuffix(s, ":") && strings.ContainsAny(s, "0123456789") {
			// The localised "over a maximum of 30 hops:" under a header.
			return nil
		}
		if m := tracertLocalHeaderRe.FindStringSubmatch(s); m != nil {
			if _, isAddr := parseHostAddr(m[2]); isAddr {
				setDestination(b.newTrace(), m[1], m[2])
				return nil
			}
		}
		if isDigits(toks[0]) {
			return badTTL(toks[0])
		}
		return fmt.Errorf("unexpected line %q", clip(s))
	}
	h := b.hop(ttl)
	start := len(h.Probes)
	defer func() {
		if err != nil {
			// A bad line adds nothing: undo its probes and its new hop.
			clear(h.Probes[start:])
			h.Probes = h.Probes[:start]
			if start == 0 {
				h.Probes = nil
			}
			b.dropCurIfEmpty()
		}
	}()
	i := 1
	for i < len(toks) {
		t := toks[i]
		if t == "*" {
			h.Probes = append(h.Probes, Probe{Lost: true})
			i++
			continue
		}
		num, glued := strings.CutSuffix(t, "ms")
		if !glued {
			if i+1 >= len(toks) || toks[i+1] != "ms" {
				break
			}
		}
		less := strings.HasPrefix(num, "<")
		v, ok := parseMs(strings.TrimPrefix(num, "<"))
		if !ok {
			break
		}
		if less {
			if v != 1 {
				return fmt.Errorf("unexpected time %q", t)
			}
			v = TracertSubMsRTTMs
		}
		h.Probes = append(h.Probes, Probe{RTTMs: v})
		i++
		if !glued {
			i++
		}
	}
	probes := h.Probes[start:]
	answered := false
	for _, p := range probes {
		answered = answered || !p.Lost
	}
	rest := toks[i:]
	if len(rest) == 0 {
		if answered {
			return fmt.Errorf("no host after the times in %q", clip(s))
		}
		if len(probes) == 0 {
			return fmt.Errorf("nothing after the hop number in %q", clip(s))
		}
		return nil
	}
	var resp responder
	switch {
	case len(rest) >= 2 && strings.HasPrefix(rest[1], "[") && strings.HasSuffix(rest[1], "]"):
		resp.setHost(rest[0], rest[1][1:len(rest[1])-1], true)
		rest = rest[2:]
	default:
		a, ok := parseHostAddr(strings.TrimSuffix(rest[0], "."))
		if !ok {
			if answered {
				return fmt.Errorf("unexpected host %q", clip(rest[0]))
			}
			// "Request timed out." in any language.
			return nil
		}
		resp.addr = a
		rest = rest[1:]
	}
	flag := ""
	if len(rest) > 0 {
		if rest[0] != "reports:" {
			return fmt.Errorf("unexpected %q after the host", clip(strings.Join(rest, " ")))
		}
		flag = "!X"
		if len(rest) >= 3 {
			if f, ok := tracertReports[strings.ToLower(rest[2])]; ok {
				flag = f
			}
		}
	}
	for k := range probes {
		p := &probes[k]
		if p.Lost {
			continue
		}
		p.Addr, p.Name = resp.addr, resp.name
		if flag != "" {
			p.Flags = append(p.Flags, flag)
		}
	}
	if flag != "" && !answered {
		pr := resp.probe(0)
		pr.Lost, pr.Flags = true, []string{flag}
		h.Probes = append(h.Probes, pr)
	}
	return nil
}

func detectTracert(head []byte) bool {
	for _, l := range headLines(head, 12) {
		s := strings.TrimSpace(l)
		if tracertHeaderRe.MatchString(s) || tracertHopRe.MatchString(l) || strings.HasSuffix(s, "*        *        *     Request timed out.") {
			return true
		}
	}
	return false
}
