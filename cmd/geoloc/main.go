// Command geoloc shows where Internet traffic really goes: it traces (or reads
// saved traces of) the route to a host, locates every router on the way, and
// draws the result. Run `geoloc help` for the subcommands.
//
// The command's body is internal/cli; this file only connects it to the
// process.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/geoloc-dev/geoloc/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
