// Command atlasgen writes synthetic RIPE Atlas traceroute results
// (internal/atlasgen) to standard output, for memory and speed runs of the
// CLI on inputs of any size:
//
//	go run ./internal/cmd/atlasgen -mb 100 > atlas.jsonl
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
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	if _, err := io.Copy(w, atlasgen.New(*mb<<20, *array)); err != nil {
		fmt.Fprintln(os.Stderr, "atlasgen:", err)
		os.Exit(1)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "atlasgen:", err)
		os.Exit(1)
	}
}
