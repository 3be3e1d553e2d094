package har

import (
	"io"
	"iter"
	"net/netip"
	"slices"
)

// Host is one host a page visit contacted.
type Host struct {
	Name string `json:"host"`
	// Addrs are the distinct server addresses the HAR recorded for the
	// host's requests, in order of first appearance.
	Addrs []netip.Addr `json:"addrs"`
	// Requests counts the entries whose URL names this host.
	Requests int `json:"requests"`
}

// Bounds of a Summary, so that a HAR of any size costs bounded memory. A
// page visit contacts tens to hundreds of hosts, each at a few addresses.
const (
	// MaxHosts is how many distinct hosts a Summary lists; entries of
	// hosts past it are counted in Unlisted.
	MaxHosts = 10000
	// MaxAddrsPerHost is how many addresses a Host lists; more are
	// counted in DroppedAddrs.
	MaxAddrsPerHost = 64
	// MaxInvalidListed is how many errors Invalid holds; InvalidCount
	// counts them all.
	MaxInvalidListed = 100
)

// Summary is what a HAR tells about the hosts of a page visit.
type Summary struct {
	// Hosts in order of first request.
	Hosts []Host
	// Entries counts every entry read; Skipped counts those without a
	// network host (data:, blob:, about: URLs).
	Entries, Skipped int
	// MissingAddr counts entries with a host but no usable serverIPAddress.
	MissingAddr int
	// Invalid holds one error (a *SyntaxError naming the entry) per entry
	// whose URL has an invalid host name, the first MaxInvalidListed of
	// them; InvalidCount counts them all. Those entries are in Entries
	// but in no Host.
	Invalid      []error
	InvalidCount int
	// Unlisted counts the entries whose host came after MaxHosts others
	// (in Entries, in no Host); DroppedAddrs the addresses of a host past
	// its MaxAddrsPerHost.
	Unlisted, DroppedAddrs int
}

// Hosts reads the HAR in r and groups its entries by host. On a structural
// error it returns the hosts read so far with the error.
func Hosts(r io.Reader, opts Options) (*Summary, error) {
	return hostsOf(Entries(r, opts))
}

func hostsOf(entries iter.Seq2[Entry, error]) (*Summary, error) {
	s := &Summary{}
	index := map[string]int{}
	for e, err := range entries {
		if err != nil {
			return s, err
		}
		s.Entries++
		if e.HostError != nil {
			s.InvalidCount++
			if len(s.Invalid) < MaxInvalidListed {
				s.Invalid = append(s.Invalid, e.HostError)
			}
			continue
		}
		if e.Host == "" {
			s.Skipped++
			continue
		}
		i, ok := index[e.Host]
		if !ok && len(s.Hosts) >= MaxHosts {
			s.Unlisted++
			continue
		}
		if !ok {
			i = len(s.Hosts)
			index[e.Host] = i
			s.Hosts = append(s.Hosts, Host{Name: e.Host, Addrs: []netip.Addr{}})
		}
		h := &s.Hosts[i]
		h.Requests++
		// An IP-literal URL names its own address.
		if a, err := netip.ParseAddr(e.Host); err == nil {
			s.addAddr(h, a.Unmap())
		}
		if !e.ServerAddr.IsValid() || e.ServerAddr.IsUnspecified() {
			s.MissingAddr++
			continue
		}
		s.addAddr(h, e.ServerAddr)
	}
	return s, nil
}

func (s *Summary) addAddr(h *Host, a netip.Addr) {
	switch {
	case slices.Contains(h.Addrs, a):
	case len(h.Addrs) >= MaxAddrsPerHost:
		s.DroppedAddrs++
	default:
		h.Addrs = append(h.Addrs, a)
	}
}
