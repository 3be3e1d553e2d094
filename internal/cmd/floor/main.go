// Command floor is the floor scripts/bench-regeo.sh measures geoloc regeo
// against: the least any program must do with the same input — decode
// RIPE Atlas JSON Lines from stdin with encoding/json and do one MaxMind DB
// lookup (decoding the city and its coordinates) for each hop's first
// responding address — on one core, nothing else.
//
//	go run ./internal/cmd/floor CITY.mmdb < atlas.jsonl
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"runtime"

	"github.com/oschwald/maxminddb-golang/v2"
)

type result struct {
	Result []struct {
		Hop    int `json:"hop"`
		Result []struct {
			From string `json:"from"`
		} `json:"result"`
	} `json:"result"`
}

type city struct {
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Location struct {
		Lat float64 `maxminddb:"latitude"`
		Lon float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
}

func main() {
	runtime.GOMAXPROCS(1)
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: floor CITY.mmdb < atlas.jsonl")
		os.Exit(2)
	}
	db, err := maxminddb.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer db.Close()
	sc := bufio.NewScanner(bufio.NewReaderSize(os.Stdin, 1<<20))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	traces, hops, found := 0, 0, 0
	for sc.Scan() {
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue
		}
		traces++
		for _, h := range r.Result {
			for _, p := range h.Result {
				a, err := netip.ParseAddr(p.From)
				if err != nil {
					continue
				}
				hops++
				var c city
				if err := db.Lookup(a).Decode(&c); err == nil && c.City.Names["en"] != "" {
					found++
				}
				break
			}
		}
	}
	fmt.Printf("floor: %d traces, %d hops, %d found\n", traces, hops, found)
}
