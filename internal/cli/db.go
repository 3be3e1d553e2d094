package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/candidates/fetch"
	"github.com/geoloc-dev/geoloc/internal/term"
)

func cmdDB() *command {
	return &command{
		name:    "db",
		summary: "download GeoIP/ASN databases (fetch) and show what is installed (list)",
		help: `Usage: geoloc db fetch [FLAGS] [NAME...]
       geoloc db list [FLAGS]

fetch downloads databases into the cache directory (--dir to choose). Every
download is checked against the integrity hash its channel publishes, opened
as a database, and only then renamed over the installed file; the version,
build date, licence and attribution go into manifest.json. Without NAME it
fetches the ip-location-db packages (DB-IP Lite City, GeoLite2 City, ASN),
which need no account. GeoLite2 from MaxMind needs an account ID and licence
key (read from geoipupdate's GeoIP.conf, or --geoip-conf); IPinfo Lite needs
IPINFO_TOKEN in the environment.

list shows what is installed, its age, licence and attribution, and every
other database geoloc would use (see 'geoloc help'). --catalog lists what
fetch knows.

Examples:
  geoloc db fetch
  geoloc db fetch dbip-city-mmdb asn --dir /var/lib/geoloc
  geoloc db fetch GeoLite2-City --geoip-conf ~/GeoIP.conf
  geoloc db list
  geoloc db list --catalog`,
		run: runDB,
	}
}

type dbFlags struct {
	common
	dir       string
	force     bool
	geoipConf string
	registry  string
	catalog   bool
}

func runDB(a *app, args []string) error {
	var f dbFlags
	fs := flag.NewFlagSet("db", flag.ContinueOnError)
	f.addQuietLog(fs)
	f.addOutputStdout(fs)
	fs.StringVar(&f.dir, "dir", "", "database `DIR` (default: GEOLOC_CACHE_DIR, else the user cache directory + /geoloc)")
	fs.BoolVar(&f.force, "force", false, "fetch: download even when the installed version is current")
	fs.StringVar(&f.geoipConf, "geoip-conf", "", "fetch: geoipupdate's GeoIP.conf `FILE` with the MaxMind account ID and licence key")
	fs.StringVar(&f.registry, "npm-registry", "", "fetch: npm registry `URL` (default: the public registry)")
	fs.BoolVar(&f.catalog, "catalog", false, "list: show the databases fetch knows instead")
	pos, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("which one: geoloc db fetch [NAME...] or geoloc db list")
	}
	log, err := a.logger(&f.common)
	if err != nil {
		return err
	}
	if f.dir == "" {
		f.dir = a.cacheDir()
	}
	table, err := a.tableOutput(&f.common)
	if err != nil {
		return err
	}
	color, err := a.color(&f.common, a.stdout)
	if err != nil {
		return err
	}
	switch pos[0] {
	case "fetch":
		for _, n := range pos[1:] {
			if _, ok := fetch.Lookup(n); !ok {
				return usagef("unknown database %q; 'geoloc db list --catalog' shows the names", n)
			}
		}
		var prog *term.Progress
		opts := fetch.Options{
			Dir: f.dir, Names: pos[1:], Force: f.force, GeoIPConf: f.geoipConf,
			NPMRegistry: f.registry, IPinfoToken: a.env("IPINFO_TOKEN"), Logger: log,
		}
		var last int64
		opts.OnDatabase = func(d fetch.Database) {
			prog.Done()
			prog = a.progress(&f.common, "MB "+d.Name, 0)
			if prog != nil {
				prog.Bytes = true
			}
			last = 0
		}
		opts.Progress = func(done, total int64) {
			if prog == nil {
				return
			}
			if total > 0 {
				prog.SetTotal(int(total))
			}
			if done > last {
				prog.Add(int(done-last), false)
				last = done
			}
		}
		inst, err := fetch.Fetch(a.ctx, opts)
		prog.Done()
		if werr := writeInstalled(a, inst, table, color); werr != nil {
			return werr
		}
		if err != nil {
			// One line per server that could not be reached (not one raw
			// Go error per database), one line per other failure.
			unreached, other := groupUnreachable(splitJoined(err))
			for _, u := range unreached {
				fmt.Fprintf(a.stderr, "geoloc db fetch: could not reach %s (%s) for %s; offline? nothing was changed for them\n", u.host, u.why, strings.Join(u.dbs, ", "))
			}
			for _, e := range other {
				fmt.Fprintf(a.stderr, "geoloc db fetch: %v\n", e)
			}
			return &partialError{failed: len(splitJoined(err))}
		}
		if !f.quiet {
			fmt.Fprintf(a.stderr, "%s installed in %s\n", plural(len(inst), "database"), f.dir)
		}
		return nil
	case "list":
		if len(pos) > 1 {
			return usagef("db list takes no names")
		}
		if f.catalog {
			return writeCatalog(a, table, color)
		}
		inst, err := fetch.List(f.dir)
		if err != nil {
			return fmt.Errorf("%s: %w", f.dir, err)
		}
		if err := writeInstalled(a, inst, table, color); err != nil {
			return err
		}
		if !f.quiet {
			if len(inst) == 0 {
				fmt.Fprintf(a.stderr, "no database in %s; run 'geoloc db fetch'\n", f.dir)
			}
			cache := a.cacheDir()
			others, _ := candidates.Discover(slices.DeleteFunc(a.dbLocations(), func(l string) bool { return l == cache })...)
			if len(others) > 0 {
				fmt.Fprintf(a.stderr, "also used: %s\n", strings.Join(others, ", "))
			}
		}
		return nil
	}
	return usagef("unknown db command %q: want fetch or list", pos[0])
}

