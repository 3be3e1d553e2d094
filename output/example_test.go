package output_test

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/output"
	"github.com/geoloc-dev/geoloc/traceroute"
)

func ExampleForName() {
	res := []*geoloc.TraceResult{{
		Destination: traceroute.Endpoint{Name: "www.example.de"},
		Hops: []geoloc.HopResult{{
			TTL: 1, Addr: netip.MustParseAddr("198.51.100.33"), Name: "ffm-bb1-link.ip.twelve99.net",
			ASN: 1299, ASOrg: "Arelion Sweden AB", RTTMs: 21.05, Confidence: 0.9, Method: "rdns:operator-site",
			Location: &geoloc.Location{Lat: 50.1109, Lon: 8.6821, RadiusKm: 30, City: "Frankfurt am Main", Country: "DE"},
		}},
	}}
	w, err := output.ForName("hops.csv")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(w.Format())
	if err := w.Write(os.Stdout, res, output.Options{}); err != nil {
		fmt.Println(err)
	}
	_, err = output.ForName("map.pdf")
	fmt.Println(err != nil)
	// Output:
	// csv
	// trace,destination,ttl,addr,name,asn,as_org,lat,lon,radius_km,city,region,country,rtt_ms,confidence,method,inferred,anycast,why,evidence,trace_index,source,probe_id,started
	// www.example.de,,1,198.51.100.33,ffm-bb1-link.ip.twelve99.net,1299,Arelion Sweden AB,50.1109,8.6821,30,Frankfurt am Main,,DE,21.05,0.9,rdns:operator-site,false,false,,,1,,,
	// true
}

func ExampleWriteFileAtomic() {
	dir, _ := os.MkdirTemp("", "geoloc")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "map.geojson")
	w, _ := output.ForName(path)
	err := output.WriteFileAtomic(path, func(f io.Writer) error {
		return w.Write(f, nil, output.Options{})
	})
	b, _ := os.ReadFile(path)
	fmt.Println(err, string(b))
	// Output:
	// <nil> {"type":"FeatureCollection","name":"geoloc","features":[]}
}

// A batch of any size goes through a Stream one result at a time: nothing
// is held, and the document is finished at Close.
func ExampleWriter_Begin() {
	w, _ := output.ForName("jsonl")
	s, err := w.Begin(os.Stdout, output.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range 3 {
		r := &geoloc.TraceResult{Destination: traceroute.Endpoint{Name: fmt.Sprintf("www%d.example.org", i+1)}}
		if err := s.Add(r); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := s.Close(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"destination":{"name":"www1.example.org"},"hops":null,"countries":null}
	// {"destination":{"name":"www2.example.org"},"hops":null,"countries":null}
	// {"destination":{"name":"www3.example.org"},"hops":null,"countries":null}
}
