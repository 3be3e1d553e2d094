package cli_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/rdns"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// The library in a few lines, as the README shows it: read saved
// traceroute output in any format, locate every router, print where each
// one is. No database is opened here, so routers are placed from the
// location codes in their names and checked against their RTTs.
func Example_library() {
	const saved = `traceroute to baeldung.com (2606:4700:3030::6812:3e4e), 30 hops max, 80 byte packets
 4  xe-0-0-14-1.a02.tokyjp05.jp.bb.gin.ntt.net (2001:218:2000:5000::305)  0.908 ms  1.197 ms  1.097 ms
 5  ae-25.r02.tokyjp05.jp.bb.gin.ntt.net (2001:218:0:2000::59)  1.515 ms 1.744 ms  1.785 ms
 6  ae-4.r30.tokyjp05.jp.bb.gin.ntt.net (2001:218:0:2000::11a)  1.466 ms 1.538 ms 1.337 ms
`
	eng := geoloc.New(geoloc.Options{Hints: rdns.Hints})
	for t, err := range traceroute.Read(strings.NewReader(saved), traceroute.ReadOptions{}) {
		if err != nil {
			fmt.Println(err)
			continue
		}
		res, err := eng.Locate(context.Background(), t)
		if err != nil {
			fmt.Println(err)
			continue
		}
		for _, h := range res.Hops {
			if h.Location != nil {
				fmt.Printf("%d %s: %s, %s (%s)\n", h.TTL, h.Name, h.Location.City, h.Location.Country, h.Method)
			}
		}
		fmt.Println("countries:", res.Countries)
	}
	// Output:
	// 4 xe-0-0-14-1.a02.tokyjp05.jp.bb.gin.ntt.net: Tokyo, JP (rdns:clli-like)
	// 5 ae-25.r02.tokyjp05.jp.bb.gin.ntt.net: Tokyo, JP (rdns:clli-like)
	// 6 ae-4.r30.tokyjp05.jp.bb.gin.ntt.net: Tokyo, JP (rdns:clli-like)
	// countries: [JP]
}
