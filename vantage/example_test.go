package vantage_test

import (
	"fmt"
	"strings"

	"github.com/geoloc-dev/geoloc/traceroute"
	"github.com/geoloc-dev/geoloc/vantage"
)

// A RIPE Atlas /probes/ answer (or the probe archive) is a vantage point
// table keyed by probe id, to hand to geoloc.Options.VantageOf.
func ExampleReadTable_atlasProbes() {
	page := `{"count":1,"next":null,"previous":null,"results":[
 {"id":1003272,"geometry":{"type":"Point","coordinates":[12.2405,45.4985]},"country_code":"IT","status":{"id":1,"name":"Connected"}}]}`
	tab, err := vantage.ReadTable(strings.NewReader(page), "probes.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	v, ok := tab.Lookup(&traceroute.Trace{Source: traceroute.Endpoint{ProbeID: "1003272"}})
	fmt.Println(ok, v.Name, v.Lat, v.Lon)
	// Output:
	// true probe 1003272 45.4985 12.2405
}
