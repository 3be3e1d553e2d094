package traceroute

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// FormatGlobalping names Globalping measurement objects.
const FormatGlobalping = "globalping"

// Globalping measurement objects, as GET https://api.globalping.io/v1/measurements/{id}
// returns them (https://globalping.io/docs/api.globalping.io): one object
// per measurement, or several (JSON Lines, an array, or concatenated). A
// measurement holds one test per probe, and each test becomes a trace:
//
//   - Source: the probe's "latitude" and "longitude" (the probe is a known
//     vantage point), named "City, CC, ASn". Globalping publishes neither
//     the probe's address nor an id.
//   - Destination: the test's "resolvedAddress" (probes may resolve a name
//     differently), named by the measurement's "target" unless that is an
//     address. Started is "createdAt"; Protocol is measurementOptions'
//     "protocol" (ICMP by default).
//   - traceroute: hops[i] is TTL i+1; each of its "timings" is a Probe
//     from the hop's "resolvedAddress", named "resolvedHostname" when that
//     is more than the address. A hop without an address or timings is
//     silent: it gets as many lost probes as the trace's busiest hop has
//     timings.
//   - mtr: hops[i] is TTL i+1 with one Stats aggregate ("stats": min, avg,
//     max, stDev, total, loss; the first of "asn").
//   - ping: one hop of the destination, its "timings" the probes (with
//     their reply "ttl"); the hop's TTL is estimated from the reply TTL as
//     for RIPE Atlas pings. A ping with no reply has "total" lost probes.
//   - A test whose "status" is "failed", "offline" or "in-progress" gives a
//     trace with Trace.Error saying so (and whatever hops it has).
//
// dns and http measurements carry no path: each is one error.

func detectGlobalping(head []byte) bool {
	f, ok := peekFirstObject(head)
	if !ok {
		return false
	}
	// RIPE Atlas results have neither "results" nor "probesCount"; its
	// measurement descriptions have "result" (a URL), not "results".
	return f.has("probesCount") || (f.has("results") && f.has("target") && f.has("status"))
}

func parseGlobalping(br *bufio.Reader, input string, yield func(*Trace, error) bool) {
	jsonRecordsLoop(br, input, FormatGlobalping, func(val []byte, _ int, emit func(*Trace) bool) error {
		return decodeGlobalping(val, emit)
	}, yield)
}

type gpMeasurement struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Status    string `json:"status"`
	CreatedAt string `json:"createdAt"`
	Target    string `json:"target"`
	Options   *struct {
		Protocol string `json:"protocol"`
	} `json:"measurementOptions"`
	Results []struct {
		Probe  gpProbe `json:"probe"`
		Result gpTest  `json:"result"`
	} `json:"results"`
}

type gpProbe struct {
	Country   string   `json:"country"`
	City      string   `json:"city"`
	ASN       int64    `json:"asn"`
	Latitude  *float64 `json:"latitude"`
	Longitude *float64 `json:"longitude"`
}

type gpTest struct {
	Status          string          `json:"status"`
	RawOutput       string          `json:"rawOutput"`
	ResolvedAddress *string         `json:"resolvedAddress"`
	Hops            json.RawMessage `json:"hops"`
	Timings         json.RawMessage `json:"timings"`
	Stats           *gpStats        `json:"stats"`
}

type gpHop struct {
	ResolvedAddress  *string    `json:"resolvedAddress"`
	ResolvedHostname *string    `json:"resolvedHostname"`
	ASN              []int64    `json:"asn"`
	Timings          []gpTiming `json:"timings"`
	Stats            *gpStats   `json:"stats"`
}

type gpTiming struct {
	RTT *float64 `json:"rtt"`
	TTL *float64 `json:"ttl"`
}

type gpStats struct {
	Min   *float64 `json:"min"`
	Avg   *float64 `json:"avg"`
	Max   *float64 `json:"max"`
	StDev *float64 `json:"stDev"`
	Total *float64 `json:"total"`
	Rcv   *float64 `json:"rcv"`
	Loss  *float64 `json:"loss"`
}

