package tracer_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/geoloc-dev/geoloc/tracer"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// Tracing needs root or CAP_NET_RAW (or ping sockets for ICMP), so this
// example is compiled but not run.
func ExampleTracer_Trace() {
	tr, err := tracer.New(tracer.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // says how to grant CAP_NET_RAW
		return
	}
	defer tr.Close()
	t, err := tr.Trace(context.Background(), netip.MustParseAddr("192.0.2.1"), tracer.TraceOptions{
		Protocol: "udp",
		Flows:    4, // enumerate up to 4 load-balanced branches per hop
		Progress: func(p tracer.HopProgress) {
			fmt.Fprintf(os.Stderr, "%2d %v (%d pending)\n", p.Hop.TTL, p.Hop.Addrs(), p.Pending)
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	enc := traceroute.NewEncoder(os.Stdout)
	enc.Encode(t)
	enc.Flush()
}

// Many targets share the tracer's sockets and rate limit.
func ExampleTracer_TraceAll() {
	tr, err := tracer.New(tracer.Options{RatePPS: 2000})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer tr.Close()
	dsts := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}
	for t, err := range tr.TraceAll(context.Background(), dsts, tracer.TraceOptions{Timeout: 500 * time.Millisecond}) {
		if err != nil {
			fmt.Fprintln(os.Stderr, t.Destination.Addr, err)
			continue
		}
		fmt.Println(t.Destination.Addr, len(t.Hops), "hops")
	}
}

func ExampleParseProtocol() {
	for _, s := range []string{"", "UDP", "tcp", "sctp"} {
		p, err := tracer.ParseProtocol(s)
		fmt.Printf("%q %q %v\n", s, p, err)
	}
	// Output:
	// "" "icmp" <nil>
	// "UDP" "udp" <nil>
	// "tcp" "tcp" <nil>
	// "sctp" "" protocol "sctp": want icmp, udp or tcp
}

func ExampleResolve() {
	// A literal address resolves to itself without a lookup; names go
	// through the given *net.Resolver (nil: the default) and return every
	// A and AAAA address, IPv4 first.
	addrs, err := tracer.Resolve(context.Background(), nil, "ip", "2001:db8::7")
	fmt.Println(addrs, err)
	// Output:
	// [2001:db8::7] <nil>
}
