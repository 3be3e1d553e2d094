package cli

import (
	"errors"
	"flag"
	"fmt"
	"iter"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/geoloc-dev/geoloc/internal/term"
	"github.com/geoloc-dev/geoloc/tracer"
	"github.com/geoloc-dev/geoloc/traceroute"
)

func cmdTrace() *command {
	return &command{
		name:    "trace",
		summary: "trace the route to hosts (raw sockets) and locate every router",
		help: `Usage: geoloc trace [FLAGS] HOST...

Traces the route to each host, every TTL at once with a constant flow
(Paris-traceroute style), resolving every A and AAAA record of a name and
tracing each address (--one: the first only); all targets are traced
concurrently. Then every router is located and the results are written as
regeo writes them; --raw writes the interchange JSON of the traces instead,
with no geolocation.

Privileges: needs root or CAP_NET_RAW (sudo setcap cap_net_raw+ep
$(command -v geoloc)). Without them, ICMP still works on Linux through ping
sockets where net.ipv4.ping_group_range admits your group.

Examples:
  sudo geoloc trace example.org
  sudo geoloc trace -T --port 443 example.org -o route.kml
  geoloc trace -I 192.0.2.1 --raw > trace.jsonl
  sudo geoloc trace example.org example.net --one -o routes.html`,
		run: runTrace,
	}
}

type traceFlags struct {
	engineFlags
	protocol         string
	icmp, udp, tcp   bool
	v4, v6, one, raw bool
	port, maxTTL     int
	queries, flows   int
	timeout          time.Duration
	rate             float64
}

func (f *traceFlags) addTrace(fs *flag.FlagSet) {
	fs.StringVar(&f.protocol, "protocol", "icmp", "probe `PROTOCOL`: icmp, udp or tcp")
	fs.BoolVar(&f.icmp, "I", false, "ICMP echo probes (--protocol icmp)")
	fs.BoolVar(&f.udp, "U", false, "UDP probes (--protocol udp)")
	fs.BoolVar(&f.tcp, "T", false, "TCP SYN probes (--protocol tcp)")
	fs.IntVar(&f.port, "port", 0, "destination `PORT` of UDP/TCP probes (default 33434 for UDP, 80 for TCP)")
	fs.BoolVar(&f.v4, "4", false, "trace IPv4 addresses only")
	fs.BoolVar(&f.v6, "6", false, "trace IPv6 addresses only")
	fs.BoolVar(&f.one, "one", false, "trace only the first address of each name")
	fs.IntVar(&f.maxTTL, "max-ttl", 30, "largest `TTL` probed")
	fs.IntVar(&f.queries, "queries", 3, "probes per hop")
	fs.IntVar(&f.flows, "flows", 1, "flow identifiers per trace (more enumerate ECMP branches)")
	fs.DurationVar(&f.timeout, "probe-timeout", time.Second, "how long a probe waits for its reply")
	fs.Float64Var(&f.rate, "rate", 0, "probes per second over all traces (default: the tracer's conservative default)")
}

func (f *traceFlags) traceOptions() (tracer.TraceOptions, error) {
	proto := f.protocol
	n := 0
	for p, on := range map[string]bool{"icmp": f.icmp, "udp": f.udp, "tcp": f.tcp} {
		if on {
			proto = p
			n++
		}
	}
	if n > 1 {
		return tracer.TraceOptions{}, usagef("-I, -U and -T exclude each other")
	}
	switch proto {
	case "icmp", "udp", "tcp":
	default:
		return tracer.TraceOptions{}, usagef("--protocol %q: want icmp, udp or tcp", proto)
	}
	if f.v4 && f.v6 {
		return tracer.TraceOptions{}, usagef("-4 and -6 exclude each other")
	}
	if f.maxTTL < 1 || f.maxTTL > 255 || f.queries < 1 || f.flows < 1 {
		return tracer.TraceOptions{}, usagef("--max-ttl wants 1..255, --queries and --flows at least 1")
	}
	return tracer.TraceOptions{Protocol: proto, Port: f.port, MaxTTL: f.maxTTL, Queries: f.queries, Flows: f.flows, Timeout: f.timeout}, nil
}

func runTrace(a *app, args []string) error {
	var f traceFlags
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	f.addEngine(fs, true)
	f.addTrace(fs)
	fs.BoolVar(&f.raw, "raw", false, "write the traces themselves (interchange JSON Lines), no geolocation")
	hosts, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(hosts) == 0 {
		return usagef("no host: name one or more hosts or addresses to trace")
	}
	topts, err := f.traceOptions()
	if err != nil {
		return err
	}
	log, err := a.logger(&f.common)
	if err != nil {
		return err
	}
	var out *sink
	if !f.raw {
		if out, err = a.newSink(&f.engineFlags); err != nil {
			return err
		}
	}
	tr, err := a.openTracer(&f, log)
	if err != nil {
		return err
	}
	defer tr.Close()
	targets, failed := a.resolveTargets(&f, hosts, 5*time.Second)
	if len(targets) == 0 {
		return &partialError{failed: failed}
	}
	seq := a.traceTargets(&f, tr, targets, topts)
	if f.raw {
		enc := traceroute.NewEncoder(a.stdout)
		for t, err := range seq {
			if err != nil {
				fmt.Fprintln(a.stderr, err)
				failed++
				continue
			}
			if err := enc.Encode(t); err != nil {
				return err
			}
			if err := enc.Flush(); err != nil {
				return err
			}
		}
		if failed > 0 {
			return &partialError{failed: failed}
		}
		return nil
	}
	eng, closeAll, err := a.newEngine(&f.engineFlags, log)
	if err != nil {
		return err
	}
	defer closeAll()
	err = a.locateAll(&f.engineFlags, eng, out, seq, nil)
	if err == nil && failed > 0 {
		err = &partialError{failed: failed}
	}
	return err
}

