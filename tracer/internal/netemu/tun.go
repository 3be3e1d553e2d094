//go:build linux

package netemu

import (
	"fmt"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Emulator is a Network running behind a TUN device in a namespace.
type Emulator struct {
	NS  *NS
	Net *Network
	tun *os.File
	wg  sync.WaitGroup
	// mu guards closed: replies scheduled after Close are dropped.
	mu     sync.Mutex
	closed bool
}

const tunName = "geotun0"

// StartTUN creates a TUN device in ns, gives the namespace the addresses
// Local4 and Local6, routes every path's destination prefix and every
// router address into the device, and answers what arrives with n.
// The emulator stops at the test's cleanup.
func StartTUN(tb testing.TB, ns *NS, n *Network) *Emulator {
	tb.Helper()
	e, err := Start(ns, n)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.Close)
	return e
}

// Start is StartTUN for programs: the caller closes the Emulator.
func Start(ns *NS, n *Network) (*Emulator, error) {
	e := &Emulator{NS: ns, Net: n}
	err := ns.Do(func() error {
		// Attach before handing the fd to Go's poller: an unattached TUN
		// file polls as an error, which the poller would remember.
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open /dev/net/tun: %w", err)
		}
		var req [unix.IFNAMSIZ + 64]byte
		copy(req[:], tunName)
		*(*uint16)(unsafe.Pointer(&req[unix.IFNAMSIZ])) = unix.IFF_TUN | unix.IFF_NO_PI
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&req[0]))); errno != 0 {
			unix.Close(fd)
			return fmt.Errorf("TUNSETIFF: %w", errno)
		}
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
			return err
		}
		f := os.NewFile(uintptr(fd), "/dev/net/tun")
		e.tun = f
		return nil
	})
	if err != nil {
		return nil, err
	}
	cmds := [][]string{
		// A long queue: a tracer's bursts must not overflow the device
		// while the emulator catches up (the default 500 drops probes).
		{"link", "set", tunName, "txqueuelen", "20000", "up"},
		{"addr", "add", Local4.String() + "/32", "dev", tunName},
		{"-6", "addr", "add", Local6.String() + "/128", "dev", tunName, "nodad"},
	}
	routed := map[netip.Prefix]bool{}
	route := func(p netip.Prefix) {
		p = p.Masked()
		if routed[p] || !p.IsValid() {
			return
		}
		routed[p] = true
		args := []string{"route", "add", p.String(), "dev", tunName}
		if p.Addr().Is6() {
			args = append([]string{"-6"}, args...)
		}
		cmds = append(cmds, args)
	}
	for _, p := range n.Paths {
		route(p.Dst)
		for _, h := range p.Hops {
			for _, r := range h {
				if r.Addr.IsValid() {
					route(netip.PrefixFrom(r.Addr, r.Addr.BitLen()))
				}
			}
		}
	}
	for _, c := range cmds {
		if err := ns.IP(c...); err != nil {
			e.tun.Close()
			return nil, err
		}
	}
	e.wg.Add(1)
	go e.serve()
	return e, nil
}

func (e *Emulator) serve() {
	defer e.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, err := e.tun.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		pkt := append([]byte(nil), buf[:n]...)
		for _, r := range e.Net.Answer(pkt, now) {
			e.send(r)
		}
	}
}

func (e *Emulator) send(r Reply) {
	write := func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if !e.closed {
			_, _ = e.tun.Write(r.Data)
		}
	}
	if r.Delay <= 0 {
		write()
		return
	}
	time.AfterFunc(r.Delay, write)
}

// Inject writes a datagram into the namespace as if the network sent it.
func (e *Emulator) Inject(pkt []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return os.ErrClosed
	}
	_, err := e.tun.Write(pkt)
	return err
}

// Close stops the emulator and removes the device.
func (e *Emulator) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	e.mu.Unlock()
	e.tun.Close()
	e.wg.Wait()
}
