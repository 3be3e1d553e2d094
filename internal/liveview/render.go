package liveview

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/hopstats"
	"github.com/geoloc-dev/geoloc/internal/term"
)

// styles are the view's styles, made with Lip Gloss once per frame and
// applied as plain SGR prefixes and suffixes: a Lip Gloss Render per cell
// costs more than the rest of a 100-row frame.
type styles struct {
	title, head, dim, host, star, org, flag, good, fair, poor, sel, paused, key paint
}

// paint is a style as the escape sequences around its text.
type paint struct{ pre, post string }

func paintOf(s lipgloss.Style) paint {
	r := s.Render("X")
	i := strings.Index(r, "X")
	if i < 0 {
		return paint{}
	}
	return paint{r[:i], r[i+1:]}
}

// Render styles s.
func (p paint) Render(s string) string {
	if p.pre == "" && p.post == "" {
		return s
	}
	return p.pre + s + p.post
}

func newStyles(color bool) styles {
	p := lipgloss.NewStyle()
	if !color {
		// Reverse video marks the selection even without colour (NO_COLOR
		// is about colour only).
		return styles{sel: paintOf(p.Reverse(true))}
	}
	c := func(s string) lipgloss.Style { return p.Foreground(lipgloss.Color(s)) }
	return styles{
		title: paintOf(p.Bold(true)), head: paintOf(p.Bold(true).Underline(true)), dim: paintOf(p.Faint(true)),
		host: paintOf(c("6")), star: paintOf(p.Faint(true)), org: paintOf(c("4")), flag: paintOf(c("1").Bold(true)),
		good: paintOf(c("2")), fair: paintOf(c("3")), poor: paintOf(c("1")), sel: paintOf(p.Reverse(true)),
		paused: paintOf(c("3").Bold(true).Reverse(true)), key: paintOf(p.Bold(true)),
	}
}

// column is one column of the hop table.
type column struct {
	head  string
	width int // fixed width, or the least width of a flexible column
	max   int // > width: flexible up to max
	right bool
	// drop orders the columns given up on a narrow terminal: higher goes
	// first; 0 is never dropped.
	drop int
}

const (
	colTTL = iota
	colHost
	colLoss
	colSent
	colLast
	colAvg
	colBest
	colWorst
	colStdev
	colJitter
	colFlags
	colAS
	colOrg
	colPlace
	nCols
)

var columns = [nCols]column{
	colTTL:    {head: "TTL", width: 3, right: true},
	colHost:   {head: "HOST", width: 16, max: 40},
	colLoss:   {head: "LOSS%", width: 6, right: true},
	colSent:   {head: "SNT", width: 4, right: true, drop: 3},
	colLast:   {head: "LAST", width: 6, right: true, drop: 7},
	colAvg:    {head: "AVG", width: 6, right: true},
	colBest:   {head: "BEST", width: 6, right: true, drop: 4},
	colWorst:  {head: "WRST", width: 6, right: true, drop: 6},
	colStdev:  {head: "STDEV", width: 6, right: true, drop: 8},
	colJitter: {head: "JTTR", width: 6, right: true, drop: 10},
	colFlags:  {head: "FLAGS", width: 5},
	colAS:     {head: "AS", width: 8, drop: 5},
	colOrg:    {head: "ORG", width: 8, max: 22, drop: 9},
	colPlace:  {head: "PLACE (CONF)", width: 20, max: 34},
}

// layout decides which columns fit in width and how wide each is; width
// <= 0 means unlimited (every column at its widest, for --report to a
// pipe).
func layout(width int) (shown []int, widths [nCols]int) {
	on := [nCols]bool{}
	for i := range on {
		on[i] = true
	}
	need := func() int {
		n := 0
		for i, c := range columns {
			if on[i] {
				n += c.width + 1
			}
		}
		return n - 1
	}
	for width > 0 && need() > width {
		worst := -1
		for i, c := range columns {
			if on[i] && c.drop > 0 && (worst < 0 || c.drop > columns[worst].drop) {
				worst = i
			}
		}
		if worst < 0 {
			break
		}
		on[worst] = false
	}
	spare := width - need()
	for i, c := range columns {
		if on[i] {
			shown = append(shown, i)
			widths[i] = c.width
			if width <= 0 && c.max > c.width {
				widths[i] = c.max
			}
		}
	}
	// Spare room goes to the place first (it is what geoloc adds), then
	// the organisation, then long host names.
	for _, i := range []int{colPlace, colOrg, colHost} {
		if c := columns[i]; on[i] && width > 0 && c.max > c.width {
			grow := min(max(spare, 0), c.max-c.width)
			widths[i] += grow
			spare -= grow
		}
	}
	return shown, widths
}