func decodeGlobalping(val []byte, emit func(*Trace) bool) error {
	var m gpMeasurement
	if err := json.Unmarshal(val, &m); err != nil {
		return err
	}
	switch {
	case m.Type == "" || m.ID == "" && m.Target == "":
		return errors.New(`not a Globalping measurement (want "id", "type", "target" and "results")`)
	}
	switch m.Type {
	case "ping", "traceroute", "mtr":
	default:
		return fmt.Errorf("measurement %s of type %q carries no path (want ping, traceroute or mtr)", m.ID, m.Type)
	}
	var started time.Time
	if m.CreatedAt != "" {
		ts, err := time.Parse(time.RFC3339Nano, m.CreatedAt)
		if err != nil {
			return fmt.Errorf("createdAt %q: %v", m.CreatedAt, err)
		}
		if ts.Unix() <= maxUnixSec && ts.Unix() > 0 {
			started = ts.UTC()
		}
	}
	proto := "icmp"
	if m.Options != nil && m.Options.Protocol != "" {
		proto = lowerProto([]byte(m.Options.Protocol))
	}
	var dstName string
	if _, err := netip.ParseAddr(m.Target); err != nil {
		dstName = m.Target
	}
	var bad []string
	for i := range m.Results {
		r := &m.Results[i]
		t := &Trace{Format: FormatGlobalping, Protocol: proto, Started: started}
		t.Source = gpSource(r.Probe)
		t.Destination.Name = dstName
		if err := gpFill(t, m.Type, &r.Result); err != nil {
			bad = append(bad, fmt.Sprintf("results[%d]: %v", i, err))
			continue
		}
		if !emit(t) {
			return nil
		}
	}
	switch len(bad) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("measurement %s: %s", m.ID, bad[0])
	}
	return fmt.Errorf("measurement %s: %s (and %d more bad results)", m.ID, bad[0], len(bad)-1)
}

// gpSource is the probe as the trace's known vantage point.
func gpSource(p gpProbe) Endpoint {
	var e Endpoint
	var parts []string
	if p.City != "" {
		parts = append(parts, p.City)
	}
	if p.Country != "" {
		parts = append(parts, p.Country)
	}
	if p.ASN > 0 {
		parts = append(parts, "AS"+strconv.FormatInt(p.ASN, 10))
	}
	e.Name = strings.Join(parts, ", ")
	if p.Latitude != nil && p.Longitude != nil {
		lat, lon := *p.Latitude, *p.Longitude
		if lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
			e.Lat, e.Lon = &lat, &lon
		}
	}
	return e
}

// gpAddr parses an address field; null or "" is none.
func gpAddr(field string, s *string) (netip.Addr, error) {
	if s == nil || *s == "" {
		return netip.Addr{}, nil
	}
	a, err := parseAddrBytes([]byte(*s))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%s %q: %v", field, *s, err)
	}
	return a, nil
}

// gpRTT is a usable round-trip time.
func gpRTT(v *float64) (float64, bool) {
	if v == nil || !(*v >= 0) || math.IsInf(*v, 0) {
		return 0, false
	}
	return *v, true
}

