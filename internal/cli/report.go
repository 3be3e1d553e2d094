package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/term"
	"github.com/geoloc-dev/geoloc/output"
)

func cmdReport() *command {
	return &command{
		name:    "report",
		summary: "summarise saved results: countries crossed, organisations seen",
		help: `Usage: geoloc report [FLAGS] RESULTS.jsonl...|-

Reads results saved by 'geoloc regeo', 'geoloc trace' or 'geoloc har' (JSON
Lines, one trace a line) and summarises them per destination and overall:
the countries each path crossed (with the weakest confidence behind each,
and a flag when a path leaves a country and comes back), the countries and
organisations that saw the traffic and for how many destinations, and how
the hops were located.

Examples:
  geoloc regeo traces.txt > results.jsonl && geoloc report results.jsonl
  geoloc report --format json results.jsonl`,
		run: runReport,
	}
}

// methodCount is how many hops one kind of evidence placed.
type methodCount struct {
	Method string `json:"method"`
	Hops   int    `json:"hops"`
}

func runReport(a *app, args []string) error {
	var c common
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	c.addQuietLog(fs)
	c.addOutputStdout(fs)
	// A report is one summary, not a record stream: the table is the
	// default wherever stdout goes (the README pipes it), and json/jsonl
	// are asked for.
	fs.Lookup("format").Usage = "output `FORMAT` on stdout: table (the default, also when piped), json (one indented JSON document) or jsonl (the same document on one line)"
	files, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("no input: name RESULTS.jsonl files, or - for standard input")
	}
	asJSON, indent := false, false
	switch c.format {
	case "json":
		asJSON, indent = true, true
	case "jsonl":
		asJSON = true
	case "table", "":
	default:
		return usagef("--format %q: want table, json or jsonl", c.format)
	}
	var results []*geoloc.TraceResult
	failed := 0
	for _, name := range files {
		rc, err := a.openInput(name)
		if err != nil {
			fmt.Fprintln(a.stderr, err)
			failed++
			continue
		}
		rs, bad := readResults(rc, name, a.stderr, maxResultLineBytes)
		rc.Close()
		if err := a.ctx.Err(); err != nil {
			return err
		}
		results = append(results, rs...)
		failed += bad
	}
	rep := output.BuildReport(results)
	methods, unlocated := methodCounts(results)
	if asJSON {
		enc := json.NewEncoder(a.stdout)
		if indent {
			enc.SetIndent("", "  ")
		}
		if err := enc.Encode(struct {
			*output.Report
			Methods   []methodCount `json:"methods"`
			Unlocated int           `json:"unlocated"`
		}{rep, methods, unlocated}); err != nil {
			return err
		}
	} else {
		if err := rep.WriteTable(a.stdout); err != nil {
			return err
		}
		color, err := a.color(&c, a.stdout)
		if err != nil {
			return err
		}
		fmt.Fprintln(a.stdout)
		t := &term.Table{Header: []string{"LOCATED BY", "HOPS"}, Align: []term.Align{term.Left, term.Right}}
		for _, m := range methods {
			t.Rows = append(t.Rows, []string{m.Method, strconv.Itoa(m.Hops)})
		}
		t.Rows = append(t.Rows, []string{"(not located)", strconv.Itoa(unlocated)})
		if err := t.Write(a.stdout, color); err != nil {
			return err
		}
	}
	if !c.quiet {
		fmt.Fprintf(a.stderr, "%s summarised, %d failed\n", plural(len(results), "trace"), failed)
	}
	if failed > 0 {
		return &partialError{failed: failed}
	}
	return nil
}

// maxResultLineBytes caps one results line: a long trace with all its
// evidence takes a few hundred KB, and a line past this is no result.
const maxResultLineBytes = 32 << 20

// readResults reads the results in r (resultSeq: JSON Lines, or a JSON
// array); each bad record is reported on errw as FILE:LINE and skipped.
// It returns the good ones and how many were bad. Interrupted (a read
// error of the context's), it returns what it had, for the caller to say
// so.
func readResults(r io.Reader, name string, errw io.Writer, maxRecord int) ([]*geoloc.TraceResult, int) {
	var out []*geoloc.TraceResult
	bad := 0
	for tr, err := range resultSeq(r, name, maxRecord) {
		switch {
		case errors.Is(err, context.Canceled):
			return out, bad
		case err != nil:
			fmt.Fprintln(errw, err)
			bad++
		default:
			out = append(out, tr)
		}
	}
	return out, bad
}

// checkResult rejects a result no geoloc run can write: a location off
// the globe, a negative radius, a confidence outside [0,1]. Counting such a
// hop as located would make the report lie.
func checkResult(tr *geoloc.TraceResult) error {
	for i, h := range tr.Hops {
		if !(h.Confidence >= 0 && h.Confidence <= 1) {
			return fmt.Errorf("hops[%d]: confidence %v outside [0, 1]", i, h.Confidence)
		}
		l := h.Location
		if l == nil {
			continue
		}
		switch {
		case !(l.Lat >= -90 && l.Lat <= 90):
			return fmt.Errorf("hops[%d]: lat %v outside [-90, 90]", i, l.Lat)
		case !(l.Lon >= -180 && l.Lon <= 180):
			return fmt.Errorf("hops[%d]: lon %v outside [-180, 180]", i, l.Lon)
		case !(l.RadiusKm >= 0) || math.IsInf(l.RadiusKm, 0):
			return fmt.Errorf("hops[%d]: radius_km %v is not a finite distance >= 0", i, l.RadiusKm)
		}
	}
	return nil
}

// looksBinary reports whether the start of an input is no text: a NUL
// byte, or bytes that are not UTF-8 (a rune cut by the end of head is
// fine).
func looksBinary(head []byte) bool {
	if bytes.IndexByte(head, 0) >= 0 {
		return true
	}
	for i := 0; i < 3 && len(head) > 0 && !utf8.Valid(head); i++ {
		if r, _ := utf8.DecodeLastRune(head); r != utf8.RuneError {
			break
		}
		head = head[:len(head)-1]
	}
	return !utf8.Valid(head)
}

// methodCounts tallies how the hops were located, by the method's family
// ("rdns:iata" and "rdns:clli-like" stay apart; "geoip:<db>" folds into
// "geoip", "country:<db>" into "country").
func methodCounts(results []*geoloc.TraceResult) ([]methodCount, int) {
	m := map[string]int{}
	unlocated := 0
	for _, r := range results {
		for _, h := range r.Hops {
			if h.Location == nil {
				unlocated++
				continue
			}
			k := h.Method
			// "geoip:<database>" and the like fold into their family; the
			// database names are in each hop's evidence.
			for _, fam := range []string{"geoip:", "geofeed:", "country:"} {
				if strings.HasPrefix(k, fam) {
					k = fam[:len(fam)-1]
				}
			}
			if k == "" {
				k = "(unnamed)"
			}
			m[k]++
		}
	}
	out := make([]methodCount, 0, len(m))
	for k, n := range m {
		out = append(out, methodCount{k, n})
	}
	slices.SortFunc(out, func(a, b methodCount) int {
		if a.Hops != b.Hops {
			return b.Hops - a.Hops
		}
		return strings.Compare(a.Method, b.Method)
	})
	return out, unlocated
}
