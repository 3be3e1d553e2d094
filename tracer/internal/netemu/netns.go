//go:build linux

package netemu

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// Available says why namespace tests cannot run here (nil when they can):
// they need root, the ip command and /dev/net/tun.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("netemu: needs root (network namespaces, TUN, raw sockets)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("netemu: needs the ip command (Debian package iproute2)")
	}
	f, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("netemu: needs /dev/net/tun: %w", err)
	}
	f.Close()
	return nil
}

// NS is a network namespace made by a test and deleted by its cleanup.
type NS struct {
	Name string
}

var nsSeq atomic.Int64

// NewNS creates a namespace with a unique name and loopback up. It skips
// the test when namespaces are unavailable.
func NewNS(tb testing.TB) *NS {
	tb.Helper()
	if err := Available(); err != nil {
		tb.Skip(err)
	}
	ns, err := CreateNS(fmt.Sprintf("geoloc-%d-%d", os.Getpid(), nsSeq.Add(1)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = ns.Delete() })
	return ns
}

// CreateNS creates the named namespace with loopback up.
func CreateNS(name string) (*NS, error) {
	ns := &NS{Name: name}
	if err := run("ip", "netns", "add", ns.Name); err != nil {
		return nil, err
	}
	if err := ns.IP("link", "set", "lo", "up"); err != nil {
		_ = ns.Delete()
		return nil, err
	}
	return ns, nil
}

// Delete removes the namespace.
func (ns *NS) Delete() error { return run("ip", "netns", "del", ns.Name) }

// IP runs `ip -n NAME args...`.
func (ns *NS) IP(args ...string) error {
	return run("ip", append([]string{"-n", ns.Name}, args...)...)
}

// MustIP is IP failing the test on error.
func (ns *NS) MustIP(tb testing.TB, args ...string) {
	tb.Helper()
	if err := ns.IP(args...); err != nil {
		tb.Fatal(err)
	}
}

// Sysctl sets a sysctl inside the namespace (net.* keys are per
// namespace).
func (ns *NS) Sysctl(key, value string) error {
	return ns.Do(func() error {
		p := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
		return os.WriteFile(p, []byte(value), 0o644)
	})
}

// Do runs fn on an OS thread switched into the namespace. Sockets and TUN
// devices fn creates stay in the namespace after Do returns.
func (ns *NS) Do(fn func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + ns.Name)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("setns %s: %w", ns.Name, err)
	}
	ferr := fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: the runtime retires it with the goroutine.
		return errors.Join(ferr, fmt.Errorf("setns back: %w", err))
	}
	runtime.UnlockOSThread()
	return ferr
}

// Exec returns a command that runs inside the namespace.
func (ns *NS) Exec(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Addresses a TUN namespace uses for itself.
var (
	Local4 = netip.MustParseAddr("192.0.2.1")
	Local6 = netip.MustParseAddr("2001:db8:ffff::1")
)
