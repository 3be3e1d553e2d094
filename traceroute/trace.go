package traceroute

import (
	"net/netip"
	"time"
)

// Format names a traceroute output format. The zero value means "detect".
const (
	FormatGeoloc = "geoloc" // the interchange JSON Lines of this package
)

// Trace is one traceroute run: from a source towards a destination, hop by hop.
// Saved traces parsed from any tool's output and live traces produced by the
// tracer are the same value, so everything downstream works on both.
type Trace struct {
	// Format names the tool output the trace was read from ("linux-traceroute",
	// "ripe-atlas", ...), or "geoloc" for traces made by this package's tracer.
	Format      string    `json:"format,omitempty"`
	Source      Endpoint  `json:"source,omitzero"`
	Destination Endpoint  `json:"destination,omitzero"`
	Protocol    string    `json:"protocol,omitempty"` // "icmp", "udp", "tcp", lower case
	Started     time.Time `json:"started,omitzero"`
	// Error is a trace-level error the tool reported (RIPE Atlas "error" results,
	// for example). A trace with an error may still carry hops.
	Error string `json:"error,omitempty"`
	Hops  []Hop  `json:"hops"`
}

// Endpoint is the source or destination of a trace. Every field is optional.
type Endpoint struct {
	Addr netip.Addr `json:"addr,omitzero"`
	Name string     `json:"name,omitempty"`
	// Lat and Lon are in degrees (WGS84); nil when unknown. Only sources
	// usually carry them (a RIPE Atlas probe's position, a --from flag).
	Lat     *float64 `json:"lat,omitempty"`
	Lon     *float64 `json:"lon,omitempty"`
	ProbeID string   `json:"probe_id,omitempty"`
}

// IsZero reports whether every field of p is its zero value: what
// encoding/json's omitzero tests (it calls this), and what Encoder and
// output.AppendJSON leave out.
func (p Endpoint) IsZero() bool {
	return p.Addr == (netip.Addr{}) && p.Name == "" && p.Lat == nil && p.Lon == nil && p.ProbeID == ""
}

// HasLocation reports whether both Lat and Lon are set.
func (e Endpoint) HasLocation() bool { return e.Lat != nil && e.Lon != nil }

// Hop is one TTL of a trace. A hop carries either single probes (Probes), as
// traceroute prints them, or per-address aggregates (Stats), as mtr prints
// them; parsers never invent probes from aggregates.
type Hop struct {
	TTL    int     `json:"ttl"`
	Probes []Probe `json:"probes,omitempty"`
	Stats  []Stats `json:"stats,omitempty"`
}

// Probe is one probe sent at a hop: either a reply (Addr, RTTMs) or lost.
// Several probes of one hop may come from different addresses (ECMP).
type Probe struct {
	Addr netip.Addr `json:"addr,omitzero"`
	Name string     `json:"name,omitempty"` // PTR name as the output printed it
	// RTTMs is the round-trip time in milliseconds. It is meaningful only when
	// Lost is false; the interchange JSON writes rtt_ms exactly then.
	RTTMs float64 `json:"rtt_ms"`
	Lost  bool    `json:"lost,omitempty"`
	ASN   uint32  `json:"asn,omitempty"`
	// Flags are ICMP annotations as traceroute prints them: "!H", "!N", "!P",
	// "!X", "!<n>" (numeric code), "!F", "!S", "!A", "!Z", "!Q", "!T", "!U",
	// "!V", "!C", and tool-specific ones ("late" for RIPE Atlas late replies).
	Flags    []string    `json:"flags,omitempty"`
	MTU      int         `json:"mtu,omitempty"`       // "!F-<mtu>" or tracepath pmtu
	ReplyTTL int         `json:"reply_ttl,omitempty"` // IP TTL/hop limit of the reply
	MPLS     []MPLSLabel `json:"mpls,omitempty"`
	// Flow is the index of the Paris flow identifier the probe used
	// (0..TraceOptions.Flows-1 for the live tracer), so probes of one flow,
	// which per-flow load balancers keep on one path, can be told apart.
	// It is 0 when unknown or when the trace used a single flow.
	Flow int `json:"flow,omitempty"`
}

// MPLSLabel is one MPLS label stack entry (RFC 4950).
type MPLSLabel struct {
	Label uint32 `json:"label"`
	TC    uint8  `json:"tc"`
	S     bool   `json:"s"`
	TTL   uint8  `json:"ttl"`
}

// Stats is an aggregate over the probes answered by one address at one hop, as
// mtr reports it. Times are in milliseconds; zero means "not reported".
type Stats struct {
	Addr    netip.Addr  `json:"addr,omitzero"`
	Name    string      `json:"name,omitempty"`
	ASN     uint32      `json:"asn,omitempty"`
	Sent    int         `json:"sent,omitempty"`
	LossPct float64     `json:"loss_pct"`
	LastMs  float64     `json:"last_ms,omitempty"`
	MinMs   float64     `json:"min_ms,omitempty"`
	AvgMs   float64     `json:"avg_ms,omitempty"`
	MaxMs   float64     `json:"max_ms,omitempty"`
	StdevMs float64     `json:"stdev_ms,omitempty"`
	MPLS    []MPLSLabel `json:"mpls,omitempty"`
}

// MinRTTMs returns the smallest RTT in milliseconds that addr showed at this
// hop (over probes, or the aggregate's minimum), and whether there was one.
func (h *Hop) MinRTTMs(addr netip.Addr) (float64, bool) {
	best, ok := 0.0, false
	for _, p := range h.Probes {
		if p.Lost || p.Addr != addr {
			continue
		}
		if !ok || p.RTTMs < best {
			best, ok = p.RTTMs, true
		}
	}
	for _, s := range h.Stats {
		if s.Addr != addr || s.MinMs <= 0 {
			continue
		}
		if !ok || s.MinMs < best {
			best, ok = s.MinMs, true
		}
	}
	return best, ok
}

// Addrs returns the distinct responding addresses of the hop, in order of
// first appearance.
func (h *Hop) Addrs() []netip.Addr { return h.AppendAddrs(nil) }

// AppendAddrs appends the distinct responding addresses of the hop, in
// order of first appearance, to dst and returns the extended slice.
func (h *Hop) AppendAddrs(dst []netip.Addr) []netip.Addr {
	from := len(dst)
	seen := func(a netip.Addr) bool {
		for _, b := range dst[from:] {
			if a == b {
				return true
			}
		}
		return false
	}
	for _, p := range h.Probes {
		if !p.Lost && p.Addr.IsValid() && !seen(p.Addr) {
			dst = append(dst, p.Addr)
		}
	}
	for _, s := range h.Stats {
		if s.Addr.IsValid() && !seen(s.Addr) {
			dst = append(dst, s.Addr)
		}
	}
	return dst
}
