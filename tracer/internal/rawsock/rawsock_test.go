//go:build linux

package rawsock

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/geoloc-dev/geoloc/tracer/internal/probe"
)

func TestOffender(t *testing.T) {
	b4 := make([]byte, 16)
	binary.NativeEndian.PutUint16(b4, unix.AF_INET)
	copy(b4[4:8], []byte{198, 51, 100, 9})
	assert.Equal(t, netip.MustParseAddr("198.51.100.9"), offender(b4))
	b6 := make([]byte, 28)
	binary.NativeEndian.PutUint16(b6, unix.AF_INET6)
	a6 := netip.MustParseAddr("2001:db8::9").As16()
	copy(b6[8:24], a6[:])
	assert.Equal(t, netip.MustParseAddr("2001:db8::9"), offender(b6))
	assert.False(t, offender(nil).IsValid())
	assert.False(t, offender(b4[:6]).IsValid())
}

func TestCmsgInt(t *testing.T) {
	b := cmsgInt(unix.SOL_IPV6, unix.IPV6_HOPLIMIT, 17)
	msgs, err := unix.ParseSocketControlMessage(b)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, int32(unix.SOL_IPV6), msgs[0].Header.Level)
	assert.Equal(t, int32(unix.IPV6_HOPLIMIT), msgs[0].Header.Type)
	assert.Equal(t, uint32(17), binary.NativeEndian.Uint32(msgs[0].Data))
}

func TestErrQueueReply(t *testing.T) {
	f := probe.Flow{Proto: probe.ICMP, Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("203.0.113.1"), ID: 5, Checksum: 77}
	ee := &unix.SockExtendedErr{Origin: unix.SO_EE_ORIGIN_ICMP, Type: 11}
	r, err := errQueueReply(ee, netip.MustParseAddr("198.51.100.1"), f.Dst, f.Transport(42, 8), false)
	require.NoError(t, err)
	assert.Equal(t, probe.KindTimeExceeded, r.Kind)
	assert.Equal(t, uint16(42), r.Tag)
	ee.Origin = unix.SO_EE_ORIGIN_LOCAL
	_, err = errQueueReply(ee, netip.MustParseAddr("198.51.100.1"), f.Dst, f.Transport(42, 8), false)
	require.ErrorIs(t, err, probe.ErrNotReply)
}
