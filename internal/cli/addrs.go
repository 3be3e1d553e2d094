package cli

import (
	"net/netip"
)

// parseAddrs parses address arguments; at least one is needed.
func parseAddrs(args []string) ([]netip.Addr, error) {
	if len(args) == 0 {
		return nil, usagef("no address: give one or more IP addresses")
	}
	out := make([]netip.Addr, 0, len(args))
	for _, s := range args {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, usagef("%q is not an IP address", s)
		}
		out = append(out, a.Unmap())
	}
	return out, nil
}