func splitJoined(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func writeInstalled(a *app, inst []fetch.Installed, table, color bool) error {
	if !table {
		enc := json.NewEncoder(a.stdout)
		enc.SetEscapeHTML(false)
		for _, i := range inst {
			if err := enc.Encode(i); err != nil {
				return err
			}
		}
		return nil
	}
	t := &term.Table{
		Header:   []string{"NAME", "VERSION", "BUILT", "AGE", "LICENCE", "FILES", "ATTRIBUTION"},
		MaxWidth: []int{0, 0, 0, 0, 24, 0, 60},
	}
	now := time.Now()
	for _, i := range inst {
		built := ""
		if !i.Built.IsZero() {
			built = i.Built.Format("2006-01-02")
		}
		age := ""
		if d := i.Age(now); d > 0 {
			age = fmt.Sprintf("%dd", int(d.Hours()/24))
		}
		t.Rows = append(t.Rows, []string{i.Name, i.Version, built, age, i.License, strings.Join(i.Files, " "), i.Attribution})
	}
	return t.Write(a.stdout, color)
}

func writeCatalog(a *app, table, color bool) error {
	cat := fetch.Catalog()
	if !table {
		enc := json.NewEncoder(a.stdout)
		enc.SetEscapeHTML(false)
		for _, d := range cat {
			if err := enc.Encode(d); err != nil {
				return err
			}
		}
		return nil
	}
	t := &term.Table{Header: []string{"NAME", "CHANNEL", "DEFAULT", "LICENCE", "FILES"}, MaxWidth: []int{0, 0, 0, 40}}
	for _, d := range cat {
		def := ""
		if d.Default {
			def = "yes"
		}
		t.Rows = append(t.Rows, []string{d.Name, string(d.Channel), def, d.License, strings.Join(d.Files, " ")})
	}
	return t.Write(a.stdout, color)
}

// unreachable is a server no database could be fetched from.
type unreachable struct {
	host string
	why  string
	dbs  []string
}

// groupUnreachable sorts fetch errors into servers that could not be
// reached at all (connection refused, no route, DNS failure, time-out: the
// machine is probably offline), grouped by server, and the rest.
func groupUnreachable(errs []error) ([]unreachable, []error) {
	var out []unreachable
	var other []error
	for _, e := range errs {
		var ue *url.Error
		var oe *net.OpError
		var de *net.DNSError
		isURL, isOp, isDNS := errors.As(e, &ue), errors.As(e, &oe), errors.As(e, &de)
		if !isURL || !(isOp || isDNS || ue.Timeout()) {
			other = append(other, e)
			continue
		}
		host := ue.URL
		if u, err := url.Parse(ue.URL); err == nil {
			host = u.Host
		}
		why := "no answer"
		switch {
		case de != nil:
			why = "name not found: " + de.Name
		case errors.Is(e, syscall.ECONNREFUSED):
			why = "connection refused"
		case errors.Is(e, syscall.ENETUNREACH), errors.Is(e, syscall.EHOSTUNREACH):
			why = "no route"
		case ue.Timeout():
			why = "timed out"
		}
		db, _, _ := strings.Cut(e.Error(), ":")
		i := slices.IndexFunc(out, func(u unreachable) bool { return u.host == host })
		if i < 0 {
			out = append(out, unreachable{host: host, why: why})
			i = len(out) - 1
		}
		out[i].dbs = append(out[i].dbs, db)
	}
	return out, other
}
