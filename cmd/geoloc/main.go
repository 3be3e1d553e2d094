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
	"runtime/debug"
	"syscall"

	"github.com/geoloc-dev/geoloc/internal/cli"
)

// memoryLimit is the soft memory limit geoloc runs under unless GOMEMLIMIT
// says otherwise: the engine's live data (dictionaries, outlines, its
// bounded caches) stays well under it, so the garbage collector keeps the
// process this size however long the input, for a few percent of CPU.
const memoryLimit = 100 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	// SIGINT or SIGTERM stops the command: it leaves its output files as
	// they were and exits 130 or 143. A second signal gets the default
	// action, so a command that does not stop at once can still be killed
	// from the keyboard.
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		cancel(&cli.Interrupted{Signal: sig})
	}()
	os.Exit(cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}
