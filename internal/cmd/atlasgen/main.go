// Command atlasgen writes synthetic RIPE Atlas traceroute results
// (internal/atlasgen) to standard output, for memory and speed runs of the
// CLI on inputs of any size:
//
//	go run ./internal/cmd/atlasgen -mb 100 > atlas.jsonl
//	go run ./internal/cmd/atlasgen -mb 100 -routers 50000 > atlas.jsonl  # addresses repeat
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/geoloc-dev/geoloc/internal/atlasgen"
)

func main() {
	mb := flag.Int64("mb", 10, "MiB of results to write (whole records)")
	array := flag.Bool("array", false, "one JSON array (as the API serves) instead of JSON Lines")
	routers := flag.Int("routers", 0, "draw hop addresses (Zipf) from this many router addresses per family, as real data repeats them; 0: every hop address fresh")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	g := atlasgen.New(*mb<<20, *array)
	g.SetRouters(*routers)
	if _, err := io.Copy(w, g); err != nil {
		fmt.Fprintln(os.Stderr, "atlasgen:", err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "atlasgen:", err)
		os.Exit(1)
	}
}