func gpFill(t *Trace, typ string, r *gpTest) error {
	switch r.Status {
	case "finished", "":
	case "failed":
		t.Error = "test failed" + gpLastLine(r.RawOutput)
	case "offline":
		t.Error = "probe offline"
	case "in-progress":
		t.Error = "test still in progress"
	default:
		t.Error = "test status " + strconv.Quote(r.Status)
	}
	dst, err := gpAddr("resolvedAddress", r.ResolvedAddress)
	if err != nil {
		return err
	}
	t.Destination.Addr = dst
	switch typ {
	case "ping":
		return gpPing(t, r)
	}
	if len(r.Hops) == 0 || string(r.Hops) == "null" {
		return nil
	}
	var hops []gpHop
	if err := json.Unmarshal(r.Hops, &hops); err != nil {
		return fmt.Errorf("hops: %v", err)
	}
	if len(hops) > 255 {
		return fmt.Errorf("%d hops, more than the 255 TTLs there are", len(hops))
	}
	busiest := 1
	for _, h := range hops {
		busiest = max(busiest, len(h.Timings))
	}
	for i, gh := range hops {
		a, err := gpAddr(fmt.Sprintf("hops[%d].resolvedAddress", i), gh.ResolvedAddress)
		if err != nil {
			return err
		}
		name := ""
		if gh.ResolvedHostname != nil && *gh.ResolvedHostname != "" && (!a.IsValid() || *gh.ResolvedHostname != a.String()) {
			if _, err := netip.ParseAddr(*gh.ResolvedHostname); err != nil {
				name = *gh.ResolvedHostname
			}
		}
		h := Hop{TTL: i + 1}
		if typ == "mtr" {
			st := Stats{Addr: a, Name: name}
			if len(gh.ASN) > 0 && gh.ASN[0] > 0 && gh.ASN[0] <= math.MaxUint32 {
				st.ASN = uint32(gh.ASN[0])
			}
			if s := gh.Stats; s != nil {
				if v, ok := gpRTT(s.Total); ok && v < math.MaxInt32 {
					st.Sent = int(v)
				}
				if v, ok := gpRTT(s.Loss); ok && v <= 100 {
					st.LossPct = v
				}
				st.MinMs, _ = gpRTT(s.Min)
				st.AvgMs, _ = gpRTT(s.Avg)
				st.MaxMs, _ = gpRTT(s.Max)
				st.StdevMs, _ = gpRTT(s.StDev)
			}
			if !a.IsValid() {
				st.MinMs, st.AvgMs, st.MaxMs, st.StdevMs, st.LossPct = 0, 0, 0, 0, 100
			}
			h.Stats = []Stats{st}
			t.Hops = append(t.Hops, h)
			continue
		}
		for _, tm := range gh.Timings {
			rtt, ok := gpRTT(tm.RTT)
			if !a.IsValid() || !ok {
				h.Probes = append(h.Probes, Probe{Lost: true})
				continue
			}
			h.Probes = append(h.Probes, Probe{Addr: a, Name: name, RTTMs: rtt})
		}
		if len(h.Probes) == 0 {
			for range busiest {
				h.Probes = append(h.Probes, Probe{Lost: true})
			}
		}
		t.Hops = append(t.Hops, h)
	}
	return nil
}

func gpPing(t *Trace, r *gpTest) error {
	if !t.Destination.Addr.IsValid() {
		return nil // nothing was pinged (name did not resolve, test failed)
	}
	var timings []gpTiming
	if len(r.Timings) > 0 && string(r.Timings) != "null" {
		if err := json.Unmarshal(r.Timings, &timings); err != nil {
			return fmt.Errorf("timings: %v", err)
		}
	}
	h := Hop{TTL: 1}
	maxReply := 0
	for _, tm := range timings {
		rtt, ok := gpRTT(tm.RTT)
		if !ok {
			h.Probes = append(h.Probes, Probe{Lost: true})
			continue
		}
		p := Probe{Addr: t.Destination.Addr, RTTMs: rtt}
		if tm.TTL != nil && *tm.TTL > 0 && *tm.TTL < 256 {
			p.ReplyTTL = int(*tm.TTL)
			maxReply = max(maxReply, p.ReplyTTL)
		}
		h.Probes = append(h.Probes, p)
	}
	if len(h.Probes) == 0 {
		n := 1
		if r.Stats != nil {
			if v, ok := gpRTT(r.Stats.Total); ok && v >= 1 && v < 256 {
				n = int(v)
			}
		}
		for range n {
			h.Probes = append(h.Probes, Probe{Lost: true})
		}
	}
	if maxReply > 0 {
		h.TTL = hopsAway(maxReply)
	}
	t.Hops = []Hop{h}
	return nil
}

// gpLastLine is ": " and the last non-blank line of a raw output (where
// the tools print why they failed), or "".
func gpLastLine(raw string) string {
	lines := strings.Split(strings.TrimSpace(raw), "\n")
	if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
		if len(l) > 200 {
			l = l[:200]
		}
		return ": " + l
	}
	return ""
}
