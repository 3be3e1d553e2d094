//go:build linux

package netemu

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTUNReceives(t *testing.T) {
	ns := NewNS(t)
	n := &Network{Paths: []Path{{Dst: netip.MustParsePrefix("203.0.113.0/24")}}}
	StartTUN(t, ns, n)
	require.NoError(t, ns.Do(func() error {
		c, err := net.Dial("udp", "203.0.113.5:9")
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("hello"))
		return err
	}))
	require.Eventually(t, func() bool { return n.Stats().Probes > 0 }, 2*time.Second, 10*time.Millisecond)
}
