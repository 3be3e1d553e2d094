package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// looksLikeResults reports whether head, the start of an input, holds
// geoloc's own results, as regeo writes them (JSON Lines) or -o x.json does
// (an indented array), rather than a traceroute: the first hop of a result
// has "addr" right after "ttl", where a trace in the interchange format
// has "probes".
func looksLikeResults(head []byte) bool {
	s := bytes.TrimLeft(head, " \t\r\n")
	if len(s) == 0 || (s[0] != '{' && s[0] != '[') {
		return false
	}
	i := bytes.Index(s, []byte(`"hops"`))
	if i < 0 {
		return false
	}
	rest := s[i+len(`"hops"`):]
	for _, want := range []string{":", "[", "{", `"ttl"`, ":"} {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if !bytes.HasPrefix(rest, []byte(want)) {
			return false
		}
		rest = rest[len(want):]
	}
	rest = bytes.TrimLeft(bytes.TrimLeft(rest, " \t\r\n"), "0123456789")
	rest = bytes.TrimLeft(rest, " \t\r\n")
	if !bytes.HasPrefix(rest, []byte(",")) {
		return false
	}
	return bytes.HasPrefix(bytes.TrimLeft(rest[1:], " \t\r\n"), []byte(`"addr"`))
}

// maxResultArrayBytes caps a results array read whole (-o x.json).
const maxResultArrayBytes = 1 << 30

// readResultArray reads a JSON array of results (what -o x.json writes);
// a bad element is reported as FILE:LINE and skipped.
func readResultArray(br *bufio.Reader, name string, errw io.Writer) ([]*geoloc.TraceResult, int) {
	data, err := io.ReadAll(io.LimitReader(br, maxResultArrayBytes+1))
	if err != nil {
		fmt.Fprintf(errw, "%s: %v\n", name, err)
		return nil, 1
	}
	if len(data) > maxResultArrayBytes {
		fmt.Fprintf(errw, "%s:1: results: JSON array over %d MB; write JSON Lines (-o x.jsonl) for batches this size\n", name, maxResultArrayBytes>>20)
		return nil, 1
	}
	lineAt := func(off int64) int { return 1 + bytes.Count(data[:min(int(off), len(data))], []byte("\n")) }
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // [
		fmt.Fprintf(errw, "%s:1: results: %v\n", name, err)
		return nil, 1
	}
	var out []*geoloc.TraceResult
	bad := 0
	for dec.More() {
		start := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			fmt.Fprintf(errw, "%s:%d: results: %v (the rest of the array is unreadable)\n", name, lineAt(dec.InputOffset()), err)
			return out, bad + 1
		}
		line := lineAt(start)
		if i := bytes.IndexByte(data[start:], '{'); i >= 0 {
			line = lineAt(start + int64(i))
		}
		var tr geoloc.TraceResult
		switch err := json.Unmarshal(raw, &tr); {
		case err != nil:
			fmt.Fprintf(errw, "%s:%d: results: %v\n", name, line, err)
			bad++
		case tr.Hops == nil:
			fmt.Fprintf(errw, "%s:%d: results: no \"hops\": not a geoloc result\n", name, line)
			bad++
		default:
			if verr := checkResult(&tr); verr != nil {
				fmt.Fprintf(errw, "%s:%d: results: %v (not as geoloc writes it; skipped)\n", name, line, verr)
				bad++
				continue
			}
			out = append(out, &tr)
		}
	}
	if _, err := dec.Token(); err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(errw, "%s:%d: results: %v\n", name, lineAt(dec.InputOffset()), err)
		bad++
	}
	return out, bad
}

// resultTrace turns a located result back into the trace it came from,
// for regeo to locate again (new databases, a vantage point): one probe per
// responding address carrying its best RTT, a lost probe for a TTL no one
// answered. An address whose RTT the result does not know gets no probe
// RTT (a zero RTT would place it at the vantage point): it is kept as an
// aggregate without a minimum.
func resultTrace(r *geoloc.TraceResult) *traceroute.Trace {
	t := &traceroute.Trace{Format: r.Format, Source: r.Source, Destination: r.Destination, Protocol: r.Protocol, Started: r.Started}
	hops := slices.Clone(r.Hops)
	slices.SortStableFunc(hops, func(a, b geoloc.HopResult) int { return a.TTL - b.TTL })
	for _, h := range hops {
		if h.TTL < 1 {
			continue
		}
		for len(t.Hops) == 0 || t.Hops[len(t.Hops)-1].TTL < h.TTL {
			next := 1
			if n := len(t.Hops); n > 0 {
				next = t.Hops[n-1].TTL + 1
			}
			hop := traceroute.Hop{TTL: next}
			if next < h.TTL {
				hop.Probes = []traceroute.Probe{{Lost: true}}
			}
			t.Hops = append(t.Hops, hop)
		}
		th := &t.Hops[len(t.Hops)-1]
		if !h.Addr.IsValid() {
			continue
		}
		if h.RTTMs > 0 {
			th.Probes = append(th.Probes, traceroute.Probe{Addr: h.Addr, Name: h.Name, RTTMs: h.RTTMs, ASN: h.ASN})
		} else {
			th.Stats = append(th.Stats, traceroute.Stats{Addr: h.Addr, Name: h.Name, ASN: h.ASN})
		}
	}
	for i := range t.Hops {
		if len(t.Hops[i].Probes) == 0 && len(t.Hops[i].Stats) == 0 {
			t.Hops[i].Probes = []traceroute.Probe{{Lost: true}}
		}
	}
	return t
}

// errWriter hands each line written to it to fn, without its newline.
type errWriter struct{ fn func(string) }

func (w errWriter) Write(p []byte) (int, error) {
	for l := range strings.Lines(string(p)) {
		w.fn(strings.TrimRight(l, "\n"))
	}
	return len(p), nil
}
