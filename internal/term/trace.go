package term

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// TraceTableOptions control WriteTrace.
type TraceTableOptions struct {
	Color bool // ANSI colour (the caller decides: terminal and no NO_COLOR)
	// HostWidth caps the host column (0: 40 runes).
	HostWidth int
}

// WriteTrace writes one located trace as an mtr-like table: a title line,
// one row per responding address per TTL (ECMP addresses on their own rows,
// the TTL printed once), "*" rows for TTLs nobody answered, and the
// countries the path crossed.
func WriteTrace(w io.Writer, r *geoloc.TraceResult, opts TraceTableOptions) error {
	if opts.HostWidth == 0 {
		opts.HostWidth = 40
	}
	title := "trace"
	if d := endpoint(r.Destination); d != "" {
		title += " to " + d
	}
	if s := endpoint(r.Source); s != "" {
		title += " from " + s
	}
	if r.Protocol != "" {
		title += " (" + r.Protocol + ")"
	}
	if opts.Color {
		title = Bold + sanitize(title) + Reset
	} else {
		title = sanitize(title)
	}
	if _, err := fmt.Fprintln(w, title); err != nil {
		return err
	}
	if v := r.Vantage; v != nil && v.Inferred {
		where := strings.TrimPrefix(v.Name, "inferred vantage near ")
		line := fmt.Sprintf("vantage point inferred near %s ±%.0f km; give --from to fix it", where, v.RadiusKm)
		if _, err := fmt.Fprintln(w, sanitize(line)); err != nil {
			return err
		}
	}
	for _, warn := range r.Warnings {
		if _, err := fmt.Fprintln(w, sanitize("warning: "+warn)); err != nil {
			return err
		}
	}
	t := &Table{
		Header:   []string{"TTL", "HOST", "ADDRESS", "AS", "ORG", "CITY", "CC", "RTT", "CONF", "METHOD"},
		Align:    []Align{Right, Left, Left, Right, Left, Left, Left, Right, Right, Left},
		MaxWidth: []int{0, opts.HostWidth, 39, 0, 24, 22, 0, 0, 0, 40},
	}
	var conf []float64
	prevTTL := 0
	for _, h := range r.Hops {
		for ttl := prevTTL + 1; ttl < h.TTL; ttl++ {
			t.Rows = append(t.Rows, []string{strconv.Itoa(ttl), "*"})
			conf = append(conf, -1)
		}
		ttl := ""
		if h.TTL != prevTTL {
			ttl = strconv.Itoa(h.TTL)
		}
		prevTTL = h.TTL
		host := h.Name
		if host == "" {
			host = h.Addr.String()
		}
		as := ""
		if h.ASN != 0 {
			as = "AS" + strconv.FormatUint(uint64(h.ASN), 10)
		}
		city, cc := "", ""
		method := h.Method
		if l := h.Location; l != nil {
			city, cc = l.City, l.Country
			if city == "" {
				city = fmt.Sprintf("%.2f,%.2f", l.Lat, l.Lon)
			}
			if h.Inferred {
				city = "~" + city
			}
		} else {
			city = "?"
			if h.Why != "" {
				method = h.Why
			}
		}
		if h.Anycast {
			method = strings.TrimSpace("anycast " + method)
		}
		rtt := ""
		switch {
		case h.RTTMs >= 10:
			rtt = strconv.FormatFloat(h.RTTMs, 'f', 1, 64)
		case h.RTTMs > 0:
			// Sub-10 ms RTTs are where the physics bites: keep 2 decimals.
			rtt = strconv.FormatFloat(h.RTTMs, 'f', 2, 64)
		}
		c := ""
		if h.Location != nil {
			c = strconv.FormatFloat(h.Confidence, 'f', 2, 64)
		}
		t.Rows = append(t.Rows, []string{ttl, host, h.Addr.String(), as, h.ASOrg, city, cc, rtt, c, method})
		if h.Location != nil {
			conf = append(conf, h.Confidence)
		} else {
			conf = append(conf, -1)
		}
	}
	t.Style = func(row, col int) string {
		switch col {
		case 1:
			if t.Rows[row][1] == "*" {
				return Dim
			}
			return Cyan
		case 3, 4:
			return Blue
		case 8:
			switch c := conf[row]; {
			case c >= 0.8:
				return Green
			case c >= 0.5:
				return Yellow
			case c >= 0:
				return Red
			}
		case 9:
			return Dim
		}
		return ""
	}
	if err := t.Write(w, opts.Color); err != nil {
		return err
	}
	if len(r.Countries) > 0 {
		if _, err := fmt.Fprintf(w, "countries: %s\n", sanitize(strings.Join(r.Countries, " → "))); err != nil {
			return err
		}
	}
	if len(r.CountriesUncertain) > 0 {
		parts := make([]string, len(r.CountriesUncertain))
		for i, u := range r.CountriesUncertain {
			parts[i] = fmt.Sprintf("hop %d %s", u.TTL, strings.Join(u.Countries, "/"))
		}
		if _, err := fmt.Fprintf(w, "uncertain: %s\n", sanitize(strings.Join(parts, ", "))); err != nil {
			return err
		}
	}
	return nil
}

// endpoint names an endpoint as "name (addr)", "name" or "addr".
func endpoint(e traceroute.Endpoint) string {
	switch {
	case e.Name != "" && e.Addr.IsValid():
		return e.Name + " (" + e.Addr.String() + ")"
	case e.Name != "":
		return e.Name
	case e.Addr.IsValid():
		return e.Addr.String()
	}
	return ""
}
