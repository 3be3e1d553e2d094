package cli

import (
	"time"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/rdns"
)

// ptrResolver returns the PTR resolver for the engine: the --dns server, or
// the system's first name server.
func (a *app) ptrResolver(server string) (geoloc.Resolver, error) {
	if server != "" {
		addr, err := dnsServerAddr(server)
		if err != nil {
			return nil, err
		}
		server = addr
	}
	return &rdns.Resolver{Server: server, Timeout: 2 * time.Second}, nil
}
