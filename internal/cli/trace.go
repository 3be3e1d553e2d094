package cli

import (
	"flag"
)

func cmdTrace() *command {
	return &command{
		name:    "trace",
		summary: "trace the route to hosts (raw sockets) and locate every router",
		help: `Usage: geoloc trace [FLAGS] HOST...

Traces the route to each host, every TTL at once with a constant flow
(Paris-traceroute style), resolving every A and AAAA record of a name and
tracing each address; then locates every router and writes the results as
regeo does. Needs root or CAP_NET_RAW (sudo setcap cap_net_raw+ep
$(which geoloc)); on Linux, ICMP works unprivileged where
net.ipv4.ping_group_range allows.

Examples:
  sudo geoloc trace example.org
  geoloc trace -I 2001:db8::1 --raw
  sudo geoloc trace example.org example.net -o routes.kml`,
		run: runTrace,
	}
}

func runTrace(a *app, args []string) error {
	var c common
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	c.addDB(fs)
	c.addFrom(fs)
	c.addOutput(fs)
	c.addDNS(fs)
	c.addQuietLog(fs)
	hosts, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(hosts) == 0 {
		return usagef("no host: name one or more hosts or addresses to trace")
	}
	return notAvailable("geoloc trace", "traceroute's live tracer (traceroute.Tracer)")
}
