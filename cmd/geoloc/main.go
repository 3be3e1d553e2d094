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

// gcPercent is the collector's GOGC under that limit. The engine's live
// heap is small (20-40 MB: outlines, caches), so the default 100 collected
// every 20-40 MB of garbage, a fifth of regeo's CPU; at 400 it collects
// when the heap is five times the live data or at the limit, whichever
// comes first, so memory stays bounded by the limit all the same
// (scripts/bench-regeo.sh: about 10% less CPU, same peak RSS).
const gcPercent = 400

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(gcPercent)
		}
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
