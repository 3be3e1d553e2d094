// Command worldgen writes a simulated world of the accuracy benchmark to
// files, for timing whole commands on it (scripts/bench-engine.sh): its
// traces as geoloc interchange JSON Lines, its two city databases and its
// ASN database as .mmdb files.
//
//	go run ./internal/accuracy/cmd/worldgen -seed 1 -traces 20000 -blind -out /tmp/world
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/geoloc-dev/geoloc/internal/accuracy"
	"github.com/geoloc-dev/geoloc/traceroute"
)

func main() {
	seed := flag.Uint64("seed", 1, "world seed")
	traces := flag.Int("traces", 10000, "number of traces")
	blind := flag.Bool("blind", false, "leave out the probes' positions (the engine must infer its vantage points)")
	out := flag.String("out", "", "output `DIR` (created)")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "worldgen: -out DIR is required")
		os.Exit(2)
	}
	if err := run(*seed, *traces, *blind, *out); err != nil {
		fmt.Fprintln(os.Stderr, "worldgen:", err)
		os.Exit(1)
	}
}

func run(seed uint64, n int, blind bool, dir string) error {
	w, err := accuracy.Build(accuracy.Config{Seed: seed, Traces: n, Access: true})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, d := range w.DBs {
		if err := os.WriteFile(filepath.Join(dir, d.Name+".mmdb"), d.Image, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "asn.mmdb"), w.ASN, 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "traces.jsonl"))
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	enc := traceroute.NewEncoder(bw)
	for _, t := range w.Traces {
		c := *t
		if blind {
			c.Source.Lat, c.Source.Lon = nil, nil
		}
		if err := enc.Encode(&c); err != nil {
			f.Close()
			return err
		}
	}
	if err := enc.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
