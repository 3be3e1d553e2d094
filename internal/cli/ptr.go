package cli

import (
	"context"
	"net/netip"

	"github.com/geoloc-dev/geoloc/geoloc"
)

// ptrResolver returns the PTR resolver for the engine.
func (a *app) ptrResolver(_ string) (geoloc.Resolver, error) {
	return nil, notAvailable("PTR lookups (--ptr)", "rdns (rdns.Resolver)")
}

var _ = context.Background
var _ netip.Addr
