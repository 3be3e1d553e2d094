package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/geoloc-dev/geoloc/har"
	"github.com/geoloc-dev/geoloc/internal/term"
	"github.com/geoloc-dev/geoloc/output"
)

// traceHAR traces every address the page's hosts have (recorded by the
// browser and resolved now), locates the routers, writes the combined
// results and prints the countries and organisations on the way.
func (a *app) traceHAR(f *harFlags, files []string) error {
	topts, err := f.traceOptions()
	if err != nil {
		return err
	}
	log, err := a.logger(&f.common)
	if err != nil {
		return err
	}
	out, err := a.newSink(&f.engineFlags)
	if err != nil {
		return err
	}
	out.collect = true // for the report
	tr, err := a.openTracer(&f.traceFlags, log)
	if err != nil {
		return err
	}
	defer tr.Close()
	hosts, failed := a.harHosts(files)
	if err := a.ctx.Err(); err != nil {
		return err
	}
	if err := a.resolveHosts(f, hosts); err != nil {
		return err
	}
	var targets []target
	for _, h := range hosts {
		if h.DNSError != "" {
			fmt.Fprintf(a.stderr, "%s: %s (tracing the addresses the HAR recorded)\n", h.Host, h.DNSError)
		}
		n := 0
		for _, ad := range h.Addrs {
			if (f.v4 && !ad.Is4()) || (f.v6 && !ad.Is6()) || (f.one && n > 0) {
				continue
			}
			targets = append(targets, target{addr: ad, name: h.Host})
			n++
		}
	}
	if len(targets) == 0 {
		fmt.Fprintln(a.stderr, "geoloc har: no address to trace (the HAR recorded none and DNS gave none)")
		return &partialError{failed: failed + 1}
	}
	seq := a.traceTargets(&f.traceFlags, tr, targets, topts)
	if f.raw {
		return a.writeRaw(seq, failed)
	}
	eng, closeAll, err := a.newEngine(&f.engineFlags, log)
	if err != nil {
		return err
	}
	defer closeAll()
	err = a.locateAll(&f.engineFlags, eng, out, seq, nil)
	if !f.quiet && len(out.results) > 0 {
		fmt.Fprintln(a.stderr)
		_ = output.BuildReport(out.results).WriteTable(a.stderr)
	}
	if err == nil && failed > 0 {
		err = &partialError{failed: failed}
	}
	return err
}

func cmdHAR() *command {
	return &command{
		name:    "har",
		summary: "map every route a page visit used, from the browser's saved HAR file",
		help: `Usage: geoloc har [FLAGS] PAGE.har...

Save a page visit from the browser's developer tools (Network tab, "Save all
as HAR"); geoloc reads every host the page contacted (request URLs and the
recorded serverIPAddress), resolves every A and AAAA record (at most
--parallel lookups at once), traces every address (all at once, paced by
--rate), locates every router, and writes one combined map plus the
countries and organisations the visit's traffic crossed. Chrome, Firefox and PhantomJS HARs (1.1 and 1.2) are read
as a stream, so huge HARs are fine.

--list prints the hosts without tracing, one JSON line each:
  {"host":"...","addrs":["..."],"requests":N}
The addresses are those the browser recorded (serverIPAddress); with
--resolve, the A and AAAA records are added and listed again under
"resolved" so that you can tell which came from where.

Examples:
  geoloc har page.har --list
  geoloc har page.har --list --resolve --dns 127.0.0.1:5353
  geoloc har page.har -o page.kml -o page.html
  sudo geoloc har page.har --raw > traces.jsonl
  sudo geoloc har page.har -o page.geojson --parallel 32`,
		run: runHAR,
	}
}

type harFlags struct {
	traceFlags
	list       bool
	resolve    bool
	parallel   int
	dnsTimeout time.Duration
}

func runHAR(a *app, args []string) error {
	var f harFlags
	fs := flag.NewFlagSet("har", flag.ContinueOnError)
	f.addEngine(fs, true)
	f.addTrace(fs)
	fs.BoolVar(&f.list, "list", false, "print the hosts and addresses as JSON Lines, without tracing")
	fs.BoolVar(&f.raw, "raw", false, "write the traces themselves (interchange JSON Lines), no geolocation")
	fs.BoolVar(&f.resolve, "resolve", false, "with --list: add every A and AAAA record of each host (tracing always resolves)")
	fs.IntVar(&f.parallel, "parallel", 16, "at most `N` DNS lookups at once")
	fs.DurationVar(&f.dnsTimeout, "timeout", 5*time.Second, "how long one DNS query may take, as a `DURATION` (5s, 500ms)")
	files, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("no HAR file: name one or more PAGE.har files, or - for standard input")
	}
	if f.parallel < 1 {
		return usagef("--parallel %d: want at least 1", f.parallel)
	}
	if _, err := a.logger(&f.common); err != nil {
		return err
	}
	if !f.list {
		return a.traceHAR(&f, files)
	}
	if len(f.outputs) > 0 {
		return usagef("-o writes maps of traced routes; --list writes JSON Lines to stdout only")
	}
	hosts, failed := a.harHosts(files)
	if err := a.ctx.Err(); err != nil {
		return err
	}
	if f.resolve {
		if err := a.resolveHosts(&f, hosts); err != nil {
			return err
		}
	}
	if err := a.writeHostList(&f, hosts); err != nil {
		return err
	}
	if !f.quiet {
		reqs := 0
		distinct := map[netip.Addr]bool{}
		for _, h := range hosts {
			reqs += h.Requests
			for _, ad := range h.Addrs {
				distinct[ad] = true
			}
		}
		naddr := len(distinct)
		src := "from the HAR's serverIPAddress only (add --resolve for DNS)"
		if f.resolve {
			src = "from the HAR's serverIPAddress and DNS A/AAAA records"
		}
		fmt.Fprintf(a.stderr, "%d hosts, %d requests, %d distinct addresses %s\n", len(hosts), reqs, naddr, src)
	}
	if failed > 0 {
		return &partialError{failed: failed}
	}
	return nil
}

