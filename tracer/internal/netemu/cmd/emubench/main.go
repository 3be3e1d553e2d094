//go:build linux

// Command emubench serves an emulated network for scripts/bench-trace.sh
// and traces it with geoloc's tracer.
//
//	emubench serve -ns NAME   # create namespace NAME with the emulated
//	                          # network; runs until stdin closes
//	ip netns exec NAME emubench trace -n 100   # trace 100 targets
//
// The network: 203.0.113.0/24 behind 19 routers (198.51.100.1-19) and the
// destination: 20 hops, a path RTT of 100 ms, routers 7 and 13 silent.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/geoloc-dev/geoloc/tracer"
	"github.com/geoloc-dev/geoloc/tracer/internal/netemu"
	"github.com/geoloc-dev/geoloc/traceroute"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: emubench serve|trace [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "trace":
		err = trace(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "emubench:", err)
		os.Exit(1)
	}
}

func network(hops int, rttMs float64, silent []int) *netemu.Network {
	oneWay := rttMs / 2 / float64(hops)
	p := netemu.Path{Dst: netip.MustParsePrefix("203.0.113.0/24"), DestDelayMs: oneWay}
	for i := 1; i < hops; i++ {
		r := netemu.Router{Addr: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), DelayMs: oneWay}
		for _, s := range silent {
			if s == i {
				r.Silent = true
			}
		}
		p.Hops = append(p.Hops, netemu.Hop{r})
	}
	return &netemu.Network{Paths: []netemu.Path{p}}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	name := fs.String("ns", fmt.Sprintf("geoloc-bench-%d", os.Getpid()), "namespace to create")
	hops := fs.Int("hops", 20, "hops including the destination")
	rtt := fs.Float64("rtt", 100, "path RTT in ms")
	fs.Parse(args)
	if err := netemu.Available(); err != nil {
		return err
	}
	ns, err := netemu.CreateNS(*name)
	if err != nil {
		return err
	}
	defer ns.Delete()
	emu, err := netemu.Start(ns, network(*hops, *rtt, []int{7, 13}))
	if err != nil {
		return err
	}
	defer emu.Close()
	fmt.Println("ready", ns.Name)
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-done:
	case <-sig:
	}
	st := emu.Net.Stats()
	fmt.Fprintf(os.Stderr, "emulator: %d probes, %d answered, %d rate-limited\n", st.Probes, st.Answered, st.Limited)
	return nil
}

func trace(args []string) error {
	fs := flag.NewFlagSet("trace", flag.ExitOnError)
	n := fs.Int("n", 1, "targets (203.0.113.1 ...)")
	proto := fs.String("proto", "icmp", "icmp, udp or tcp")
	timeout := fs.Duration("timeout", tracer.DefaultTimeout, "per-probe timeout")
	rate := fs.Float64("rate", 0, "packets per second (0: default)")
	raw := fs.Bool("raw", false, "write the traces as interchange JSON Lines")
	fs.Parse(args)
	tr, err := tracer.New(tracer.Options{RatePPS: *rate})
	if err != nil {
		return err
	}
	defer tr.Close()
	var dsts []netip.Addr
	for i := range *n {
		dsts = append(dsts, netip.AddrFrom4([4]byte{203, 0, 113, byte(1 + i%250)}))
	}
	enc := traceroute.NewEncoder(os.Stdout)
	defer enc.Flush()
	start := time.Now()
	hops, lost := 0, 0
	for t, err := range tr.TraceAll(context.Background(), dsts, tracer.TraceOptions{Protocol: *proto, Timeout: *timeout}) {
		if err != nil {
			return err
		}
		hops += len(t.Hops)
		for _, h := range t.Hops {
			for _, p := range h.Probes {
				if p.Lost {
					lost++
				}
			}
		}
		if *raw {
			if err := enc.Encode(t); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(os.Stderr, "geoloc tracer: %d targets, %d hops, %d lost probes in %.3f s\n", *n, hops, lost, time.Since(start).Seconds())
	return nil
}
