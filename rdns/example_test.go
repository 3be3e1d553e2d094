package rdns_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/geoloc-dev/geoloc/latency"
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
	// {"code":"ffm","kind":"operator-site","place":"Frankfurt","region":"HE","country":"DE","lat":50.111,"lon":8.682,"label":"ffm-b4-link","population":764104,"confidence":0.95,"why":"Arelion (Telia Carrier, AS1299) site code ffm: Frankfurt, DE (source: arelion-lg)"}
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

// A Reader with the embedded conventions reads operators' own site codes
// where their conventions put them, before any airport or town of the same
// letters.
func ExampleReader_Hints() {
	r := rdns.NewReader()
	for _, name := range []string{"sng-b7-link.ip.twelve99.net", "win-bb1-link.ip.twelve99.net"} {
		h := r.Hints(name)[0]
		fmt.Println(h.Code, h.Kind, h.Place, h.Country, h.Confidence)
		fmt.Println(" ", h.Why)
	}
	// Output:
	// sng operator-site Singapore SG 0.95
	//   Arelion (Telia Carrier, AS1299) site code sng: Singapore, SG (source: arelion-lg)
	// win operator-site Vienna AT 0.95
	//   Arelion (Telia Carrier, AS1299) site code win: Vienna, AT (source: arelion-lg)
}

// Codes finds the words of a name that look like location codes no
// dictionary reads; Expand reads one as an abbreviation of the places a
// region allows (here, within 300 km of a point the RTTs allow).
func ExampleReader_Expand() {
	r := rdns.NewReader()
	center := latency.Point{Lat: 40.2, Lon: -86.5}
	feasible := func(lat, lon float64) bool {
		return latency.DistanceKm(center, latency.Point{Lat: lat, Lon: lon}) <= 300
	}
	for _, c := range r.Codes("ae-2.ipls-bb1-link.example-carrier.net") {
		fmt.Println(c.Code, c.Label, c.Domain)
		for _, h := range r.Expand(c, feasible, 2) {
			fmt.Println(" ", h.Kind, h.Place, h.Region, h.Country, h.Confidence)
			fmt.Println(" ", h.Why)
		}
	}
	// Output:
	// ipls ipls-bb1-link example-carrier.net
	//   abbrev Indianapolis IN US 0.32
	//   abbreviation of Indianapolis: its letters in order, leaving out 3 consonants
}

// A conventions file, as `geoloc learn` writes and --conventions reads,
// adds to the embedded conventions.
func ExampleReadConventions() {
	const file = `{
  "format": "geoloc-conventions/1",
  "domains": [
    {"domain": "bb.example.net", "operator": "Example (AS64500)", "pattern": "^(?P<loc>[a-z]+)\\d*-", "sources": ["our NOC's site list"]}
  ],
  "entries": [
    {"domain": "bb.example.net", "code": "omha", "place": {"name": "Omaha", "country": "US", "lat": 41.263, "lon": -96.053}, "source": "NOC"}
  ]
}`
	c, err := rdns.ReadConventions(strings.NewReader(file), "sites.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	h := rdns.NewReader(c).Hints("omha2-core1.bb.example.net")[0]
	fmt.Println(h.Place, h.Country, h.Kind)
	_, err = rdns.ReadConventions(strings.NewReader(`{"format": "geoloc-conventions/1", "entries": [{"domain": "bb.example.net"}]}`), "bad.json")
	fmt.Println(err)
	// Output:
	// Omaha US operator-site
	// bad.json:1: conventions: entry 1 ("bb.example.net" ""): code: want 1 to 63 characters
}

// A Learner learns an operator's convention from router names seen with the
// RTT bounds of where they were measured from.
func ExampleLearner() {
	l := rdns.NewLearner(rdns.LearnOptions{})
	chicago := latency.Point{Lat: 41.88, Lon: -87.63}
	atlanta := latency.Point{Lat: 33.75, Lon: -84.39}
	seattle := latency.Point{Lat: 47.61, Lon: -122.33}
	observe := func(name string, rttChicagoMs, rttOtherMs float64, other latency.Point) {
		l.Observe(name, []latency.Disc{
			latency.DiscFromRTT(chicago, rttChicagoMs, 25),
			latency.DiscFromRTT(other, rttOtherMs, 25),
		})
	}
	observe("ipls-bb1-link.ip.example-carrier.net", 4.1, 9.5, atlanta)
	observe("ipls-bb2-link.ip.example-carrier.net", 4.3, 9.8, atlanta)
	observe("omha-bb1-link.ip.example-carrier.net", 9.2, 26.0, seattle)
	observe("omha-bb2-link.ip.example-carrier.net", 9.0, 25.7, seattle)
	c := l.Conventions()
	for _, e := range c.Entries {
		fmt.Println(e.Domain, e.Code, e.Place.Name, e.Support, e.Conflicts)
	}
	h := rdns.NewReader(c).Hints("ipls-bb7-link.ip.example-carrier.net")[0]
	fmt.Println(h.Place, h.Kind)
	// Output:
	// example-carrier.net ipls Indianapolis 2 0
	// example-carrier.net omha Omaha 2 0
	// Indianapolis operator-site
}

// The embedded conventions: one domain per operator, the codes it
// publishes or that public traces show, each with its source.
func ExampleEmbeddedConventions() {
	c := rdns.EmbeddedConventions()
	for _, e := range c.Entries {
		if e.Domain == "ip.twelve99.net" && (e.Code == "bei" || e.Code == "ewr") {
			if e.Rejected != "" {
				fmt.Println(e.Code, "rejected:", e.Rejected)
				continue
			}
			fmt.Println(e.Code, e.Place.Name, e.Place.Country, e.Source)
		}
	}
	// Output:
	// bei Berlin DE arelion-lg
	// ewr rejected: Arelion's list gives ewr to two sites, New York and Piscataway
}

// WriteJSON writes the reviewable form: one entry a line.
func ExampleConventions_WriteJSON() {
	c := &rdns.Conventions{
		Domains: []rdns.Domain{{Domain: "bb.example.net", Pattern: `^(?P<loc>[a-z]+)\d*-`, Sources: []string{"NOC"}}},
		Entries: []rdns.Entry{{Domain: "bb.example.net", Code: "omha", Place: &rdns.Place{Name: "Omaha", Country: "US", Lat: 41.263, Lon: -96.053}, Support: 3, Source: "learned"}},
	}
	_ = c.WriteJSON(os.Stdout)
	// Output:
	// {
	//   "format": "geoloc-conventions/1",
	//   "domains": [
	//     {
	//       "domain": "bb.example.net",
	//       "pattern": "^(?P<loc>[a-z]+)\\d*-",
	//       "sources": [
	//         "NOC"
	//       ]
	//     }
	//   ],
	//   "entries": [
	//     {"domain":"bb.example.net","code":"omha","place":{"name":"Omaha","country":"US","lat":41.263,"lon":-96.053},"support":3,"source":"learned"}
	//   ]
	// }
}
