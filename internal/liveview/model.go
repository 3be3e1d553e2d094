// Package liveview is the full-screen view of `geoloc trace` on a terminal,
// in the manner of mtr and Trippy: one row per hop (ECMP branches under
// their TTL) with rolling statistics from package hopstats, ICMP flags, MPLS
// labels, who runs each hop and where it stands, a footer with the countries
// and networks crossed so far (from the engine's countries rule), a small
// world map of the route drawn from the embedded country outlines, and keys
// to pause, reset, cycle names and addresses, switch target, show a hop's
// evidence and quit. It also prints the final statistics of --report.
//
// The view is a Bubble Tea model (charm.land/bubbletea/v2, Lip Gloss v2 for
// styles): Bubble Tea v2's cell-diffing renderer rewrites only the cells
// that changed, so refreshes do not flicker, and its frame ticker is cheap
// when nothing changed. Rendering is a pure function of the model's state
// and the terminal size, which is what the golden-frame tests pin down.
package liveview

import (
	"context"
	"net/netip"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/hopstats"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// Target is one destination traced, in the order the user named it.
type Target struct {
	Addr netip.Addr
	Name string // the host name it came from, "" for a literal address
}

// Label is "name (addr)" or "addr".
func (t Target) Label() string {
	if t.Name != "" && t.Name != t.Addr.String() {
		return t.Name + " (" + t.Addr.String() + ")"
	}
	return t.Addr.String()
}

// Locator locates a trace (the engine's Locate). It is called off the UI
// goroutine and may be called for several targets at once.
type Locator func(ctx context.Context, t *traceroute.Trace) (*geoloc.TraceResult, error)

// NameMode is what the host column shows.
type NameMode int

// Name modes, cycled with n.
const (
	ShowNames NameMode = iota // PTR name, else address
	ShowAddrs                 // address only
	ShowBoth                  // name and address
)

func (m NameMode) String() string {
	return [...]string{"names", "addresses", "names and addresses"}[m]
}

// RoundMsg delivers one finished round of one target (index into the
// targets).
type RoundMsg struct {
	Target int
	Trace  *traceroute.Trace
	Err    error
}

// LocatedMsg delivers the located path of one target.
type LocatedMsg struct {
	Target int
	Result *geoloc.TraceResult
	Err    error
	gen    int // the target's statistics generation it was computed from
}

// target is the view's state of one destination.
type target struct {
	Target
	path    hopstats.Path
	result  *geoloc.TraceResult
	lastErr string
	// located is the set of addresses of the last located path;
	// relocating happens only when it changes.
	located  []netip.Addr
	locating bool
	dirty    bool
	gen      int // bumped by reset, so stale locations are dropped
}

// Options configures a Model.
type Options struct {
	Targets []Target
	Locate  Locator // nil: hops are not located
	// Color enables styles; the caller decides (terminal, no NO_COLOR).
	Color bool
	// Pause is called with the new state when the user pauses or resumes,
	// so the prober stops sending; nil ignores it.
	Pause func(paused bool)
	// Protocol and IntervalSec are shown in the title.
	Protocol    string
	IntervalSec float64
	// Now is the clock for the elapsed time; nil means time.Now.
	Now func() time.Time
}

// Model is the live view's state. Use New; drive it with RoundMsg and
// LocatedMsg (Program.Send) and key and window-size messages.
type Model struct {
	opts     Options
	targets  []*target
	cur      int // current target
	paused   bool
	names    NameMode
	evidence bool // the evidence pane replaces the map
	showMap  bool
	sel      int // selected row (responder) of the current target, -1 none
	width    int
	height   int
	started  time.Time
	quitting bool
	outlines *outlines // the map's country rings, decoded on first use
	land     *landCache
}

// New returns a model for the given targets, in argument order.
func New(opts Options) *Model {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Model{opts: opts, showMap: true, sel: -1, width: 80, height: 24, started: opts.Now()}
	for _, t := range opts.Targets {
		m.targets = append(m.targets, &target{Target: t})
	}
	return m
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd { return nil }

// Paths returns the statistics of every target, in argument order.
func (m *Model) Paths() []*hopstats.Path {
	out := make([]*hopstats.Path, len(m.targets))
	for i, t := range m.targets {
		out[i] = &t.path
	}
	return out
}

// Results returns the last located result of every target (nil where none
// yet), in argument order.
func (m *Model) Results() []*geoloc.TraceResult {
	out := make([]*geoloc.TraceResult, len(m.targets))
	for i, t := range m.targets {
		out[i] = t.result
	}
	return out
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.KeyPressMsg:
		return m, m.key(msg.String())
	case RoundMsg:
		return m, m.round(msg)
	case LocatedMsg:
		return m, m.locatedMsg(msg)
	}
	return m, nil
}

func (m *Model) key(k string) tea.Cmd {
	switch k {
	case "q", "ctrl+c", "esc":
		if k == "esc" && m.evidence {
			m.evidence = false
			return nil
		}
		m.quitting = true
		return tea.Quit
	case "p", "space", " ":
		m.paused = !m.paused
		if m.opts.Pause != nil {
			m.opts.Pause(m.paused)
		}
	case "r":
		// Reset every target: the numbers on screen mean "since the
		// reset" for all of them, as in mtr.
		for _, t := range m.targets {
			t.path.Reset()
			t.gen++
			t.result, t.located = nil, nil
		}
	case "n":
		m.names = (m.names + 1) % 3
	case "m":
		m.showMap = !m.showMap
	case "e", "enter":
		if m.sel < 0 {
			m.sel = 0
		}
		m.evidence = !m.evidence
	case "tab", "right", "l":
		m.switchTo(m.cur + 1)
	case "shift+tab", "left", "h":
		m.switchTo(m.cur - 1)
	case "down", "j":
		m.sel = min(m.sel+1, max(len(m.rows(m.targets[m.cur]))-1, 0))
	case "up", "k":
		m.sel = max(m.sel-1, 0)
	default:
		if len(k) == 1 && k[0] >= '1' && k[0] <= '9' {
			if i := int(k[0] - '1'); i < len(m.targets) {
				m.switchTo(i)
			}
		}
	}
	return nil
}

func (m *Model) switchTo(i int) {
	n := len(m.targets)
	if n == 0 {
		return
	}
	m.cur = ((i % n) + n) % n
	m.sel = -1
	m.evidence = false
}

func (m *Model) round(msg RoundMsg) tea.Cmd {
	if msg.Target < 0 || msg.Target >= len(m.targets) {
		return nil
	}
	t := m.targets[msg.Target]
	if msg.Err != nil {
		t.lastErr = msg.Err.Error()
	} else {
		t.lastErr = ""
	}
	if m.paused || msg.Trace == nil {
		return nil
	}
	t.path.Add(msg.Trace)
	return m.maybeLocate(msg.Target)
}

// maybeLocate starts locating target i when its set of addresses changed
// since the last location and no location is running.
func (m *Model) maybeLocate(i int) tea.Cmd {
	t := m.targets[i]
	if m.opts.Locate == nil {
		return nil
	}
	addrs := pathAddrs(&t.path)
	if t.result != nil && slices.Equal(addrs, t.located) {
		return nil
	}
	if t.locating {
		t.dirty = true
		return nil
	}
	t.locating, t.dirty = true, false
	t.located = addrs
	tr, gen, locate := t.path.Trace(), t.gen, m.opts.Locate
	return func() tea.Msg {
		r, err := locate(context.Background(), tr)
		return LocatedMsg{Target: i, Result: r, Err: err, gen: gen}
	}
}

func (m *Model) locatedMsg(msg LocatedMsg) tea.Cmd {
	if msg.Target < 0 || msg.Target >= len(m.targets) {
		return nil
	}
	t := m.targets[msg.Target]
	t.locating = false
	if msg.Err == nil && msg.Result != nil && msg.gen == t.gen {
		t.result = msg.Result
	}
	if t.dirty || msg.gen != t.gen {
		return m.maybeLocate(msg.Target)
	}
	return nil
}

// pathAddrs lists the responding addresses of a path, TTL by TTL.
func pathAddrs(p *hopstats.Path) []netip.Addr {
	var out []netip.Addr
	for _, h := range p.Hops() {
		for _, r := range h.Responders {
			out = append(out, r.Addr)
		}
	}
	return out
}
