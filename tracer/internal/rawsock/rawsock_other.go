//go:build !linux

package rawsock

import (
	"errors"
	"net/netip"
	"time"
)

// Conn is unavailable off Linux.
type Conn struct{}

var errUnsupported = errors.New("live tracing is implemented for Linux only")

// Open fails off Linux.
func Open(family int, mode Mode) (*Conn, error) { return nil, errUnsupported }

// Unprivileged is false.
func (c *Conn) Unprivileged() bool { return false }

// EchoID is 0.
func (c *Conn) EchoID() uint16 { return 0 }

// Close does nothing.
func (c *Conn) Close() error { return nil }

// Source fails.
func (c *Conn) Source(dst netip.Addr) (netip.Addr, error) { return netip.Addr{}, errUnsupported }

// Send fails.
func (c *Conn) Send(p Probe) (time.Time, error) { return time.Time{}, errUnsupported }

// Start does nothing.
func (c *Conn) Start(handle func(Packet)) {}

// Idle is true.
func (c *Conn) Idle() bool { return true }
