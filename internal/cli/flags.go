package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// stringList is a repeatable string flag (--db A --db B). A value with commas
// is split too, so --db a.mmdb,b.csv works as people expect.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

// common holds the flags that mean the same in every subcommand. Each
// subcommand registers only those it uses, through the add* helpers, so the
// spelling, default and help text are the same everywhere.
type common struct {
	dbs         stringList
	dbOnly      bool
	noDB        bool
	from        string
	outputs     stringList
	format      string
	inputFormat string
	quiet       bool
	logLevel    string
	dns         string
	color       string
	conventions stringList
}

func (c *common) addDB(fs *flag.FlagSet) {
	fs.Var(&c.dbs, "db", "GeoIP/ASN database or geofeed `FILE`, used besides every database found in the usual places (see 'geoloc help'); repeatable")
	fs.BoolVar(&c.dbOnly, "db-only", false, "use only the --db databases, none of those found in the usual places")
	fs.BoolVar(&c.noDB, "no-db", false, "use no database at all, only router-name hints and latency")
}

func (c *common) addFrom(fs *flag.FlagSet) {
	fs.StringVar(&c.from, "from", "", "vantage point: `LAT,LON` or an airport/city code (e.g. osl, 59.91,10.75)")
}

func (c *common) addOutput(fs *flag.FlagSet) {
	fs.Var(&c.outputs, "o", "write results to `FILE`; the extension picks the writer (.jsonl .json .kml .kmz .geojson .csv .html .svg .dot, .txt the countries report, .report-json the same as JSON); - is standard output (JSON Lines, or --format); repeatable")
	fs.StringVar(&c.format, "format", "", "output `FORMAT`: table, jsonl, or any -o kind (geojson, csv, kml, html, ...); without -o it goes to stdout (default: table on a terminal, jsonl otherwise); with -o it overrides the extensions")
	fs.StringVar(&c.color, "color", "auto", "colour `WHEN`: auto (on a terminal), always or never; NO_COLOR in the environment means never")
}

func (c *common) addInputFormat(fs *flag.FlagSet) {
	fs.StringVar(&c.inputFormat, "input-format", "", "force the input `FORMAT` instead of detecting it (see 'geoloc parse --formats')")
}

func (c *common) addDNS(fs *flag.FlagSet) {
	fs.StringVar(&c.dns, "dns", "", "DNS `SERVER` (host or host:port) for PTR, A and AAAA lookups (default: the system's)")
}

func (c *common) addQuietLog(fs *flag.FlagSet) {
	fs.BoolVar(&c.quiet, "q", false, "quiet: no progress, no summary, only errors")
	fs.StringVar(&c.logLevel, "log-level", "warn", "log `LEVEL` on stderr: debug, info, warn or error")
}

// errUsage marks an error that is the user's mistake in calling a command;
// Run prints it with a pointer to --help and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errHelp is returned when --help was asked for; the help was printed.
var errHelp = errors.New("help shown")

// parseFlags parses args with fs, allowing flags after positional arguments
// (`geoloc regeo file.txt -o x.kml`), as people type them. "--" ends the
// flags; "-" alone is a positional (standard input).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	twice := onlyOnce(fs)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			if *twice != nil {
				return nil, usagef("%v", *twice)
			}
			return nil, usagef("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// flag stops at the first non-flag or after "--". Find out which.
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// addOutputStdout registers --format and --color for commands that only
// write to stdout (no -o).
func (c *common) addOutputStdout(fs *flag.FlagSet) {
	fs.StringVar(&c.format, "format", "", "output `FORMAT` on stdout: jsonl or table (default: table on a terminal, jsonl otherwise)")
	fs.StringVar(&c.color, "color", "auto", "colour `WHEN`: auto (on a terminal), always or never; NO_COLOR in the environment means never")
}

// onlyOnce makes every single-valued flag of fs refuse a second value:
// `locate --name a --name b` would otherwise keep b and drop a without a
// word. Repeatable flags (--db, -o) and switches (-q, --ptr) are left alone.
// The returned error is set when a flag was given twice.
func onlyOnce(fs *flag.FlagSet) *error {
	twice := new(error)
	fs.VisitAll(func(f *flag.Flag) {
		switch v := f.Value.(type) {
		case *stringList, *onceValue:
			return
		case interface{ IsBoolFlag() bool }:
			if v.IsBoolFlag() {
				return
			}
		}
		f.Value = &onceValue{Value: f.Value, name: f.Name, twice: twice}
	})
	return twice
}

// onceValue is a flag value that may be set once.
type onceValue struct {
	flag.Value
	name  string
	first string
	set   bool
	twice *error
}

func (o *onceValue) Set(v string) error {
	if o.set {
		dash := "--"
		if len(o.name) == 1 {
			dash = "-"
		}
		*o.twice = fmt.Errorf("%s%s given twice (%q, then %q): it takes one value", dash, o.name, o.first, v)
		return *o.twice
	}
	o.set, o.first = true, v
	return o.Value.Set(v)
}
