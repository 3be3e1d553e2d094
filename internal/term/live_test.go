package term

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/geoloc-dev/geoloc/tracer"
	"github.com/geoloc-dev/geoloc/traceroute"
)

func TestLiveOneTrace(t *testing.T) {
	dst := netip.MustParseAddr("192.0.2.9")
	var b bytes.Buffer
	l := NewLive(&b, false, []netip.Addr{dst}, map[netip.Addr]string{dst: "example.test"})
	l.Every = 0
	l.Now = func() time.Time { return time.Unix(0, 0) }
	hop := func(ttl int, pending int, probes ...traceroute.Probe) tracer.HopProgress {
		return tracer.HopProgress{Destination: dst, Pending: pending, Hop: traceroute.Hop{TTL: ttl, Probes: probes}}
	}
	r1 := traceroute.Probe{Addr: netip.MustParseAddr("198.51.100.1"), RTTMs: 1.5}
	r2 := traceroute.Probe{Addr: netip.MustParseAddr("198.51.100.1"), RTTMs: 2.5}
	l.Update(hop(2, 2, r1, traceroute.Probe{Lost: true}, traceroute.Probe{Lost: true}))
	l.Update(hop(1, 0, traceroute.Probe{Lost: true}, traceroute.Probe{Lost: true}, traceroute.Probe{Lost: true}))
	l.Update(hop(2, 0, r1, r2, traceroute.Probe{Lost: true}))
	assert.Equal(t, `tracing example.test (192.0.2.9)
TTL  ADDRESS       LOSS  BEST   AVG  WORST
  1  *             100%
  2  198.51.100.1   33%  1.50  2.00   2.50
`, l.Render())
	out := b.String()
	assert.Equal(t, 2, strings.Count(out, "\x1b[3A\x1b[J")+strings.Count(out, "\x1b[4A\x1b[J"), "each redraw moves back over the last one")
	l.Done()
	assert.True(t, strings.HasSuffix(b.String(), "\x1b[4A\x1b[J"), "Done erases the live area")
}

func TestLiveManyTraces(t *testing.T) {
	a, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	var b bytes.Buffer
	l := NewLive(&b, false, []netip.Addr{a, c, a}, nil)
	l.Every = time.Hour // no redraw: Render only
	l.Update(tracer.HopProgress{Destination: a, Pending: 1, Hop: traceroute.Hop{TTL: 3, Probes: []traceroute.Probe{{Addr: a, RTTMs: 1}}}})
	assert.Equal(t, "192.0.2.1: 3 hops answered so far, 1 probes pending\n192.0.2.2: 0 hops answered so far, 0 probes pending\n", l.Render())
}
