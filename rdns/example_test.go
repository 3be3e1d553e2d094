package rdns_test

import (
	"encoding/json"
	"fmt"

	"github.com/geoloc-dev/geoloc/rdns"
)

func ExampleCleanName() {
	for _, name := range []string{"ae-1.r21.frnkge13.de.bb.gin.ntt.net.", "<b>x</b>.example.", "bad\\007.example."} {
		clean, ok := rdns.CleanName(name)
		fmt.Printf("%q %v\n", clean, ok)
	}
	// Output:
	// "ae-1.r21.frnkge13.de.bb.gin.ntt.net" true
	// "" false
	// "" false
}

// The JSON form of hints is what `geoloc hints` prints.
func ExampleHint_json() {
	hs := rdns.Hints("ffm-b4-link.ip.twelve99.net")
	b, _ := json.Marshal(hs[0])
	fmt.Println(string(b))
	// Output:
	// {"code":"ffm","kind":"operator-site","place":"Frankfurt","region":"HE","country":"DE","lat":50.111,"lon":8.682,"label":"ffm-b4-link","population":764104,"confidence":0.95}
}

func ExampleHints_ambiguous() {
	// A CLLI-style code that fits several towns: all are kept, best first;
	// the engine decides with latency.
	for _, h := range rdns.Hints("76-220-24-1.lightspeed.sntcca.sbcglobal.net") {
		fmt.Println(h.Code, h.Kind, h.Place, h.Region, h.Country, h.Confidence)
	}
	// Output:
	// sntcca clli-like Santa Clarita CA US 0.95
	// sntcca clli-like Santa Cruz CA US 0.86
	// sntcca clli-like Santa Clara CA US 0.86
}

func ExampleLookupPlace() {
	for _, q := range [][3]string{{"São Paulo", "", "BR"}, {"Paris", "", "US"}, {"Muenchen", "", ""}} {
		p, ok := rdns.LookupPlace(q[0], q[1], q[2])
		fmt.Println(p.Name, p.Region, p.Country, p.Lat, p.Lon, ok)
	}
	// Output:
	// São Paulo SP BR -23.55 -46.633 true
	// Paris TX US 33.669 -95.546 true
	// Munich BY DE 48.138 11.575 true
}

func ExampleLookupCode() {
	for _, code := range []string{"OSL", "eddf", "frnkge"} {
		h := rdns.LookupCode(code)[0]
		fmt.Println(h.Code, h.Kind, h.Place, h.Country)
	}
	// Output:
	// osl iata Oslo NO
	// eddf icao Frankfurt am Main DE
	// frnkge clli-like Frankfurt DE
}
