package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/term"
	"github.com/geoloc-dev/geoloc/rdns"
	"github.com/geoloc-dev/geoloc/remote/active"
	"github.com/geoloc-dev/geoloc/vantage"
)

func cmdLocate() *command {
	return &command{
		name:    "locate",
		summary: "explain where one address is, with every candidate and why",
		help: `Usage: geoloc locate [FLAGS] ADDR...

Locates single addresses and explains the choice: every candidate from every
database and from the PTR name's hints, which were ruled out by the RTT and
why. --rtt gives an RTT measured from --from (a vantage point), which rules
out candidates farther than light in fibre could travel.

--candidates prints, per address, every source's raw candidates and AS data
as one JSON line, without the engine's choice:
  {"addr":"...","asn":N,"as_org":"...","candidates":[{"source":"...","kind":"geoip",...}]}

--ping N is active geolocation: each address is pinged from at most N
remote probes (--ping-via globalping, the default, or atlas) chosen near
where the address may be (its place without pings, or a database's answer;
anywhere when nothing is known); every RTT becomes a hard bound, the address
is located again, and the pings are listed in the evidence (kind "ping").
--dry-run prints the measurement that would be created instead.

` + privacyHelp + `

Examples:
  geoloc locate 62.115.116.17 --name ffm-b4-link.ip.twelve99.net
  geoloc locate 62.115.116.17 --rtt 1.7 --from fra
  geoloc locate --candidates --db dbip-city.mmdb --db asn-ipv4.csv 8.8.8.8 1.1.1.1
  geoloc locate 62.115.116.17 --ping 10
  geoloc locate 62.115.116.17 --ping 5 --ping-via atlas --dry-run`,
		run: runLocate,
	}
}

type locateFlags struct {
	common
	remoteFlags
	candidates bool
	rttMs      float64
	name       string
	ptr        bool
}

func runLocate(a *app, args []string) error {
	var f locateFlags
	fs := flag.NewFlagSet("locate", flag.ContinueOnError)
	f.addDB(fs)
	f.addFrom(fs)
	f.addDNS(fs)
	f.addQuietLog(fs)
	f.addOutputStdout(fs)
	fs.BoolVar(&f.candidates, "candidates", false, "print every source's candidates as JSON Lines, without choosing")
	fs.Float64Var(&f.rttMs, "rtt", 0, "RTT in `MS` measured from --from to the address")
	fs.StringVar(&f.name, "name", "", "the address's router `NAME` (skips the PTR lookup; one address only)")
	fs.BoolVar(&f.ptr, "ptr", true, "look up the PTR name when --name is not given (--ptr=false: never)")
	f.addConventions(fs)
	f.addPing(fs, false)
	args, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if err := f.remoteFlags.check(); err != nil {
		return err
	}
	if f.dryRun && f.ping == 0 {
		return usagef("--dry-run goes with --ping")
	}
	if f.ping > 0 && f.candidates {
		return usagef("--ping and --candidates exclude each other: --candidates shows the databases' answers only")
	}
	addrs, err := parseAddrs(args)
	if err != nil {
		return err
	}
	if !(f.rttMs >= 0) || math.IsInf(f.rttMs, 0) { // NaN fails >= too
		return usagef("--rtt %v: want a finite, non-negative number of milliseconds", f.rttMs)
	}
	if f.rttMs > 0 && f.from == "" {
		return usagef("--rtt needs --from: an RTT bounds the distance from a known vantage point")
	}
	if f.name != "" && len(addrs) != 1 {
		return usagef("--name goes with exactly one address")
	}
	table, err := a.tableOutput(&f.common)
	if err != nil {
		return err
	}
	log, err := a.logger(&f.common)
	if err != nil {
		return err
	}
	if !f.candidates {
		return a.locateExplain(&f, addrs, table, log)
	}
	srcs, closeAll, err := a.sources(&f.common, log)
	if err != nil {
		return err
	}
	defer closeAll()
	if len(srcs) == 0 && !f.quiet {
		fmt.Fprintln(a.stderr, "geoloc locate: no database found; give --db FILE or run 'geoloc db fetch'")
	}
	failed := 0
	var lines []candidateLine
	for _, addr := range addrs {
		q := candidates.Query{Addr: addr, Name: f.name}
		line := candidateLine{Addr: addr, Candidates: []candidates.Candidate{}}
		for _, s := range srcs {
			ans, err := s.Lookup(q)
			if err != nil {
				fmt.Fprintf(a.stderr, "%s: %s: %v\n", addr, s.Name(), err)
				failed++
				continue
			}
			line.Candidates = append(line.Candidates, ans.Candidates...)
			if ans.AS != nil && line.ASN == 0 {
				line.ASN, line.ASOrg, line.Prefix, line.ASSource = ans.AS.Number, ans.AS.Org, ans.AS.Prefix, ans.AS.Source
			}
		}
		lines = append(lines, line)
	}
	if table {
		color, err := a.color(&f.common, a.stdout)
		if err != nil {
			return err
		}
		if err := writeCandidateTable(a, lines, color); err != nil {
			return err
		}
	} else {
		enc := json.NewEncoder(a.stdout)
		enc.SetEscapeHTML(false)
		for _, l := range lines {
			if err := enc.Encode(l); err != nil {
				return err
			}
		}
	}
	if failed > 0 {
		return &partialError{failed: failed}
	}
	return nil
}

