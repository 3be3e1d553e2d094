package cli

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/geoloc-dev/geoloc/internal/term"
	"github.com/geoloc-dev/geoloc/rdns"
)

func cmdHints() *command {
	return &command{
		name:    "hints",
		summary: "read location hints from router names (offline)",
		help: `Usage: geoloc hints [FLAGS] NAME...|-

Prints the location hints read from each router name, best first, one JSON
line per name: {"name":"...","hints":[{"code":"fra","kind":"iata",...}]}.
Codes are IATA and ICAO airports, UN/LOCODEs, CLLI-like abbreviations, city
names and operators' own site codes. A name often gives several hints: they
are all listed, because the engine decides between them with latency. With
-, names are read from standard input, one a line. Nothing is looked up on
the network. --conventions adds naming conventions from a file (as 'geoloc
learn' writes): its operators' codes are read before any generic reading.

Examples:
  geoloc hints be3.agr21.fra03.atlas.cogentco.com
  geoloc hints ae-5.r21.frnkge13.de.bb.gin.ntt.net ffm-b4-link.ip.twelve99.net
  cut -d' ' -f2 names.txt | geoloc hints - > hints.jsonl`,
		run: runHints,
	}
}

type hintsLine struct {
	Name  string      `json:"name"`
	Hints []rdns.Hint `json:"hints"`
}

func runHints(a *app, args []string) error {
	var c common
	fs := flag.NewFlagSet("hints", flag.ContinueOnError)
	c.addQuietLog(fs)
	c.addOutputStdout(fs)
	c.addConventions(fs)
	names, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	reader, err := a.reader(&c)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return usagef("no names: give router names, or - to read them from standard input")
	}
	table, err := a.tableOutput(&c)
	if err != nil {
		return err
	}
	color, err := a.color(&c, a.stdout)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(a.stdout)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var tab *term.Table
	if table {
		tab = &term.Table{
			Header:   []string{"NAME", "CODE", "KIND", "PLACE", "CC", "LAT", "LON", "CONF"},
			Align:    []term.Align{term.Left, term.Left, term.Left, term.Left, term.Left, term.Right, term.Right, term.Right},
			MaxWidth: []int{48, 0, 0, 28},
		}
	}
	one := func(name string) error {
		name = strings.TrimSpace(name)
		if name == "" || strings.HasPrefix(name, "#") {
			return nil
		}
		hs := reader.Hints(name)
		if hs == nil {
			hs = []rdns.Hint{}
		}
		if !table {
			return enc.Encode(hintsLine{Name: name, Hints: hs})
		}
		if len(hs) == 0 {
			tab.Rows = append(tab.Rows, []string{name, "-"})
		}
		for i, h := range hs {
			n := ""
			if i == 0 {
				n = name
			}
			tab.Rows = append(tab.Rows, []string{n, h.Code, string(h.Kind), h.Place, h.Country,
				strconv.FormatFloat(h.Lat, 'f', 2, 64), strconv.FormatFloat(h.Lon, 'f', 2, 64), strconv.FormatFloat(h.Confidence, 'f', 2, 64)})
		}
		return nil
	}
	failed := 0
	for _, n := range names {
		if n != "-" {
			if err := one(n); err != nil {
				return err
			}
			continue
		}
		// Names are short: a line over 1 MB is no name. It is reported
		// with its number and skipped; the names around it still count.
		var outErr error // writing stdout failed: give up
		line, err := eachLine(a.interruptible(a.stdin), 1<<20, func(n int, b []byte, tooLong bool) error {
			if tooLong {
				fmt.Fprintf(a.stderr, "-:%d: line too long (over 1 MB), skipped\n", n)
				failed++
				return nil
			}
			// A line may be "name" or "addr name" or "name<TAB>anything":
			// the first field that is no address is the name.
			line := string(b)
			if f := strings.Fields(line); len(f) > 1 {
				line = f[0]
				if _, err := parseAddrs(f[:1]); err == nil {
					line = f[1]
				}
			}
			if err := one(line); err != nil {
				outErr = err
				return err
			}
			return nil
		})
		if outErr != nil {
			return outErr
		}
		if cerr := a.ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			fmt.Fprintf(a.stderr, "-:%d: %v\n", line, err)
			failed++
		}
	}
	if table {
		if err := tab.Write(bw, color); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return &partialError{failed: failed}
	}
	return nil
}