// harHost is one line of `geoloc har --list`.
type harHost struct {
	Host     string       `json:"host"`
	Addrs    []netip.Addr `json:"addrs"`
	Requests int          `json:"requests"`
	// Resolved are the A and AAAA records (with --resolve).
	Resolved []netip.Addr `json:"resolved,omitempty"`
	DNSError string       `json:"dns_error,omitempty"`
}

// harHosts reads every HAR and merges their hosts (in order of first
// request). A broken HAR is reported on stderr; hosts read before the
// problem are kept.
func (a *app) harHosts(files []string) ([]*harHost, int) {
	var out []*harHost
	index := map[string]*harHost{}
	failed := 0
	for _, name := range files {
		rc, err := a.openInput(name)
		if err != nil {
			fmt.Fprintln(a.stderr, err)
			failed++
			continue
		}
		s, err := har.Hosts(rc, har.Options{Input: name})
		rc.Close()
		if a.ctx.Err() != nil {
			return out, failed // interrupted: the caller stops
		}
		for _, e := range s.Invalid {
			fmt.Fprintf(a.stderr, "%v (entry skipped)\n", e)
			failed++
		}
		if more := s.InvalidCount - len(s.Invalid); more > 0 {
			fmt.Fprintf(a.stderr, "%s: %d more entries with an invalid host name skipped\n", name, more)
			failed += more
		}
		if s.Unlisted > 0 {
			fmt.Fprintf(a.stderr, "%s: %d entries of hosts past the first %d skipped (is this one page visit?)\n", name, s.Unlisted, har.MaxHosts)
			failed++
		}
		if s.DroppedAddrs > 0 {
			fmt.Fprintf(a.stderr, "%s: %d addresses past the first %d of a host skipped\n", name, s.DroppedAddrs, har.MaxAddrsPerHost)
		}
		if err != nil {
			fmt.Fprintf(a.stderr, "%v (hosts before it are kept; is the file complete?)\n", err)
			failed++
		}
		for _, h := range s.Hosts {
			hh, ok := index[h.Name]
			if !ok {
				hh = &harHost{Host: h.Name, Addrs: []netip.Addr{}}
				index[h.Name] = hh
				out = append(out, hh)
			}
			hh.Requests += h.Requests
			for _, ad := range h.Addrs {
				if !slices.Contains(hh.Addrs, ad) {
					hh.Addrs = append(hh.Addrs, ad)
				}
			}
		}
	}
	return out, failed
}

func (a *app) resolveHosts(f *harFlags, hosts []*harHost) error {
	r, err := newResolver(f.dns)
	if err != nil {
		return err
	}
	prog := a.progress(&f.common, "hosts resolved", len(hosts))
	timeout := f.dnsTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	defer prog.Done()
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(a.ctx)
	g.SetLimit(f.parallel)
	for _, h := range hosts {
		g.Go(func() error {
			addrs, err := lookupAddrs(ctx, r, h.Host, timeout)
			mu.Lock()
			defer mu.Unlock()
			prog.Add(1, err != nil)
			if err != nil {
				h.DNSError = dnsErrorText(err)
				return nil
			}
			h.Resolved = addrs
			for _, ad := range addrs {
				if !slices.Contains(h.Addrs, ad) {
					h.Addrs = append(h.Addrs, ad)
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	return a.ctx.Err()
}

// dnsErrorText says what went wrong with a lookup in a few words.
func dnsErrorText(err error) string {
	var de *net.DNSError
	if errors.As(err, &de) {
		switch {
		case de.IsNotFound:
			return "no such host"
		case de.IsTimeout:
			return "timeout"
		}
		return strings.TrimSpace(de.Err)
	}
	return err.Error()
}

func (a *app) writeHostList(f *harFlags, hosts []*harHost) error {
	table, err := a.tableOutput(&f.common)
	if err != nil {
		return err
	}
	if table {
		color, err := a.color(&f.common, a.stdout)
		if err != nil {
			return err
		}
		t := &term.Table{Header: []string{"HOST", "REQUESTS", "ADDRESSES"}, Align: []term.Align{term.Left, term.Right}}
		for _, h := range hosts {
			var as []string
			for _, ad := range h.Addrs {
				as = append(as, ad.String())
			}
			if h.DNSError != "" {
				as = append(as, "(dns: "+h.DNSError+")")
			}
			t.Rows = append(t.Rows, []string{h.Host, strconv.Itoa(h.Requests), strings.Join(as, " ")})
		}
		return t.Write(a.stdout, color)
	}
	enc := json.NewEncoder(a.stdout)
	enc.SetEscapeHTML(false)
	for _, h := range hosts {
		if err := enc.Encode(h); err != nil {
			return err
		}
	}
	return nil
}

// tableOutput decides between a terminal table and JSON Lines on stdout.
func (a *app) tableOutput(c *common) (bool, error) {
	switch c.format {
	case "table":
		return true, nil
	case "jsonl", "json":
		return false, nil
	case "":
		return a.stdoutIsTerminal(), nil
	}
	return false, usagef("--format %q: want table or jsonl on stdout", c.format)
}
