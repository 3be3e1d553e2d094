// Command geoloc shows where Internet traffic really goes: it traces (or reads
// saved traces of) the route to a host, locates every router on the way, and
// draws the result. Run `geoloc help` for the subcommands.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "geoloc: under construction")
	os.Exit(2)
}
