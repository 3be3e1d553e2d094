// Command maps reads located results (the JSON Lines regeo writes) and
// writes a GeoJSON map and the countries-crossed report, each streamed
// into its file and put in place atomically at the end.
//
//	go run ./examples/regeo ... > results.jsonl
//	go run ./examples/maps results.jsonl routes.geojson countries.txt
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/output"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: maps RESULTS.jsonl MAP.geojson REPORT.txt")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(in, mapPath, reportPath string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()

	// One stream per output; each file appears whole or not at all.
	var files []*output.AtomicFile
	var streams []output.Stream
	for _, o := range []struct{ path, format string }{{mapPath, "geojson"}, {reportPath, "report"}} {
		w, err := output.ForName(o.format)
		if err != nil {
			return err
		}
		af, err := output.CreateAtomic(o.path)
		if err != nil {
			return err
		}
		defer af.Abort() // does nothing once committed
		s, err := w.Begin(af, output.Options{Title: "routes"})
		if err != nil {
			return err
		}
		files, streams = append(files, af), append(streams, s)
	}

	dec := json.NewDecoder(bufio.NewReader(f))
	for {
		var r geoloc.TraceResult
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
		// Results read back from JSON carry their countries; recompute
		// them with the engine's rule if they might be stale.
		c := geoloc.Crossed(r.Hops)
		r.Countries = c.Countries
		for _, s := range streams {
			if err := s.Add(&r); err != nil {
				return err
			}
		}
	}
	for i, s := range streams {
		if err := s.Close(); err != nil {
			return err
		}
		if err := files[i].Commit(); err != nil {
			return err
		}
	}
	return nil
}
