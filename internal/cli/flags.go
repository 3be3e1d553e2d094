package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/geoloc-dev/geoloc/output"
	"github.com/geoloc-dev/geoloc/traceroute"
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

// outputList is -o: repeatable, and a value of several outputs joined by
// commas (-o a.kml,b.csv, as older versions took) is split, but only when
// every part names a writer (an output extension or format name, or - for
// standard output). Any other value is one path, commas and all, so
// -o my,map.kml writes the file "my,map.kml".
type outputList []string

func (s *outputList) String() string { return strings.Join(*s, ",") }

func (s *outputList) Set(v string) error {
	parts := strings.Split(v, ",")
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" && p != "-" {
			if _, err := output.ForName(p); err != nil {
				parts = []string{v}
				break
			}
		}
	}
	for _, p := range parts {
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
	outputs     outputList
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
	fs.Var(&c.outputs, "o", "write results to `FILE`; the extension picks the writer (.jsonl .json .kml .kmz .geojson .csv .html .svg .dot, .txt the countries report, .report-json the same as JSON); - is standard output (JSON Lines, or --format); repeatable (-o a.kml -o b.csv); a value with commas is split only when every part has an output extension (-o a.kml,b.csv), else it is one path (-o my,map.kml)")
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
		case *stringList, *outputList, *onceValue:
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

// numRange is what a numeric flag allows. Durations are in seconds.
type numRange struct {
	min, max float64
	unit     string // said after the range: "probes per second"
}

// maxProbesPerTrace is the tracer's limit on TTLs × flows × queries: its
// probe tags are 16 bits, less a margin (tracer/internal/engine).
const maxProbesPerTrace = 0xfff0

// flagRanges are the values every numeric flag allows, whatever the
// command. a.parse checks each flag given on the command line against its
// range, so that a wrong value is a usage error (exit 2) naming the range
// before anything runs, not a failure (or a wait without end) later.
var flagRanges = map[string]numRange{
	"port":          {1, 65535, ""},
	"max-ttl":       {1, 255, ""},
	"queries":       {1, 100, "probes per hop"},
	"flows":         {1, 256, ""},
	"probe-timeout": {0.001, 60, "seconds"},
	"rate":          {1, 100000, "probes per second"},
	"interval":      {0.05, 3600, "seconds"},
	"report":        {0, 1000000, "rounds"},
	"parallel":      {1, 1024, "lookups at once"},
	"timeout":       {0.001, 60, "seconds"},
	"rtt":           {0, traceroute.MaxRTTMs, "ms"},
	"ping":          {0, 500, "probes"},
	"ping-above":    {0, 20038, "km"}, // half the Earth's circumference
	"ping-max":      {1, 100000, "addresses"},
	"probes":        {1, 200, ""},
}

// checkRanges checks every numeric flag set on the command line.
func checkRanges(fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		r, ok := flagRanges[f.Name]
		val := f.Value
		if o, once := val.(*onceValue); once {
			val = o.Value
		}
		g, isGetter := val.(flag.Getter)
		if !ok || !isGetter || err != nil {
			return
		}
		var v float64
		lo, hi, unit := fmtNum(r.min), fmtNum(r.max), r.unit
		switch x := g.Get().(type) {
		case int:
			v = float64(x)
		case float64:
			v = x
		case time.Duration:
			v = x.Seconds()
			lo = time.Duration(r.min * float64(time.Second)).String()
			hi = time.Duration(r.max * float64(time.Second)).String()
			unit = ""
		default:
			return
		}
		if !(v >= r.min && v <= r.max) { // NaN fails too
			if unit != "" {
				unit = " " + unit
			}
			err = usagef("--%s %s: want %s..%s%s", f.Name, f.Value.String(), lo, hi, unit)
		}
	})
	return err
}

func fmtNum(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// checkDNS refuses a --dns value that names no server: a host that is
// neither an IP address nor a host name, or a port outside 1..65535.
func checkDNS(s string) error {
	if s == "" {
		return nil
	}
	host, port := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.Count(s, ":") == 1 {
		return usagef("--dns %q: want HOST or HOST:PORT (%v)", s, err)
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if _, err := netip.ParseAddr(host); err != nil && !validHostName(host) {
		return usagef("--dns %q: %q is neither an IP address nor a host name", s, host)
	}
	if port != "" || strings.HasSuffix(s, ":") {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return usagef("--dns %q: port %q: want 1..65535", s, port)
		}
	}
	return nil
}

// validHostName reports whether s is a DNS host name: dot-separated labels
// of letters, digits and hyphens, not starting or ending with a hyphen.
func validHostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for l := range strings.SplitSeq(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