// target is one address to trace and the name it came from.
type target struct {
	addr netip.Addr
	name string
}

// resolveTargets turns host arguments into addresses: literals as they are,
// names through A and AAAA lookups (the --dns server or the system's).
// Names that do not resolve are reported one line each.
func (a *app) resolveTargets(f *traceFlags, hosts []string, timeout time.Duration) ([]target, int) {
	r, err := newResolver(f.dns)
	if err != nil {
		fmt.Fprintln(a.stderr, err)
		return nil, len(hosts)
	}
	var out []target
	failed := 0
	for _, h := range hosts {
		addrs, err := lookupAddrs(a.ctx, r, h, timeout)
		if err != nil {
			fmt.Fprintf(a.stderr, "%s: cannot resolve: %s (check the name, or give --dns)\n", h, dnsErrorText(err))
			failed++
			continue
		}
		n := 0
		for _, ad := range addrs {
			if (f.v4 && !ad.Is4()) || (f.v6 && !ad.Is6()) {
				continue
			}
			name := h
			if ad.String() == h {
				name = ""
			}
			out = append(out, target{addr: ad, name: name})
			n++
			if f.one {
				break
			}
		}
		if n == 0 {
			fmt.Fprintf(a.stderr, "%s: no address of the asked family\n", h)
			failed++
		}
	}
	return out, failed
}

// openTracer opens the tracer's sockets, first thing, so that missing
// privileges are reported before any other work.
func (a *app) openTracer(f *traceFlags, log *slog.Logger) (*tracer.Tracer, error) {
	tr, err := tracer.New(tracer.Options{RatePPS: f.rate, Logger: log})
	if err != nil {
		if errors.Is(err, tracer.ErrPrivilege) {
			return nil, fmt.Errorf("cannot trace: %w", err)
		}
		return nil, err
	}
	return tr, nil
}

// traceTargets runs tr on every target at once and streams the traces as
// they finish, named after the host they came from.
func (a *app) traceTargets(f *traceFlags, tr *tracer.Tracer, targets []target, topts tracer.TraceOptions) iter.Seq2[*traceroute.Trace, error] {
	names := map[netip.Addr]string{}
	addrs := make([]netip.Addr, 0, len(targets))
	for _, t := range targets {
		if _, dup := names[t.addr]; !dup {
			addrs = append(addrs, t.addr)
		}
		if names[t.addr] == "" {
			names[t.addr] = t.name
		}
	}
	if a.stdoutIsTerminal() && !f.raw && (f.format == "" || f.format == "table") && !slices.Contains(f.outputs, "-") {
		return a.traceLive(f, tr, addrs, names, topts)
	}
	prog := a.progress(&f.common, "traces", len(addrs))
	seq := func(yield func(*traceroute.Trace, error) bool) {
		defer prog.Done()
		for t, err := range tr.TraceAll(a.ctx, addrs, topts) {
			prog.Add(1, err != nil)
			if t != nil && t.Destination.Name == "" {
				t.Destination.Name = names[t.Destination.Addr]
			}
			if err != nil {
				dst := ""
				if t != nil {
					dst = t.Destination.Addr.String() + ": "
				}
				err = fmt.Errorf("%strace failed: %w", dst, err)
				t = nil
			}
			if !yield(t, err) {
				return
			}
		}
	}
	return seq
}

// traceLive traces with an mtr-like display filling in on the terminal,
// then hands the finished traces on (the located tables replace the live
// one).
func (a *app) traceLive(f *traceFlags, tr *tracer.Tracer, addrs []netip.Addr, names map[netip.Addr]string, topts tracer.TraceOptions) iter.Seq2[*traceroute.Trace, error] {
	return func(yield func(*traceroute.Trace, error) bool) {
		color, _ := a.color(&f.common, a.stdout)
		live := term.NewLive(a.stdout, color, addrs, names)
		live.MaxRows = term.Height(a.stdout, 40) - 2
		topts.Progress = live.Update
		type done struct {
			t   *traceroute.Trace
			err error
		}
		var all []done
		for t, err := range tr.TraceAll(a.ctx, addrs, topts) {
			all = append(all, done{t, err})
		}
		live.Done()
		for _, d := range all {
			t, err := d.t, d.err
			if t != nil && t.Destination.Name == "" {
				t.Destination.Name = names[t.Destination.Addr]
			}
			if err != nil {
				dst := ""
				if t != nil {
					dst = t.Destination.Addr.String() + ": "
				}
				t, err = nil, fmt.Errorf("%strace failed: %w", dst, err)
			}
			if !yield(t, err) {
				return
			}
		}
	}
}
