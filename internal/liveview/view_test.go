package liveview

import (
	"context"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// updating reports -update, the flag that rewrites golden files. teatest's
// golden package defines it for the whole test binary; it is looked up,
// not defined again.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func a(s string) netip.Addr { return netip.MustParseAddr(s) }

var (
	dstV4 = a("203.0.113.9")
	dstV6 = a("2001:db8:9::9")
	gw    = a("192.0.2.1")
	fra1  = a("198.51.100.1")
	fra2  = a("198.51.100.2")
	ams   = a("198.51.100.7")
	local = a("fd00::2")
)

// rounds are three rounds to 203.0.113.9: hop 2 is an ECMP pair with an
// MPLS label, hop 3 never answers, hop 4 sends !H once, the destination
// loses a probe.
func rounds() []*traceroute.Trace {
	mk := func(i int) *traceroute.Trace {
		t := &traceroute.Trace{Format: traceroute.FormatGeoloc, Source: traceroute.Endpoint{Addr: gw}, Destination: traceroute.Endpoint{Addr: dstV4, Name: "example.org"}, Protocol: "icmp"}
		f := float64(i)
		p2 := traceroute.Probe{Addr: fra1, Name: "ae-1.r01.frnkge13.de.bb.example.net", RTTMs: 9.8 + f, MPLS: []traceroute.MPLSLabel{{Label: 24001, S: true, TTL: 1}}}
		if i == 1 {
			p2 = traceroute.Probe{Addr: fra2, Name: "ae-2.r02.frnkge13.de.bb.example.net", RTTMs: 10.4}
		}
		p4 := traceroute.Probe{Addr: ams, Name: "be3.agr21.ams03.atlas.example.com", RTTMs: 16.2 + f/2}
		if i == 2 {
			p4.Flags = []string{"!H"}
		}
		p5 := traceroute.Probe{Addr: dstV4, RTTMs: 17.1 + f}
		if i == 1 {
			p5 = traceroute.Probe{Lost: true}
		}
		t.Hops = []traceroute.Hop{
			{TTL: 1, Probes: []traceroute.Probe{{Addr: gw, Name: "gw.example", RTTMs: 0.41 + f/10}}},
			{TTL: 2, Probes: []traceroute.Probe{p2}},
			{TTL: 3, Probes: []traceroute.Probe{{Lost: true}}},
			{TTL: 4, Probes: []traceroute.Probe{p4}},
			{TTL: 5, Probes: []traceroute.Probe{p5}},
		}
		return t
	}
	return []*traceroute.Trace{mk(0), mk(1), mk(2)}
}

// located stands in for the engine: fixed places for the addresses above.
func located(_ context.Context, t *traceroute.Trace) (*geoloc.TraceResult, error) {
	places := map[netip.Addr]geoloc.HopResult{
		gw:    {Location: &geoloc.Location{Lat: 52.37, Lon: 4.9, RadiusKm: 40, City: "Amsterdam", Country: "NL"}, Confidence: 0.55, Method: "neighbour", Inferred: true},
		fra1:  {ASN: 64500, ASOrg: "Example Backbone", Location: &geoloc.Location{Lat: 50.11, Lon: 8.68, RadiusKm: 10, City: "Frankfurt", Country: "DE"}, Confidence: 0.97, Method: "rdns:clli-like", Evidence: []geoloc.Evidence{{Source: "rdns:frnkge", Kind: "hint:clli-like", Lat: 50.11, Lon: 8.68, City: "Frankfurt", Country: "DE", Status: geoloc.StatusChosen}, {Source: "rdns:frnkge", Kind: "hint:clli-like", Lat: 48.18, Lon: 11.26, City: "Fürstenfeldbruck", Country: "DE", Status: geoloc.StatusUnlikely, Why: "less populous"}}},
		fra2:  {ASN: 64500, ASOrg: "Example Backbone", Location: &geoloc.Location{Lat: 50.11, Lon: 8.68, RadiusKm: 10, City: "Frankfurt", Country: "DE"}, Confidence: 0.97, Method: "rdns:clli-like"},
		ams:   {ASN: 64501, ASOrg: "Atlas Transit", Location: &geoloc.Location{Lat: 52.31, Lon: 4.76, RadiusKm: 10, City: "Amsterdam", Country: "NL"}, Confidence: 0.95, Method: "rdns:iata"},
		dstV4: {ASN: 64502, ASOrg: "Example Hosting", Location: &geoloc.Location{Lat: 51.51, Lon: -0.13, RadiusKm: 50, City: "London", Country: "GB"}, Confidence: 0.42, Method: "geoip:test"},
	}
	r := &geoloc.TraceResult{Source: t.Source, Destination: t.Destination, Protocol: t.Protocol,
		Vantage: &geoloc.Vantage{Lat: 52.37, Lon: 4.9, Name: "Amsterdam", Inferred: true}}
	for _, h := range t.Hops {
		for _, ad := range h.Addrs() {
			hr := places[ad]
			hr.TTL, hr.Addr = h.TTL, ad
			if best, ok := h.MinRTTMs(ad); ok {
				hr.RTTMs = best
			}
			r.Hops = append(r.Hops, hr)
		}
	}
	c := geoloc.Crossed(r.Hops)
	r.Countries, r.CountriesUncertain, r.Networks = c.Countries, c.Uncertain, c.Networks
	return r, nil
}

// drive feeds msg to m and runs the commands it returns (locating) to
// completion, as the Bubble Tea runtime would.
func drive(t *testing.T, m *Model, msgs ...tea.Msg) {
	t.Helper()
	for len(msgs) > 0 {
		msg := msgs[0]
		msgs = msgs[1:]
		_, cmd := m.Update(msg)
		if cmd != nil {
			if out := cmd(); out != nil {
				if _, quit := out.(tea.QuitMsg); !quit {
					msgs = append(msgs, out)
				}
			}
		}
	}
}

func key(k string) tea.Msg {
	switch k {
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	}
	return tea.KeyPressMsg{Code: rune(k[0]), Text: k}
}

func newTestModel(color bool, targets ...Target) *Model {
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	now := t0
	m := New(Options{Targets: targets, Locate: located, Color: color, Protocol: "icmp", IntervalSec: 1,
		Now: func() time.Time { now = now.Add(time.Second); return now }})
	return m
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if updating() {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create the golden frame")
	assert.Equal(t, string(want), got, "frame %s differs; go test ./internal/liveview -update rewrites it", name)
}

func TestFrames(t *testing.T) {
	v4 := Target{Addr: dstV4, Name: "example.org"}
	v6 := Target{Addr: dstV6, Name: "example.org"}
	var feed []tea.Msg
	for _, r := range rounds() {
		feed = append(feed, RoundMsg{Target: 0, Trace: r})
	}
	tests := []struct {
		name          string
		width, height int
		color         bool
		targets       []Target
		keys          []string
	}{
		{name: "wide", width: 160, height: 40, targets: []Target{v4}},
		{name: "100x30", width: 100, height: 30, targets: []Target{v4}},
		{name: "narrow-60x20", width: 60, height: 20, targets: []Target{v4}},
		{name: "color", width: 100, height: 30, color: true, targets: []Target{v4}},
		{name: "addresses", width: 100, height: 30, targets: []Target{v4}, keys: []string{"n"}},
		{name: "both", width: 120, height: 30, targets: []Target{v4}, keys: []string{"n", "n"}},
		{name: "evidence", width: 100, height: 30, targets: []Target{v4}, keys: []string{"down", "down", "e"}},
		{name: "paused", width: 100, height: 16, targets: []Target{v4}, keys: []string{"p"}},
		{name: "two-targets", width: 100, height: 30, targets: []Target{v4, v6}},
		{name: "two-targets-second", width: 100, height: 30, targets: []Target{v4, v6}, keys: []string{"tab"}},
		{name: "reset", width: 100, height: 16, targets: []Target{v4}, keys: []string{"r"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestModel(tc.color, tc.targets...)
			drive(t, m, tea.WindowSizeMsg{Width: tc.width, Height: tc.height})
			drive(t, m, feed...)
			for _, k := range tc.keys {
				drive(t, m, key(k))
			}
			frame := m.Render()
			for i, l := range strings.Split(frame, "\n") {
				assert.LessOrEqual(t, displayWidth(l), tc.width, "line %d wider than the terminal: %q", i+1, l)
			}
			assert.Equal(t, tc.height, strings.Count(frame, "\n")+1, "frame fills the terminal height")
			if !tc.color {
				// NO_COLOR: no colour escape at all (reverse video marks the
				// selection, which is not colour).
				assert.NotRegexp(t, `\x1b\[[0-9;]*[34][0-9]m`, frame)
				assert.NotRegexp(t, `\x1b\[[0-9;]*[12]m`, frame, "nor bold or faint")
			} else {
				assert.Regexp(t, `\x1b\[[0-9;]*3[0-9]m`, frame)
			}
			golden(t, "frame-"+tc.name, frame)
		})
	}
}

// TestNothingAnswers: a path where nothing answers shows a * row per TTL,
// not a bare header.
func TestNothingAnswers(t *testing.T) {
	m := newTestModel(false, Target{Addr: dstV4})
	tr := &traceroute.Trace{Destination: traceroute.Endpoint{Addr: dstV4}}
	for ttl := 1; ttl <= 4; ttl++ {
		tr.Hops = append(tr.Hops, traceroute.Hop{TTL: ttl, Probes: []traceroute.Probe{{Lost: true}}})
	}
	drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 12}, RoundMsg{Target: 0, Trace: tr})
	golden(t, "frame-silent", m.Render())
}

