package cli

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/rdns"
)

// ptrResolver returns the PTR resolver for the engine: the --dns server, or
// the system's first name server. It warns once, on log, when lookups get
// no answers at all, so that a dead --dns server does not pass silently
// for routers without names.
func (a *app) ptrResolver(server string, log *slog.Logger) (geoloc.Resolver, error) {
	if server != "" {
		addr, err := dnsServerAddr(server)
		if err != nil {
			return nil, err
		}
		server = addr
	}
	r := &rdns.Resolver{Server: server, Timeout: 2 * time.Second}
	return &watchedResolver{r: r, server: server, log: log}, nil
}

// failuresBeforeWarning is how many lookups in a row must fail, with none
// answered, before the warning: one lost packet is no reason to shout.
const failuresBeforeWarning = 3

// watchedResolver counts failed PTR lookups.
type watchedResolver struct {
	r      *rdns.Resolver
	server string
	log    *slog.Logger

	mu       sync.Mutex
	answered int // lookups the server answered (a name or "no name")
	failed   int
	warned   bool
}

func (w *watchedResolver) LookupPTR(ctx context.Context, addr netip.Addr) (string, error) {
	name, err := w.r.LookupPTR(ctx, addr)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil {
		w.answered++
		return name, nil
	}
	if ctx.Err() != nil {
		return name, err
	}
	w.failed++
	if !w.warned && w.answered == 0 && w.failed >= failuresBeforeWarning && w.log != nil {
		w.warned = true
		server := w.server
		if server == "" {
			server = "the system's name server"
		}
		w.log.Warn("PTR lookups get no answer: routers without a name in the trace stay unnamed (check --dns, or --ptr=false)",
			"server", server, "failed", w.failed, "last", err)
	}
	return name, err
}
