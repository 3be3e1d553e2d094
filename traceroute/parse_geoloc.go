package traceroute

import (
	"bufio"
	"fmt"
)

// detectGeoloc recognises the interchange JSON Lines written by Encoder: an
// object with "hops" (or "format") and no key outside the interchange's own,
// which sets it apart from RIPE Atlas results, scamper records and other
// tools' JSON.
func detectGeoloc(head []byte) bool {
	f, ok := peekFirstObject(head)
	if !ok || f.inArray || !f.has("hops", "format") {
		return false
	}
	for _, k := range f.keys {
		switch k {
		case "format", "source", "destination", "protocol", "started", "error", "hops":
		default:
			return false // another tool's JSON (jc, for one, also has "hops")
		}
	}
	return true
}

// parseGeoloc reads interchange JSON Lines back into traces, losslessly: the
// "format" field keeps naming the tool output each trace first came from.
func parseGeoloc(br *bufio.Reader, input string, yield func(*Trace, error) bool) {
	var d interchangeDecoder
	jsonRecordLoop(br, input, FormatGeoloc, func(val []byte, _ int) (*Trace, error) {
		t, err := d.decode(val)
		if err != nil {
			return nil, err
		}
		if err := validateTrace(t); err != nil {
			return nil, err
		}
		return t, nil
	}, yield)
}

// validateTrace rejects values that decode as JSON but cannot be a trace.
func validateTrace(t *Trace) error {
	for i := range t.Hops {
		h := &t.Hops[i]
		if h.TTL < 1 || h.TTL > 255 {
			return fmt.Errorf("hops[%d]: ttl %d out of range 1..255", i, h.TTL)
		}
		for j := range h.Probes {
			p := &h.Probes[j]
			if !p.Lost && p.RTTMs < 0 {
				return fmt.Errorf("hops[%d].probes[%d]: negative rtt_ms %v", i, j, p.RTTMs)
			}
			if p.Flow < 0 {
				return fmt.Errorf("hops[%d].probes[%d]: negative flow %d", i, j, p.Flow)
			}
		}
	}
	return nil
}
