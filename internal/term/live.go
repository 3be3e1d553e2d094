package term

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/geoloc-dev/geoloc/tracer"
)

// Live redraws, in place on a terminal, the hops of the traces in flight,
// as mtr does: rows fill in as replies arrive. One trace gets a row per
// TTL; several get one summary line each (the final tables follow when they
// are done). Safe for concurrent use: the tracer reports from each trace's
// goroutine.
type Live struct {
	mu     sync.Mutex
	w      io.Writer
	color  bool
	order  []netip.Addr
	traces map[netip.Addr]*liveTrace
	lines  int // lines drawn last time, to move back over
	last   time.Time
	// Now is the clock and Every the least time between redraws (default
	// 100 ms); tests set them.
	Now   func() time.Time
	Every time.Duration
	// MaxRows caps the rows drawn (a terminal's height); 0 means 40.
	MaxRows int
}

type liveTrace struct {
	name string
	hops map[int]tracer.HopProgress
}

// NewLive returns a live display on w for the given destinations (names
// may be "").
func NewLive(w io.Writer, color bool, dsts []netip.Addr, names map[netip.Addr]string) *Live {
	l := &Live{w: w, color: color, traces: map[netip.Addr]*liveTrace{}, Now: time.Now, Every: 100 * time.Millisecond}
	for _, d := range dsts {
		if _, ok := l.traces[d]; ok {
			continue
		}
		l.order = append(l.order, d)
		l.traces[d] = &liveTrace{name: names[d], hops: map[int]tracer.HopProgress{}}
	}
	return l
}

// Update records a hop snapshot and redraws when due.
func (l *Live) Update(p tracer.HopProgress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.traces[p.Destination]
	if t == nil {
		t = &liveTrace{hops: map[int]tracer.HopProgress{}}
		l.traces[p.Destination] = t
		l.order = append(l.order, p.Destination)
	}
	t.hops[p.Hop.TTL] = p
	now := l.Now()
	if now.Sub(l.last) < l.Every {
		return
	}
	l.last = now
	l.draw()
}

// Done erases the live area, leaving the cursor where it started.
func (l *Live) Done() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lines > 0 {
		fmt.Fprintf(l.w, "\x1b[%dA\x1b[J", l.lines)
		l.lines = 0
	}
}

// Render returns the current live text (without cursor movement).
func (l *Live) Render() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.render()
}

func (l *Live) draw() {
	text := l.render()
	var b bytes.Buffer
	if l.lines > 0 {
		fmt.Fprintf(&b, "\x1b[%dA\x1b[J", l.lines)
	}
	b.WriteString(text)
	l.lines = strings.Count(text, "\n")
	_, _ = l.w.Write(b.Bytes())
}

func (l *Live) render() string {
	var b bytes.Buffer
	maxRows := l.MaxRows
	if maxRows <= 0 {
		maxRows = 40
	}
	if len(l.order) == 1 {
		d := l.order[0]
		t := l.traces[d]
		title := "tracing " + d.String()
		if t.name != "" {
			title = "tracing " + t.name + " (" + d.String() + ")"
		}
		if l.color {
			title = Bold + sanitize(title) + Reset
		}
		b.WriteString(sanitize(title) + "\n")
		tab := &Table{Header: []string{"TTL", "ADDRESS", "LOSS", "BEST", "AVG", "WORST", ""}, Align: []Align{Right, Left, Right, Right, Right, Right}}
		ttls := make([]int, 0, len(t.hops))
		for ttl := range t.hops {
			ttls = append(ttls, ttl)
		}
		slices.Sort(ttls)
		for _, ttl := range ttls {
			if len(tab.Rows) >= maxRows-2 {
				break
			}
			tab.Rows = append(tab.Rows, hopRow(t.hops[ttl]))
		}
		_ = tab.Write(&b, l.color)
		return b.String()
	}
	for i, d := range l.order {
		if i >= maxRows {
			fmt.Fprintf(&b, "… %d more\n", len(l.order)-i)
			break
		}
		t := l.traces[d]
		pending, top := 0, 0
		for ttl, h := range t.hops {
			pending += h.Pending
			if len(h.Hop.Addrs()) > 0 {
				top = max(top, ttl)
			}
		}
		state := "done"
		if pending > 0 || len(t.hops) == 0 {
			state = strconv.Itoa(pending) + " probes pending"
		}
		name := d.String()
		if t.name != "" {
			name = t.name + " (" + d.String() + ")"
		}
		fmt.Fprintf(&b, "%s: %d hops answered so far, %s\n", sanitize(name), top, state)
	}
	return b.String()
}

func hopRow(p tracer.HopProgress) []string {
	var addrs []string
	for _, a := range p.Hop.Addrs() {
		addrs = append(addrs, a.String())
	}
	addr := strings.Join(addrs, " ")
	if addr == "" {
		addr = "*"
	}
	sent, lost := 0, 0
	best, worst, sum := 0.0, 0.0, 0.0
	n := 0
	for _, pr := range p.Hop.Probes {
		sent++
		if pr.Lost {
			lost++
			continue
		}
		if n == 0 || pr.RTTMs < best {
			best = pr.RTTMs
		}
		worst = max(worst, pr.RTTMs)
		sum += pr.RTTMs
		n++
	}
	// Probes still waiting are reported as lost by the tracer; they are
	// not lost yet.
	lost = max(lost-p.Pending, 0)
	row := []string{strconv.Itoa(p.Hop.TTL), addr, "", "", "", "", ""}
	if done := sent - p.Pending; done > 0 {
		row[2] = strconv.FormatFloat(100*float64(lost)/float64(done), 'f', 0, 64) + "%"
	}
	if n > 0 {
		row[3] = strconv.FormatFloat(best, 'f', 2, 64)
		row[4] = strconv.FormatFloat(sum/float64(n), 'f', 2, 64)
		row[5] = strconv.FormatFloat(worst, 'f', 2, 64)
	}
	if p.Pending > 0 {
		row[6] = "…"
	}
	return row
}
