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

	"github.com/geoloc-dev/geoloc/geoloc"
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
concurrently.

On a terminal, a live view like mtr's traces in rounds (--interval apart,
one probe per hop and round unless --queries is given) and shows, per hop
and ECMP branch: loss, sent, last, average, best and worst RTT, standard
deviation and jitter, ICMP flags (!H, !N, ...), MPLS labels, AS and
organisation, the place with its confidence, a world map of the route and
the countries and networks crossed so far. Keys: p or space pause, r reset
statistics, n names/addresses/both, up/down select a hop, e its evidence,
m map, left/right or tab (or 1-9) switch target, q quit. On quitting, the
final statistics are printed and -o files written. NO_COLOR turns colour
off.

--report N traces N rounds without the live view and prints the final
statistics (as mtr --report). Piped, without --report, each trace is traced
once and written as regeo writes results (JSON Lines), in argument order;
--raw writes the interchange JSON of the traces instead, with no
geolocation.

Privileges: needs root or CAP_NET_RAW (sudo setcap cap_net_raw+ep
$(command -v geoloc)). Without them, ICMP still works on Linux through ping
sockets where net.ipv4.ping_group_range admits your group.

Remote traces: --globalping LOCATION (repeatable; a country, city, region,
ASN, network or cloud region, as Globalping's "magic" locations read them)
and --atlas-probes SPEC (repeatable; needs ATLAS_API_KEY) trace each host
from --probes N remote probes there instead of from this machine: no raw
socket is opened and the probes resolve host names. Each probe is the known
vantage point of its trace (hard light-speed bounds from the start). The
measurements are waited for (Globalping: up to 2 minutes; RIPE Atlas: up
to 15 minutes, polled every 15 s); their traces are written as piped
traces are (no live view).

` + privacyHelp + `

Examples:
  sudo geoloc trace example.org
  sudo geoloc trace -T --port 443 example.org -o route.kml
  geoloc trace -I 192.0.2.1 --raw > trace.jsonl
  sudo geoloc trace example.org example.net --one -o routes.html
  sudo geoloc trace --report 10 --interval 0.5 example.org
  geoloc trace --globalping Germany --globalping AS3320 --probes 2 example.org -o de.html
  geoloc trace --globalping "Sao Paulo" --mtr example.org
  ATLAS_API_KEY=... geoloc trace --atlas-probes country:DE --probes 5 example.org
  geoloc trace --atlas-probes asn:3320 --dry-run example.org`,
		run: runTrace,
	}
}

type traceFlags struct {
	engineFlags
	remoteFlags
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
	fs.IntVar(&f.queries, "queries", 3, "`N` probes per hop (live view and --report: per hop and round, default 1)")
	fs.IntVar(&f.flows, "flows", 1, "`N` flow identifiers per trace (more enumerate ECMP branches)")
	fs.DurationVar(&f.timeout, "probe-timeout", time.Second, "how long a probe waits for its reply, as a `DURATION` (1s, 500ms)")
	fs.Float64Var(&f.rate, "rate", 0, "at most `PPS` probes per second over all traces (default: the tracer's conservative default)")
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
	if n := f.maxTTL * f.queries * f.flows; n > maxProbesPerTrace {
		return tracer.TraceOptions{}, usagef("--max-ttl %d × --queries %d × --flows %d = %d probes per trace: at most %d", f.maxTTL, f.queries, f.flows, n, maxProbesPerTrace)
	}
	return tracer.TraceOptions{Protocol: proto, Port: f.port, MaxTTL: f.maxTTL, Queries: f.queries, Flows: f.flows, Timeout: f.timeout}, nil
}

func runTrace(a *app, args []string) error {
	var f traceFlags
	var rf roundFlags
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	f.addEngine(fs, true)
	f.addTrace(fs)
	rf.add(fs)
	fs.BoolVar(&f.raw, "raw", false, "write the traces themselves (interchange JSON Lines), no geolocation")
	f.addRemoteTrace(fs)
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
	if err := rf.check(f.raw); err != nil {
		return err
	}
	if err := f.remoteFlags.check(); err != nil {
		return err
	}
	if f.dryRun && !f.remoteTrace() {
		return usagef("--dry-run goes with --globalping or --atlas-probes")
	}
	if f.remoteTrace() && rf.report > 0 {
		return usagef("--report goes with local traces, not --globalping or --atlas-probes")
	}
	// On a terminal, without another stdout format, the live view runs.
	live := rf.report == 0 && a.stdoutIsTerminal() && !f.raw && (f.format == "" || f.format == "table") && !slices.Contains(f.outputs, "-")
	log, err := a.logger(&f.common)
	if err != nil {
		return err
	}
	var out *sink
	if !f.raw && !f.dryRun {
		if out, err = a.newSink(&f.engineFlags); err != nil {
			return err
		}
		defer out.abort() // an interrupted run leaves the -o files as they were
	}
	if f.remoteTrace() {
		return a.runRemoteTrace(&f, hosts, log, out)
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
	if live || rf.report > 0 {
		eng, closeAll, err := a.newEngine(&f.engineFlags, log)
		if err != nil {
			return err
		}
		defer closeAll()
		err = a.traceRounds(&f, &rf, fs, tr, targets, topts, eng, out)
		if err == nil && failed > 0 {
			err = &partialError{failed: failed}
		}
		return err
	}
	seq := a.traceTargets(&f, tr, targets, topts)
	if f.raw {
		return a.writeRaw(seq, failed)
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
			// The library's words, then what to run for this program.
			return nil, fmt.Errorf(`cannot trace: %w: run "sudo setcap cap_net_raw+ep $(which geoloc)" or run geoloc as root`, err)
		}
		return nil, err
	}
	return tr, nil
}

// traceTargets runs tr on every target at once and streams the traces in
// argument order (each as soon as it and those before it are done), named
// after the host they came from.
func (a *app) traceTargets(f *traceFlags, tr *tracer.Tracer, targets []target, topts tracer.TraceOptions) iter.Seq2[*traceroute.Trace, error] {
	names := map[netip.Addr]string{}
	order := map[netip.Addr]int{}
	addrs := make([]netip.Addr, 0, len(targets))
	for _, t := range targets {
		if _, dup := names[t.addr]; !dup {
			order[t.addr] = len(addrs)
			addrs = append(addrs, t.addr)
		}
		if names[t.addr] == "" {
			names[t.addr] = t.name
		}
	}
	prog := a.progress(&f.common, "traces", len(addrs))
	type done struct {
		t   *traceroute.Trace
		err error
	}
	seq := func(yield func(*traceroute.Trace, error) bool) {
		defer prog.Done()
		held := map[int]done{}
		next := 0
		for t, err := range tr.TraceAll(a.ctx, addrs, topts) {
			prog.Add(1, err != nil)
			if t != nil && t.Destination.Name == "" {
				t.Destination.Name = names[t.Destination.Addr]
			}
			i := next
			if t != nil {
				i = order[t.Destination.Addr]
			}
			if err != nil {
				dst := ""
				if t != nil {
					dst = t.Destination.Addr.String() + ": "
				}
				err = fmt.Errorf("%strace failed: %w", dst, err)
				t = nil
			}
			held[i] = done{t, err}
			for {
				d, ok := held[next]
				if !ok {
					break
				}
				delete(held, next)
				next++
				if !yield(d.t, d.err) {
					return
				}
			}
		}
		// Whatever is still held (a trace without destination) goes last.
		for i := next; i < len(addrs)+len(held); i++ {
			if d, ok := held[i]; ok {
				if !yield(d.t, d.err) {
					return
				}
			}
		}
	}
	return seq
}

// writeRaw writes the traces of seq as interchange JSON Lines (--raw), each
// as it comes; failed counts inputs that already failed.
func (a *app) writeRaw(seq iter.Seq2[*traceroute.Trace, error], failed int) error {
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

// runRemoteTrace is trace --globalping / --atlas-probes: the traces come
// from remote probes, then go through the engine (or out raw) as local
// traces do.
func (a *app) runRemoteTrace(f *traceFlags, hosts []string, log *slog.Logger, out *sink) error {
	var eng *geoloc.Engine
	if !f.raw && !f.dryRun {
		e, closeAll, err := a.newEngine(&f.engineFlags, log)
		if err != nil {
			return err
		}
		defer closeAll()
		eng = e
	}
	traces, failed, err := a.remoteTraces(f, hosts)
	if err != nil {
		return err
	}
	if f.dryRun {
		return nil
	}
	seq := func(yield func(*traceroute.Trace, error) bool) {
		for _, t := range traces {
			if !yield(t, nil) {
				return
			}
		}
	}
	if f.raw {
		return a.writeRaw(seq, failed)
	}
	if err := a.locateAll(&f.engineFlags, eng, out, seq, nil); err != nil {
		var pe *partialError
		if !errors.As(err, &pe) {
			return err
		}
		failed += pe.failed
	}
	if failed > 0 {
		return &partialError{failed: failed}
	}
	if len(traces) == 0 {
		return errors.New("no trace came back from the remote probes")
	}
	return nil
}