// TestLocalHostUnreachable: a !H from the machine's own address at TTL 1
// shows its flag, so it does not pass for a slow first hop.
func TestLocalHostUnreachable(t *testing.T) {
	m := newTestModel(false, Target{Addr: dstV6})
	tr := &traceroute.Trace{Destination: traceroute.Endpoint{Addr: dstV6}, Hops: []traceroute.Hop{{TTL: 1, Probes: []traceroute.Probe{{Addr: local, RTTMs: 3000, Flags: []string{"!H"}}}}}}
	drive(t, m, tea.WindowSizeMsg{Width: 80, Height: 8}, RoundMsg{Target: 0, Trace: tr})
	f := m.Render()
	assert.Contains(t, f, "fd00::2")
	assert.Regexp(t, `fd00::2 .* !H`, f)
}

func TestKeys(t *testing.T) {
	var pauses []bool
	m := newTestModel(false, Target{Addr: dstV4}, Target{Addr: dstV6})
	m.opts.Pause = func(p bool) { pauses = append(pauses, p) }
	drive(t, m, tea.WindowSizeMsg{Width: 100, Height: 30})
	drive(t, m, key("space"))
	assert.True(t, m.paused)
	// Rounds arriving while paused are not counted.
	drive(t, m, RoundMsg{Target: 0, Trace: rounds()[0]})
	assert.Zero(t, m.targets[0].path.Rounds)
	drive(t, m, key("p"))
	assert.Equal(t, []bool{true, false}, pauses)
	drive(t, m, RoundMsg{Target: 0, Trace: rounds()[0]})
	assert.Equal(t, 1, m.targets[0].path.Rounds)
	require.NotNil(t, m.targets[0].result, "a round with new addresses is located")

	drive(t, m, key("n"), key("n"), key("n"))
	assert.Equal(t, ShowNames, m.names, "n cycles names, addresses, both")
	drive(t, m, key("right"))
	assert.Equal(t, 1, m.cur)
	drive(t, m, key("right"))
	assert.Equal(t, 0, m.cur, "switching wraps around")
	drive(t, m, key("2"))
	assert.Equal(t, 1, m.cur)
	drive(t, m, key("r"))
	assert.Zero(t, m.targets[0].path.Rounds)
	assert.Nil(t, m.targets[0].result)
	_, cmd := m.Update(key("q"))
	require.NotNil(t, cmd)
	_, isQuit := cmd().(tea.QuitMsg)
	assert.True(t, isQuit)
}

// TestArgumentOrder: targets stay in the order given, whichever finishes
// first.
func TestArgumentOrder(t *testing.T) {
	m := newTestModel(false, Target{Addr: dstV6, Name: "b"}, Target{Addr: dstV4, Name: "a"})
	drive(t, m, tea.WindowSizeMsg{Width: 100, Height: 20}, RoundMsg{Target: 1, Trace: rounds()[0]})
	f := m.Render()
	assert.Less(t, strings.Index(f, "1 b"), strings.Index(f, "2 a"))
	assert.Zero(t, m.Paths()[0].Rounds)
	assert.Equal(t, 1, m.Paths()[1].Rounds)
	assert.Nil(t, m.Results()[0])
	assert.NotNil(t, m.Results()[1])
}

func displayWidth(s string) int { return ansi.StringWidth(s) }
