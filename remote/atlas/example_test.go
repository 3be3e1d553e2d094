package atlas_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/geoloc-dev/geoloc/remote/atlas"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// A stand-in for the API answering with a real ping result of measurement
// 41688561: examples and tests never reach the real API.
func exampleServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v2/measurements/41688561/results/":
			fmt.Fprintln(w, `{"fw":5020,"mver":"2.2.1","lts":43,"dst_name":"34.140.152.85","af":4,"dst_addr":"34.140.152.85","src_addr":"192.168.10.6","proto":"ICMP","ttl":55,"size":48,"result":[{"rtt":31.469868},{"rtt":31.909145},{"rtt":32.286958}],"dup":0,"rcvd":3,"sent":3,"min":31.469868,"max":32.286958,"avg":31.888657,"msm_id":41688561,"prb_id":1000650,"timestamp":1654959318,"msm_name":"Ping","from":"79.156.126.125","type":"ping","group_id":41688561,"step":null,"stored_timestamp":1654959319}`)
		case "/api/v2/probes/":
			fmt.Fprintln(w, `{"count":1,"next":null,"previous":null,"results":[{"id":1000650,"geometry":{"type":"Point","coordinates":[-3.7035,40.4175]},"country_code":"ES","status":{"id":1,"name":"Connected"}}]}`)
		default:
			http.NotFound(w, r)
		}
	}))
}

// Stream a measurement's results and read them as traces: memory stays
// bounded by one result however many there are.
func ExampleClient_Results() {
	srv := exampleServer()
	defer srv.Close()
	c := atlas.New(atlas.Options{BaseURL: srv.URL + "/api/v2"})
	rc, err := c.Results(context.Background(), 41688561, atlas.ResultsQuery{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rc.Close()
	for t, err := range traceroute.Read(rc, traceroute.ReadOptions{Input: "msm 41688561"}) {
		if err != nil {
			fmt.Println(err)
			continue
		}
		rtt, _ := t.Hops[0].MinRTTMs(t.Destination.Addr)
		fmt.Printf("probe %s pinged %s: %.1f ms\n", t.Source.ProbeID, t.Destination.Addr, rtt)
	}
	// Output:
	// probe 1000650 pinged 34.140.152.85: 31.5 ms
}

// Where the probes are: batched /probes/?id__in= requests.
func ExampleClient_Probes() {
	srv := exampleServer()
	defer srv.Close()
	c := atlas.New(atlas.Options{BaseURL: srv.URL + "/api/v2"})
	for p, err := range c.Probes(context.Background(), []int64{1000650}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("probe %d in %s at %.4f,%.4f (%s)\n", p.ID, p.CountryCode, p.Lat, p.Lon, p.Status)
	}
	// Output:
	// probe 1000650 in ES at 40.4175,-3.7035 (Connected)
}

// The daily probe archive and the API's /probes/ pages read alike.
func ExampleReadProbes() {
	archive := `{"objects": [{"id": 1003272, "latitude": 45.4985, "longitude": 12.2405, "country_code": "IT", "asn_v4": 29447, "status": 4, "status_name": "Written Off"}]}`
	for p, err := range atlas.ReadProbes(strings.NewReader(archive)) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(p.ID, p.Lat, p.Lon, p.CountryCode, p.ASNv4, p.Status)
	}
	// Output:
	// 1003272 45.4985 12.2405 IT 29447 Written Off
}

func ExampleParseProbeSelection() {
	for _, spec := range []string{"country:de", "asn:AS3320", "area:WW", "probes:1,2,3"} {
		sel, err := atlas.ParseProbeSelection(spec, 5)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s %s %d\n", sel.Type, sel.Value, sel.Requested)
	}
	_, err := atlas.ParseProbeSelection("city:Paris", 5)
	fmt.Println(err)
	// Output:
	// country DE 5
	// asn 3320 5
	// area WW 5
	// probes 1,2,3 3
	// probe selection "city:Paris": unknown kind "city" (want country, asn, area, prefix, probes or msm)
}

// Creating a measurement needs a key; without one nothing is sent.
func ExampleClient_Create() {
	c := atlas.New(atlas.Options{BaseURL: "http://127.0.0.1:9/api/v2"})
	_, err := c.Create(context.Background(), atlas.CreateRequest{
		Definitions: []atlas.Definition{{Type: "traceroute", Target: "192.0.2.9", AF: 4, Description: "geoloc"}},
		Probes:      []atlas.ProbeSelection{{Type: "country", Value: "DE", Requested: 3}},
		IsOneoff:    true,
	})
	fmt.Println(err)
	// Output:
	// RIPE Atlas: creating measurements needs an API key: set ATLAS_API_KEY (https://atlas.ripe.net/keys/)
}