// candidateLine is one line of `geoloc locate --candidates`.
type candidateLine struct {
	Addr       netip.Addr             `json:"addr"`
	ASN        uint32                 `json:"asn,omitempty"`
	ASOrg      string                 `json:"as_org,omitempty"`
	Prefix     netip.Prefix           `json:"prefix,omitzero"`
	ASSource   string                 `json:"as_source,omitempty"`
	Candidates []candidates.Candidate `json:"candidates"`
}

func writeCandidateTable(a *app, lines []candidateLine, color bool) error {
	for i, l := range lines {
		if i > 0 {
			fmt.Fprintln(a.stdout)
		}
		head := l.Addr.String()
		if l.ASN != 0 {
			head += fmt.Sprintf("  AS%d %s", l.ASN, l.ASOrg)
		}
		if l.Prefix.IsValid() {
			head += "  " + l.Prefix.String()
		}
		fmt.Fprintln(a.stdout, head)
		t := &term.Table{
			Header: []string{"SOURCE", "KIND", "CITY", "REGION", "CC", "LAT", "LON", "RADIUS_KM"},
			Align:  []term.Align{term.Left, term.Left, term.Left, term.Left, term.Left, term.Right, term.Right, term.Right},
		}
		for _, c := range l.Candidates {
			t.Rows = append(t.Rows, []string{c.Source, string(c.Kind), c.City, c.Region, c.Country,
				strconv.FormatFloat(c.Lat, 'f', 4, 64), strconv.FormatFloat(c.Lon, 'f', 4, 64), strconv.FormatFloat(c.RadiusKm, 'f', 0, 64)})
		}
		if len(t.Rows) == 0 {
			fmt.Fprintln(a.stdout, "  no candidates")
			continue
		}
		if err := t.Write(a.stdout, color); err != nil {
			return err
		}
	}
	return nil
}

// locateExplain runs the engine on single addresses and prints each
// HopResult with its evidence.
func (a *app) locateExplain(f *locateFlags, addrs []netip.Addr, table bool, log *slog.Logger) error {
	ef := &engineFlags{common: f.common, ptr: f.ptr && f.name == ""}
	ef.from = "" // the engine takes --from here as the RTT's vantage point only
	eng, closeAll, err := a.newEngine(ef, log)
	if err != nil {
		return err
	}
	defer closeAll()
	var from *geoloc.Vantage
	if f.from != "" {
		v, err := vantage.Parse(f.from, rdns.Hints)
		if err != nil {
			return usagef("--from %q: %v", f.from, err)
		}
		from = &v
	}
	color, err := a.color(&f.common, a.stdout)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetEscapeHTML(false)
	var batch *active.Batch
	if f.ping > 0 {
		batch = a.pingBatch(&f.remoteFlags, &f.common)
	}
	failed := 0
	for i, addr := range addrs {
		var h geoloc.HopResult
		if batch != nil {
			var ok bool
			h, ok, err = a.locatePinged(a.ctx, batch, eng, addr, f.name, f.rttMs, from)
			if err != nil {
				if a.ctx.Err() != nil {
					return a.ctx.Err()
				}
				fmt.Fprintln(a.stderr, err)
				failed++
				continue
			}
			if !ok && f.dryRun {
				continue // the plan was printed
			}
		} else if h, err = eng.LocateAddr(a.ctx, addr, f.name, f.rttMs, from); err != nil {
			return err
		}
		if !table {
			if err := enc.Encode(h); err != nil {
				return err
			}
			continue
		}
		if i > 0 {
			fmt.Fprintln(a.stdout)
		}
		if err := writeExplain(a.stdout, &h, color); err != nil {
			return err
		}
	}
	if failed > 0 {
		return &partialError{failed: failed}
	}
	return nil
}

func writeExplain(w io.Writer, h *geoloc.HopResult, color bool) error {
	head := h.Addr.String()
	if h.Name != "" {
		head += "  " + h.Name
	}
	if h.ASN != 0 {
		head += fmt.Sprintf("  AS%d %s", h.ASN, h.ASOrg)
	}
	fmt.Fprintln(w, term.Sanitize(head))
	if l := h.Location; l != nil {
		place := strings.Trim(strings.Join([]string{l.City, l.Country}, ", "), ", ")
		fmt.Fprintf(w, "  at %s (%.4f, %.4f) within %.0f km; confidence %.2f by %s", term.Sanitize(place), l.Lat, l.Lon, l.RadiusKm, h.Confidence, h.Method)
		if h.Anycast {
			fmt.Fprint(w, "; anycast")
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "  not located: %s\n", term.Sanitize(h.Why))
	}
	if len(h.Evidence) == 0 {
		return nil
	}
	t := &term.Table{
		Header:   []string{"SOURCE", "KIND", "CITY", "CC", "LAT", "LON", "STATUS", "WHY"},
		Align:    []term.Align{term.Left, term.Left, term.Left, term.Left, term.Right, term.Right},
		MaxWidth: []int{28, 0, 24, 0, 0, 0, 0, 70},
	}
	for _, e := range h.Evidence {
		t.Rows = append(t.Rows, []string{e.Source, e.Kind, e.City, e.Country,
			strconv.FormatFloat(e.Lat, 'f', 2, 64), strconv.FormatFloat(e.Lon, 'f', 2, 64), e.Status, e.Why})
	}
	t.Style = func(row, col int) string {
		if col != 6 {
			return ""
		}
		switch h.Evidence[row].Status {
		case geoloc.StatusChosen:
			return term.Green
		case geoloc.StatusRuledOut:
			return term.Red
		}
		return ""
	}
	return t.Write(w, color)
}
