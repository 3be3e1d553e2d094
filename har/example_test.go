package har_test

import (
	"fmt"
	"strings"

	"github.com/geoloc-dev/geoloc/har"
)

// Which hosts did a page visit contact, and at which addresses? A HAR as
// browsers save it (trimmed to the fields that matter here).
func ExampleHosts() {
	const page = `{"log":{"version":"1.2","entries":[
	  {"request":{"method":"GET","url":"https://www.example.org/"},"serverIPAddress":"203.0.113.80","time":31.5},
	  {"request":{"method":"GET","url":"https://cdn.example.net/app.js"},"serverIPAddress":"[2001:db8::443]","time":12},
	  {"request":{"method":"GET","url":"https://www.example.org/logo.svg"},"serverIPAddress":"203.0.113.80","time":4},
	  {"request":{"method":"GET","url":"data:image/png;base64,iVBORw0KGgo="},"time":0}
	]}}`
	s, err := har.Hosts(strings.NewReader(page), har.Options{Input: "page.har"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, h := range s.Hosts {
		fmt.Println(h.Name, h.Addrs, h.Requests)
	}
	fmt.Println("skipped:", s.Skipped)
	// Output:
	// www.example.org [203.0.113.80] 2
	// cdn.example.net [2001:db8::443] 1
	// skipped: 1
}
