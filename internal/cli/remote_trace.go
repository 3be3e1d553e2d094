package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/geoloc-dev/geoloc/remote/atlas"
	"github.com/geoloc-dev/geoloc/remote/globalping"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// remoteTraces runs trace --globalping and --atlas-probes: one measurement
// per host and service, waited for, read as traces whose sources are the
// probes. Nothing is traced locally and no raw socket is opened; host names
// are resolved by the probes. With --dry-run the requests are printed on
// stdout and nothing is sent. Failures are reported on stderr, one line
// each, and counted.
func (a *app) remoteTraces(f *traceFlags, hosts []string) ([]*traceroute.Trace, int, error) {
	proto := strings.ToUpper(f.protocol)
	for p, on := range map[string]bool{"ICMP": f.icmp, "UDP": f.udp, "TCP": f.tcp} {
		if on {
			proto = p
		}
	}
	var traces []*traceroute.Trace
	failed := 0
	report := func(err error) {
		fmt.Fprintln(a.stderr, err)
		failed++
	}
	if len(f.globalping) > 0 {
		c := a.globalpingClient(&f.common)
		typ := "traceroute"
		if f.mtr {
			typ = "mtr"
		}
		for _, host := range hosts {
			req := globalping.MeasurementRequest{Type: typ, Target: host, Options: &globalping.MeasurementOptions{Protocol: proto}}
			if proto != "ICMP" && f.port > 0 {
				req.Options.Port = f.port
			}
			for _, loc := range f.globalping {
				req.Locations = append(req.Locations, globalping.Location{Magic: loc, Limit: f.probes})
			}
			if f.dryRun {
				if err := a.printRequest("POST "+c.BaseURL()+"/measurements", req); err != nil {
					return nil, failed, err
				}
				continue
			}
			ts, err := a.globalpingTrace(c, req, f.quiet)
			if err != nil {
				if a.ctx.Err() != nil {
					return nil, failed, a.ctx.Err()
				}
				report(fmt.Errorf("%s: Globalping %s: %w", host, typ, err))
				continue
			}
			traces = append(traces, ts...)
		}
	}
	if len(f.atlasProbes) > 0 {
		ts, n, err := a.atlasTraces(f, hosts, proto)
		failed += n
		if err != nil {
			return nil, failed, err
		}
		traces = append(traces, ts...)
	}
	return traces, failed, nil
}

func (a *app) printRequest(what string, req any) error {
	b, err := json.MarshalIndent(req, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "would send %s\n%s\n", what, b)
	return err
}

func (a *app) globalpingTrace(c *globalping.Client, req globalping.MeasurementRequest, quiet bool) ([]*traceroute.Trace, error) {
	created, err := c.Create(a.ctx, req)
	if err != nil {
		return nil, err
	}
	if !quiet {
		fmt.Fprintf(a.stderr, "Globalping measurement %s: %s to %s from %d probes; waiting for it\n", created.ID, req.Type, req.Target, created.ProbesCount)
	}
	m, err := c.Wait(a.ctx, created.ID, globalping.WaitOptions{})
	if err != nil {
		return nil, err
	}
	var out []*traceroute.Trace
	for t, err := range traceroute.Read(bytes.NewReader(m.Raw), traceroute.ReadOptions{Input: "Globalping measurement " + m.ID}) {
		if err != nil {
			fmt.Fprintln(a.stderr, err)
			continue
		}
		if t.Destination.Name == "" {
			if _, err := netip.ParseAddr(req.Target); err != nil {
				t.Destination.Name = req.Target
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// atlasTraces creates one one-off RIPE Atlas traceroute per host from the
// --atlas-probes selections, waits for them and reads their results, with
// the probes' positions.
func (a *app) atlasTraces(f *traceFlags, hosts []string, proto string) ([]*traceroute.Trace, int, error) {
	var sels []atlas.ProbeSelection
	for _, spec := range f.atlasProbes {
		s, err := atlas.ParseProbeSelection(spec, f.probes)
		if err != nil {
			return nil, 0, usagef("--atlas-probes %s", err)
		}
		sels = append(sels, s)
	}
	req := atlas.CreateRequest{IsOneoff: true, Probes: sels}
	for _, host := range hosts {
		af := 4
		addr, err := netip.ParseAddr(host)
		switch {
		case err == nil && addr.Is6() && !addr.Is4In6(), err != nil && f.v6:
			af = 6
		}
		req.Definitions = append(req.Definitions, atlas.Definition{Type: "traceroute", Target: host, AF: af, Protocol: proto,
			Description: "geoloc trace " + host, ResolveOnProbe: err != nil})
	}
	c := a.atlasClient(&f.common)
	if f.dryRun {
		return nil, 0, a.printRequest("POST "+c.BaseURL()+"/measurements/", req)
	}
	ids, err := c.Create(a.ctx, req)
	if err != nil {
		return nil, 0, err
	}
	failed := 0
	var out []*traceroute.Trace
	pos := newProbePositions(c, f.table, "")
	for i, id := range ids {
		host := ""
		if i < len(hosts) {
			host = hosts[i]
		}
		if !f.quiet {
			fmt.Fprintf(a.stderr, "RIPE Atlas measurement %d: traceroute to %s; waiting for it (results stay readable with geoloc regeo --atlas %d)\n", id, host, id)
		}
		if _, err := c.Wait(a.ctx, id, atlas.WaitOptions{}); err != nil {
			if a.ctx.Err() != nil {
				return nil, failed, a.ctx.Err()
			}
			fmt.Fprintln(a.stderr, err)
			failed++
			continue
		}
		src := &atlasSource{client: c, id: id}
		r, done, err := src.open(a.ctx)
		if err != nil {
			fmt.Fprintln(a.stderr, err)
			failed++
			continue
		}
		for t, err := range pos.place(a.ctx, traceroute.Read(r, traceroute.ReadOptions{Input: src.name()})) {
			if err != nil {
				fmt.Fprintln(a.stderr, err)
				failed++
				continue
			}
			if t.Destination.Name == "" && host != t.Destination.Addr.String() {
				t.Destination.Name = host
			}
			out = append(out, t)
		}
		done()
	}
	return out, failed, nil
}
