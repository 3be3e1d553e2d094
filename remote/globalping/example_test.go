package globalping_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/geoloc-dev/geoloc/remote/globalping"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// Trace a target from a probe in Auckland, wait for the result and read
// it as a trace whose source is the probe. A stand-in answers with the
// API's documented ping example; nothing leaves the machine.
func ExampleClient_Wait() {
	doc, err := os.ReadFile("../../traceroute/testdata/json/globalping/ping.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/measurements":
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprint(w, `{"id":"nzGzfAGL7sZfUs3c","probesCount":1}`)
		case r.URL.Path == "/v1/measurements/nzGzfAGL7sZfUs3c":
			w.Write(doc)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	c := globalping.New(globalping.Options{BaseURL: srv.URL + "/v1"})
	ctx := context.Background()
	created, err := c.Create(ctx, globalping.MeasurementRequest{Type: "ping", Target: "cdn.jsdelivr.net",
		Locations: []globalping.Location{{Magic: "Auckland", Limit: 1}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := c.Wait(ctx, created.ID, globalping.WaitOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for t, err := range traceroute.Read(bytes.NewReader(m.Raw), traceroute.ReadOptions{Input: m.ID}) {
		if err != nil {
			fmt.Println(err)
			continue
		}
		rtt, _ := t.Hops[0].MinRTTMs(t.Destination.Addr)
		fmt.Printf("from %s (%.2f, %.2f): %s %s in %.1f ms\n", t.Source.Name, *t.Source.Lat, *t.Source.Lon, t.Destination.Name, t.Destination.Addr, rtt)
	}
	// Output:
	// from Auckland, NZ, AS61138 (-36.87, 174.77): cdn.jsdelivr.net 151.101.129.229 in 24.2 ms
}