// row is one line of the hop table: a responder of a hop, or a TTL no one
// answered.
type row struct {
	hop   hopstats.Hop
	resp  *hopstats.Responder // nil: nobody answered this TTL
	first bool                // first row of its TTL: carries TTL, loss and sent
	res   *geoloc.HopResult   // located result of this responder, if any
}

func (m *Model) rows(t *target) []row {
	var out []row
	for _, h := range t.path.Hops() {
		if len(h.Responders) == 0 {
			out = append(out, row{hop: h, first: true})
			continue
		}
		for i := range h.Responders {
			r := &h.Responders[i]
			out = append(out, row{hop: h, resp: r, first: i == 0, res: findHop(t.result, h.TTL, r)})
		}
	}
	return out
}

func findHop(r *geoloc.TraceResult, ttl int, resp *hopstats.Responder) *geoloc.HopResult {
	if r == nil {
		return nil
	}
	for i := range r.Hops {
		if h := &r.Hops[i]; h.TTL == ttl && h.Addr == resp.Addr {
			return h
		}
	}
	return nil
}

// ms formats an RTT: two decimals below 10 ms, where the physics bites,
// one below 1000 ms, none above.
func ms(v float64) string {
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 1000:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func (m *Model) hostText(r row) string {
	if r.resp == nil {
		return "*"
	}
	name := r.resp.Name
	if name == "" && r.res != nil {
		name = r.res.Name
	}
	addr := r.resp.Addr.String()
	var s string
	switch {
	case m.names == ShowAddrs || name == "":
		s = addr
	case m.names == ShowBoth:
		s = name + " (" + addr + ")"
	default:
		s = name
	}
	return term.Sanitize(s)
}

// place formats where a located hop stands, with its confidence: "Tokyo,
// JP 0.97"; "~" marks a hop placed from its neighbours, "?" an unlocated
// one.
func place(h *geoloc.HopResult) string {
	if h == nil {
		return ""
	}
	if h.Location == nil {
		return strings.TrimSpace("? " + term.Sanitize(h.Why))
	}
	return where(h) + " " + strconv.FormatFloat(h.Confidence, 'f', 2, 64)
}

// where is "City, CC" (coordinates when the city is unknown), "~" for an
// inferred placement.
func where(h *geoloc.HopResult) string {
	l := h.Location
	where := l.City
	if where == "" {
		where = fmt.Sprintf("%.1f,%.1f", l.Lat, l.Lon)
	}
	if l.Country != "" {
		where += ", " + l.Country
	}
	if h.Inferred {
		where = "~" + where
	}
	if h.Anycast {
		where = "anycast " + where
	}
	return term.Sanitize(where)
}

func flagsText(r row) string {
	if r.resp == nil {
		return ""
	}
	var fs []string
	for _, f := range r.resp.Flags {
		fs = append(fs, term.Sanitize(f.Flag))
	}
	return strings.Join(fs, " ")
}

// cells returns the plain text of every column of r.
func (m *Model) cells(r row) [nCols]string {
	var c [nCols]string
	h := r.hop
	if r.first {
		c[colTTL] = strconv.Itoa(h.TTL)
		c[colLoss] = strconv.FormatFloat(h.LossPct(), 'f', 1, 64) + "%"
		c[colSent] = strconv.Itoa(h.Sent)
	}
	c[colHost] = m.hostText(r)
	if r.resp != nil {
		s := r.resp.RTT
		c[colLast], c[colAvg], c[colBest], c[colWorst] = ms(s.LastMs), ms(s.AvgMs), ms(s.BestMs), ms(s.WorstMs)
		c[colStdev] = ms(s.StdevMs())
		if s.Count > 1 {
			c[colJitter] = ms(s.JitterAvgMs)
		}
		c[colFlags] = flagsText(r)
	}
	if r.res != nil {
		if r.res.ASN != 0 {
			c[colAS] = "AS" + strconv.FormatUint(uint64(r.res.ASN), 10)
		}
		c[colOrg] = term.Sanitize(r.res.ASOrg)
		c[colPlace] = place(r.res)
	}
	return c
}

// fit pads or cuts s to w cells.
func fit(s string, w int, right bool) string {
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	pad := strings.Repeat(" ", w-ansi.StringWidth(s))
	if right {
		return pad + s
	}
	return s + pad
}

// tableLines renders the header and rows of t at width (<= 0: unlimited);
// mpls adds a line under each responder that quoted an MPLS stack.
func (m *Model) tableLines(t *target, width int, st styles, selected int) (head string, lines []string, rowOf []int) {
	shown, widths := layout(width)
	var hb strings.Builder
	for i, ci := range shown {
		if i > 0 {
			hb.WriteByte(' ')
		}
		hb.WriteString(fit(columns[ci].head, widths[ci], columns[ci].right))
	}
	head = st.head.Render(strings.TrimRight(hb.String(), " "))
	for ri, r := range m.rows(t) {
		c := m.cells(r)
		var b strings.Builder
		for i, ci := range shown {
			if i > 0 {
				b.WriteByte(' ')
			}
			cell := fit(c[ci], widths[ci], columns[ci].right)
			if ri != selected {
				cell = m.cellStyle(st, r, ci).Render(cell)
			}
			b.WriteString(cell)
		}
		line := strings.TrimRight(b.String(), " ")
		if ri == selected {
			line = st.sel.Render(fit(line, max(width, ansi.StringWidth(line)), false))
		}
		lines = append(lines, line)
		rowOf = append(rowOf, ri)
		if r.resp != nil && len(r.resp.MPLS) > 0 {
			var ls []string
			for _, l := range r.resp.MPLS {
				ls = append(ls, fmt.Sprintf("%d/%d/%d/%d", l.Label, l.TC, b2i(l.S), l.TTL))
			}
			indent := strings.Repeat(" ", widths[colTTL]+1)
			mpls := indent + "└ MPLS " + strings.Join(ls, " ") + "  (label/tc/s/ttl)"
			if width > 0 {
				mpls = fit(mpls, width, false)
			}
			lines = append(lines, st.dim.Render(strings.TrimRight(mpls, " ")))
			rowOf = append(rowOf, ri)
		}
	}
	return head, lines, rowOf
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (m *Model) cellStyle(st styles, r row, col int) paint {
	switch col {
	case colHost:
		if r.resp == nil {
			return st.star
		}
		return st.host
	case colLoss:
		switch l := r.hop.LossPct(); {
		case !r.first:
		case l >= 50:
			return st.poor
		case l > 0:
			return st.fair
		}
	case colFlags:
		return st.flag
	case colAS, colOrg:
		return st.org
	case colPlace:
		if r.res == nil || r.res.Location == nil {
			return st.dim
		}
		switch c := r.res.Confidence; {
		case c >= 0.8:
			return st.good
		case c >= 0.5:
			return st.fair
		default:
			return st.poor
		}
	}
	return paint{}
}

// View implements tea.Model.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.WindowTitle = "geoloc trace"
	return v
}

// Render returns the frame for the model's terminal size.
func (m *Model) Render() string {
	if m.quitting || len(m.targets) == 0 {
		return ""
	}
	st := newStyles(m.opts.Color)
	w, h := max(m.width, 20), max(m.height, 5)
	t := m.targets[m.cur]
	var top []string

	title := "geoloc trace " + term.Sanitize(t.Label())
	info := []string{}
	if m.opts.Protocol != "" {
		info = append(info, m.opts.Protocol)
	}
	info = append(info, fmt.Sprintf("round %d", t.path.Rounds))
	if m.opts.IntervalSec > 0 {
		info = append(info, "every "+strconv.FormatFloat(m.opts.IntervalSec, 'g', -1, 64)+" s")
	}
	info = append(info, fmt.Sprintf("%d of %d TTLs answered", t.path.Answered(), len(t.path.Hops())))
	info = append(info, elapsed(m.opts.Now().Sub(m.started)))
	line := st.title.Render(fit(title, min(ansi.StringWidth(title), w), false)) + st.dim.Render(" · "+strings.Join(info, " · "))
	if m.paused {
		line = st.paused.Render(" PAUSED ") + " " + line
	}
	top = append(top, ansi.Truncate(line, w, "…"))
	if len(m.targets) > 1 {
		top = append(top, m.tabs(st, w))
	}
	if t.lastErr != "" {
		top = append(top, st.poor.Render(ansi.Truncate("last round: "+term.Sanitize(t.lastErr), w, "…")))
	}

	foot := m.footer(t, st, w)
	head, lines, rowOf := m.tableLines(t, w, st, m.sel)
	room := h - len(top) - len(foot) - 1
	// The map or evidence pane takes the lower part when there is room for
	// it beside the rows that need showing.
	var pane []string
	paneH := 0
	switch {
	case m.evidence:
		paneH = min(max(room-len(lines), room/2), room-3)
	case m.showMap && room-len(lines) >= 8:
		paneH = min(room-len(lines), 14)
	}
	if paneH >= 3 {
		room -= paneH
		if m.evidence {
			pane = m.evidencePane(t, st, w, paneH)
		} else {
			pane = m.mapPane(t, st, w, paneH)
		}
	}
	room = max(room, 1)
	// Scroll so that the selected row stays visible.
	first := 0
	if len(lines) > room {
		if m.sel >= 0 {
			for i, ri := range rowOf {
				if ri == m.sel {
					first = max(0, min(i-room/2, len(lines)-room))
					break
				}
			}
		}
		lines = lines[first : first+room]
		if first+room < len(rowOf) {
			lines[room-1] = st.dim.Render(fmt.Sprintf("… %d more rows (↑/↓ to scroll)", len(rowOf)-first-room+1))
		}
	}
	out := append(top, head)
	out = append(out, lines...)
	out = append(out, pane...)
	for len(out) < h-len(foot) {
		out = append(out, "")
	}
	out = append(out, foot...)
	return strings.Join(out, "\n")
}

func elapsed(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

// tabs lists the targets, the current one highlighted, cut to w.
func (m *Model) tabs(st styles, w int) string {
	var parts []string
	for i, t := range m.targets {
		s := fmt.Sprintf("%d %s", i+1, term.Sanitize(t.Label()))
		if i == m.cur {
			s = st.sel.Render(" " + s + " ")
		} else {
			s = st.dim.Render(" " + s + " ")
		}
		parts = append(parts, s)
	}
	return ansi.Truncate(strings.Join(parts, ""), w, "…")
}

// footer: countries and networks crossed so far, by the engine's
// countries rule, then the keys.
func (m *Model) footer(t *target, st styles, w int) []string {
	var out []string
	r := t.result
	cl := "countries: "
	switch {
	case r == nil:
		cl += "none located yet"
	case len(r.Countries) == 0:
		cl += "none named with confidence"
	default:
		cl += strings.Join(r.Countries, " → ")
	}
	if r != nil && len(r.CountriesUncertain) > 0 {
		var us []string
		for _, u := range r.CountriesUncertain {
			us = append(us, fmt.Sprintf("TTL %d %s", u.TTL, strings.Join(u.Countries, "|")))
		}
		cl += st.fair.Render("  uncertain: " + strings.Join(us, ", "))
	}
	out = append(out, ansi.Truncate(cl, w, "…"))
	if r != nil && len(r.Networks) > 0 {
		var ns []string
		for _, n := range r.Networks {
			s := "AS" + strconv.FormatUint(uint64(n.ASN), 10)
			if n.Org != "" {
				s += " " + term.Sanitize(n.Org)
			}
			ns = append(ns, s)
		}
		out = append(out, st.org.Render(ansi.Truncate("networks: "+strings.Join(ns, " → "), w, "…")))
	}
	keys := [][2]string{{"p", "pause"}, {"r", "reset"}, {"n", m.names.String()}, {"↑↓", "select"}, {"e", "evidence"}, {"m", "map"}}
	if len(m.targets) > 1 {
		keys = append(keys, [2]string{"←→", "target"})
	}
	keys = append(keys, [2]string{"q", "quit"})
	var ks []string
	for _, k := range keys {
		ks = append(ks, st.key.Render(k[0])+" "+k[1])
	}
	out = append(out, ansi.Truncate(strings.Join(ks, "  "), w, "…"))
	return out
}

// evidencePane shows what the engine considered for the selected hop.
func (m *Model) evidencePane(t *target, st styles, w, h int) []string {
	rows := m.rows(t)
	if m.sel < 0 || m.sel >= len(rows) {
		return []string{st.dim.Render("select a hop with ↑/↓")}
	}
	r := rows[m.sel]
	out := []string{st.title.Render(ansi.Truncate(fmt.Sprintf("evidence for TTL %d %s", r.hop.TTL, m.hostText(r)), w, "…"))}
	switch {
	case r.resp == nil:
		out = append(out, "no reply at this TTL: nothing to locate")
	case r.res == nil:
		out = append(out, "not located yet")
	default:
		if r.res.Location == nil {
			out = append(out, "not located: "+term.Sanitize(r.res.Why))
		} else {
			l := r.res.Location
			out = append(out, fmt.Sprintf("at %s (%.4f, %.4f) within %.0f km; confidence %.2f by %s",
				where(r.res), l.Lat, l.Lon, l.RadiusKm, r.res.Confidence, term.Sanitize(r.res.Method)))
		}
		for _, e := range r.res.Evidence {
			s := fmt.Sprintf("%-9s %-22s %-14s %-16s %-2s %s", e.Status, term.Sanitize(e.Source), term.Sanitize(e.Kind), term.Sanitize(e.City), e.Country, term.Sanitize(e.Why))
			sty := st.dim
			switch e.Status {
			case geoloc.StatusChosen:
				sty = st.good
			case geoloc.StatusRuledOut:
				sty = st.poor
			}
			out = append(out, sty.Render(ansi.Truncate(strings.TrimRight(s, " "), w, "…")))
		}
	}
	for i := range out {
		out[i] = ansi.Truncate(out[i], w, "…")
	}
	if len(out) > h {
		out = out[:h]
	}
	for len(out) < h {
		out = append(out, "")
	}
	return out
}
