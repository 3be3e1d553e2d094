// Command trace traces a host live and prints where every router is: the
// library's tracer, the engine, and the databases geoloc db fetch
// installed. It needs root or CAP_NET_RAW, like traceroute -I.
//
//	go run ./examples/trace example.org
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/tracer"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: trace HOST")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	// Every database in the usual places (GEOLOC_CACHE_DIR, ~/.cache/geoloc,
	// /usr/share/GeoIP, GEOLOC_DB); none is fine too.
	paths, _ := candidates.Discover()
	srcs, err := candidates.OpenAll(paths, candidates.OpenOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "some databases were skipped:", err)
	}
	defer func() {
		for _, s := range srcs {
			candidates.CloseSource(s)
		}
	}()
	eng := geoloc.New(geoloc.Options{Sources: srcs})

	tr, err := tracer.New(tracer.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // says how to grant CAP_NET_RAW
		os.Exit(1)
	}
	defer tr.Close()
	for t, err := range tr.TraceName(ctx, nil, "ip", os.Args[1], tracer.TraceOptions{Protocol: "icmp"}) {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			continue
		}
		res, err := eng.Locate(ctx, t)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			continue
		}
		for _, h := range res.Hops {
			where := "?"
			if h.Location != nil {
				where = fmt.Sprintf("%s, %s ±%.0f km", h.Location.City, h.Location.Country, h.Location.RadiusKm)
			}
			fmt.Printf("%2d %-15s %-40s %7.2f ms  %s\n", h.TTL, h.Addr, h.Name, h.RTTMs, where)
		}
		fmt.Println("countries:", res.Countries)
	}
}
