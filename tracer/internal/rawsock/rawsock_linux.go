//go:build linux

package rawsock

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/geoloc-dev/geoloc/tracer/internal/probe"
)

// Conn is the socket set of one address family.
type Conn struct {
	v6     bool
	ping   bool
	pingID uint16

	send    int // v4: IP_HDRINCL raw socket; v6: raw ICMPv6 socket (also read)
	send6   int // v6 IPV6_HDRINCL socket (Linux >= 4.5), -1 if unavailable
	udp6    int // v6 raw UDP socket for sending (reads filtered out), -1 otherwise
	icmp    int // socket read for ICMP (v4 raw ICMP, v6 = send, ping socket)
	tcp     int // raw TCP socket read for SYN-ACK/RST (v6: also sends)
	lookupM sync.Mutex
	lookup  int // UDP socket connected to find source addresses

	wakeR, wakeW int
	// reading counts readers between a wake-up and their next poll.
	reading   atomic.Int32
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// Open creates the sockets of one family (4 or 6) in the calling thread's
// network namespace.
func Open(family int, mode Mode) (*Conn, error) {
	c := &Conn{v6: family == 6, send: -1, send6: -1, udp6: -1, icmp: -1, tcp: -1, lookup: -1, wakeR: -1, wakeW: -1}
	var err error
	if mode != Unprivileged {
		err = c.openRaw()
		if err == nil {
			return c, c.openCommon()
		}
		c.closeFDs()
		if mode == Privileged || !isPerm(err) {
			if isPerm(err) {
				return nil, ErrPrivilege
			}
			return nil, err
		}
	}
	if perr := c.openPing(); perr != nil {
		c.closeFDs()
		if isPerm(perr) {
			return nil, ErrPrivilege
		}
		return nil, perr
	}
	c.ping = true
	return c, c.openCommon()
}

func isPerm(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)
}

// Unprivileged reports whether the Conn uses ping sockets (ICMP only).
func (c *Conn) Unprivileged() bool { return c.ping }

// EchoID returns the kernel-chosen echo identifier of a ping socket, which
// every ICMP flow must use; 0 for raw sockets (any identifier works).
func (c *Conn) EchoID() uint16 { return c.pingID }

func sock(domain, typ, proto int) (int, error) {
	fd, err := unix.Socket(domain, typ|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return -1, fmt.Errorf("socket(%d, %d, %d): %w", domain, typ, proto, err)
	}
	return fd, nil
}

func (c *Conn) openRaw() error {
	var err error
	if !c.v6 {
		if c.send, err = sock(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW); err != nil {
			return err
		}
		if c.icmp, err = sock(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP); err != nil {
			return err
		}
		// The kernel hands a raw ICMP socket every ICMP message the host
		// gets; let only echo replies and errors through.
		if err := attachFilter(c.icmp, icmpAnswerFilter()); err != nil {
			return err
		}
		if c.tcp, err = sock(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_TCP); err != nil {
			return err
		}
		// Send-only for TCP probes is the HDRINCL socket; this one reads.
		if err := attachFilter(c.tcp, tcpAnswerFilter(true)); err != nil {
			return err
		}
		return nil
	}
	if c.send, err = sock(unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6); err != nil {
		return err
	}
	c.icmp = c.send
	var f unix.ICMPv6Filter
	for i := range f.Data {
		f.Data[i] = 0xffffffff // block all ...
	}
	for _, t := range []int{1, 2, 3, 4, 129} { // ... but errors and echo replies
		f.Data[t>>5] &^= 1 << (uint(t) & 31)
	}
	if err := unix.SetsockoptICMPv6Filter(c.send, unix.SOL_ICMPV6, unix.ICMPV6_FILTER, &f); err != nil {
		return fmt.Errorf("ICMP6_FILTER: %w", err)
	}
	if c.udp6, err = sock(unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_UDP); err != nil {
		return err
	}
	if err := attachFilter(c.udp6, []unix.SockFilter{{Code: 0x06, K: 0}}); err != nil { // ret #0: read nothing
		return err
	}
	if c.tcp, err = sock(unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_TCP); err != nil {
		return err
	}
	if err := attachFilter(c.tcp, tcpAnswerFilter(false)); err != nil {
		return err
	}
	// Whole IPv6 headers when the kernel allows: then probes carry the
	// flow's own flow label (the kernel's would be the same for all flows
	// of a raw socket, and IPv6 load balancers hash it).
	if fd, err := sock(unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_RAW); err == nil {
		if unix.SetsockoptInt(fd, unix.SOL_IPV6, unix.IPV6_HDRINCL, 1) == nil {
			c.send6 = fd
		} else {
			unix.Close(fd)
		}
	}
	return nil
}

// tcpAnswerFilter passes TCP segments with RST, or with SYN and ACK: the
// answers to SYN probes. withIPHeader: IPv4 raw sockets see the IP header.
func tcpAnswerFilter(withIPHeader bool) []unix.SockFilter {
	const (
		ldxMSH = 0xb1 // ldx 4*([k]&0xf)
		ldbInd = 0x50 // ldb [x+k]
		ldbAbs = 0x30 // ldb [k]
		jsetK  = 0x45
		andK   = 0x54
		jeqK   = 0x15
		ret    = 0x06
	)
	var p []unix.SockFilter
	if withIPHeader {
		p = append(p, unix.SockFilter{Code: ldxMSH, K: 0}, unix.SockFilter{Code: ldbInd, K: 13})
	} else {
		p = append(p, unix.SockFilter{Code: ldbAbs, K: 13})
	}
	return append(p,
		unix.SockFilter{Code: jsetK, Jt: 3, Jf: 0, K: 0x04}, // RST -> accept
		unix.SockFilter{Code: andK, K: 0x12},
		unix.SockFilter{Code: jeqK, Jt: 1, Jf: 0, K: 0x12}, // SYN|ACK -> accept
		unix.SockFilter{Code: ret, K: 0},
		unix.SockFilter{Code: ret, K: 0xffff},
	)
}

// icmpAnswerFilter passes IPv4 ICMP echo replies (0), destination
// unreachable (3), time exceeded (11) and parameter problem (12).
func icmpAnswerFilter() []unix.SockFilter {
	const (
		ldxMSH = 0xb1
		ldbInd = 0x50
		jeqK   = 0x15
		ret    = 0x06
	)
	return []unix.SockFilter{
		{Code: ldxMSH, K: 0},
		{Code: ldbInd, K: 0},
		{Code: jeqK, Jt: 4, K: 0},
		{Code: jeqK, Jt: 3, K: 3},
		{Code: jeqK, Jt: 2, K: 11},
		{Code: jeqK, Jt: 1, K: 12},
		{Code: ret, K: 0},
		{Code: ret, K: 0xffff},
	}
}

func attachFilter(fd int, prog []unix.SockFilter) error {
	fp := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp); err != nil {
		return fmt.Errorf("SO_ATTACH_FILTER: %w", err)
	}
	return nil
}

func (c *Conn) openPing() error {
	var err error
	if !c.v6 {
		if c.icmp, err = sock(unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP); err != nil {
			return err
		}
		if err := unix.Bind(c.icmp, &unix.SockaddrInet4{}); err != nil {
			return fmt.Errorf("bind ping socket: %w", err)
		}
		_ = unix.SetsockoptInt(c.icmp, unix.SOL_IP, unix.IP_RECVERR, 1)
		_ = unix.SetsockoptInt(c.icmp, unix.SOL_IP, unix.IP_RECVTTL, 1)
	} else {
		if c.icmp, err = sock(unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6); err != nil {
			return err
		}
		if err := unix.Bind(c.icmp, &unix.SockaddrInet6{}); err != nil {
			return fmt.Errorf("bind ping socket: %w", err)
		}
		_ = unix.SetsockoptInt(c.icmp, unix.SOL_IPV6, unix.IPV6_RECVERR, 1)
		_ = unix.SetsockoptInt(c.icmp, unix.SOL_IPV6, unix.IPV6_RECVHOPLIMIT, 1)
	}
	sa, err := unix.Getsockname(c.icmp)
	if err != nil {
		return fmt.Errorf("getsockname: %w", err)
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		c.pingID = uint16(sa.Port)
	case *unix.SockaddrInet6:
		c.pingID = uint16(sa.Port)
	}
	c.send = c.icmp
	return nil
}

func (c *Conn) openCommon() error {
	var err error
	dom := unix.AF_INET
	if c.v6 {
		dom = unix.AF_INET6
	}
	if c.lookup, err = sock(dom, unix.SOCK_DGRAM, unix.IPPROTO_UDP); err != nil {
		c.closeFDs()
		return err
	}
	for _, fd := range []int{c.icmp, c.tcp} {
		if fd < 0 {
			continue
		}
		// Kernel receive timestamps: RTTs do not include scheduling delays.
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20) != nil {
			_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
		}
		if c.v6 && !c.ping {
			_ = unix.SetsockoptInt(fd, unix.SOL_IPV6, unix.IPV6_RECVHOPLIMIT, 1)
			_ = unix.SetsockoptInt(fd, unix.SOL_IPV6, unix.IPV6_RECVPKTINFO, 1)
		}
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		c.closeFDs()
		return fmt.Errorf("pipe: %w", err)
	}
	c.wakeR, c.wakeW = p[0], p[1]
	return nil
}

func (c *Conn) closeFDs() {
	seen := map[int]bool{}
	for _, fd := range []int{c.send, c.send6, c.udp6, c.icmp, c.tcp, c.lookup, c.wakeR, c.wakeW} {
		if fd >= 0 && !seen[fd] {
			seen[fd] = true
			unix.Close(fd)
		}
	}
}

// Close stops the readers and closes every socket.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		if c.wakeW >= 0 {
			unix.Write(c.wakeW, []byte{1})
		}
		c.wg.Wait()
		c.closeFDs()
	})
	return nil
}

// Source returns the local address the kernel would use to reach dst.
func (c *Conn) Source(dst netip.Addr) (netip.Addr, error) {
	c.lookupM.Lock()
	defer c.lookupM.Unlock()
	if err := unix.Connect(c.lookup, sockaddr(dst, 33434)); err != nil {
		return netip.Addr{}, fmt.Errorf("route to %s: %w", dst, err)
	}
	sa, err := unix.Getsockname(c.lookup)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("route to %s: %w", dst, err)
	}
	return addrOf(sa), nil
}

func sockaddr(a netip.Addr, port int) unix.Sockaddr {
	if a.Is4() {
		return &unix.SockaddrInet4{Addr: a.As4(), Port: port}
	}
	return &unix.SockaddrInet6{Addr: a.As16(), Port: port}
}

func addrOf(sa unix.Sockaddr) netip.Addr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrFrom4(sa.Addr)
	case *unix.SockaddrInet6:
		return netip.AddrFrom16(sa.Addr)
	}
	return netip.Addr{}
}

// Send sends one probe and returns the time just before it left.
func (c *Conn) Send(p Probe) (time.Time, error) {
	f := p.Flow
	if c.ping {
		if f.Proto != probe.ICMP {
			return time.Time{}, fmt.Errorf("%s probes: %w", f.Proto, ErrPrivilege)
		}
		f.ID = c.pingID
	}
	var (
		fd   int
		data []byte
		oob  []byte
	)
	to := sockaddr(f.Dst, 0)
	switch {
	case !c.v6 && !c.ping:
		fd = c.send
		data = f.IPv4Packet(p.Tag, uint8(p.TTL), p.Tag, p.Payload)
	case !c.v6: // ping socket
		fd = c.send
		data = f.Transport(p.Tag, p.Payload)
		oob = cmsgInt(unix.SOL_IP, unix.IP_TTL, p.TTL)
	case !c.ping && c.send6 >= 0:
		fd = c.send6
		data = f.IPv6Packet(p.Tag, uint8(p.TTL), p.Payload)
	default:
		fd = c.send
		switch f.Proto {
		case probe.UDP:
			fd = c.udp6
		case probe.TCP:
			fd = c.tcp
		}
		data = f.Transport(p.Tag, p.Payload)
		oob = append(cmsgInt(unix.SOL_IPV6, unix.IPV6_HOPLIMIT, p.TTL), cmsgPktinfo(f.Src)...)
	}
	for tries := 0; ; tries++ {
		at := time.Now()
		err := unix.Sendmsg(fd, data, oob, to, 0)
		if err == nil {
			return at, nil
		}
		// Full socket buffers: the rate limiter is set too high for the
		// link; back off briefly rather than drop the probe.
		if (errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EAGAIN)) && tries < 20 {
			time.Sleep(time.Millisecond)
			continue
		}
		// A ping socket reports a pending ICMP error (already queued for
		// the reader) on the next send, which then did not happen: retry.
		if c.ping && tries < 20 && (errors.Is(err, unix.ECONNREFUSED) || errors.Is(err, unix.EHOSTUNREACH) ||
			errors.Is(err, unix.ENETUNREACH) || errors.Is(err, unix.EHOSTDOWN) || errors.Is(err, unix.EPROTO) ||
			errors.Is(err, unix.EACCES) || errors.Is(err, unix.EMSGSIZE)) {
			continue
		}
		return at, fmt.Errorf("send to %s: %w", f.Dst, err)
	}
}

func cmsgInt(level, typ, v int) []byte {
	b := make([]byte, unix.CmsgSpace(4))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = int32(level), int32(typ)
	h.SetLen(unix.CmsgLen(4))
	binary.NativeEndian.PutUint32(b[unix.CmsgLen(0):], uint32(v))
	return b
}

func cmsgPktinfo(src netip.Addr) []byte {
	if !src.IsValid() {
		return nil
	}
	var pi unix.Inet6Pktinfo
	pi.Addr = src.As16()
	n := int(unsafe.Sizeof(pi))
	b := make([]byte, unix.CmsgSpace(n))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = unix.SOL_IPV6, unix.IPV6_PKTINFO
	h.SetLen(unix.CmsgLen(n))
	copy(b[unix.CmsgLen(0):], (*[unsafe.Sizeof(pi)]byte)(unsafe.Pointer(&pi))[:])
	return b
}

// Start runs the readers; handle gets every decoded reply, from several
// goroutines at once, until Close. Undecodable packets are dropped.
func (c *Conn) Start(handle func(Packet)) {
	kind := func(fd int, proto int) {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.readLoop(fd, proto, handle)
		}()
	}
	kind(c.icmp, unix.IPPROTO_ICMP)
	if c.tcp >= 0 {
		kind(c.tcp, unix.IPPROTO_TCP)
	}
}

func (c *Conn) readLoop(fd, proto int, handle func(Packet)) {
	buf := make([]byte, 65536)
	oob := make([]byte, 512)
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN | unix.POLLERR}, {Fd: int32(c.wakeR), Events: unix.POLLIN}}
	for {
		pfd[0].Revents, pfd[1].Revents = 0, 0
		_, err := unix.Poll(pfd, -1)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		if pfd[1].Revents != 0 {
			return
		}
		c.reading.Add(1)
		// Drain both queues before polling again.
		for {
			got := false
			if c.ping {
				if pkt, ok, done := c.readOne(fd, proto, buf, oob, unix.MSG_ERRQUEUE); done {
					got = true
					if ok {
						handle(pkt)
					}
				}
			}
			if pkt, ok, done := c.readOne(fd, proto, buf, oob, 0); done {
				got = true
				if ok {
					handle(pkt)
				}
			}
			if !got {
				break
			}
		}
		if pfd[0].Revents&unix.POLLERR != 0 {
			// A ping socket keeps reporting POLLERR while the error of its
			// last ICMP error (already read from the error queue) is
			// pending: clear it, or poll would spin.
			_, _ = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		}
		c.reading.Add(-1)
	}
}

// Idle reports that no reader is handling packets and no socket has one
// waiting.
func (c *Conn) Idle() bool {
	if c.reading.Load() != 0 {
		return false
	}
	var pfd []unix.PollFd
	for _, fd := range []int{c.icmp, c.tcp} {
		if fd >= 0 {
			pfd = append(pfd, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN | unix.POLLERR})
		}
	}
	n, err := unix.Poll(pfd, 0)
	return err == nil && n == 0 && c.reading.Load() == 0
}

// readOne reads one datagram; done is false when the queue was empty.
func (c *Conn) readOne(fd, proto int, buf, oob []byte, flags int) (pkt Packet, ok, done bool) {
	n, oobn, _, from, err := unix.Recvmsg(fd, buf, oob, flags|unix.MSG_DONTWAIT)
	if err != nil {
		return pkt, false, !errors.Is(err, unix.EAGAIN) && !errors.Is(err, syscall.EWOULDBLOCK)
	}
	at := time.Now()
	var (
		hop    int
		to     netip.Addr
		ee     *unix.SockExtendedErr
		eeFrom netip.Addr
	)
	if cms, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, m := range cms {
			switch {
			case m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16:
				sec := int64(binary.NativeEndian.Uint64(m.Data[0:]))
				nsec := int64(binary.NativeEndian.Uint64(m.Data[8:]))
				if sec != 0 {
					at = time.Unix(sec, nsec)
				}
			case (m.Header.Level == unix.SOL_IPV6 && m.Header.Type == unix.IPV6_HOPLIMIT) ||
				(m.Header.Level == unix.SOL_IP && m.Header.Type == unix.IP_TTL):
				if len(m.Data) >= 4 {
					hop = int(binary.NativeEndian.Uint32(m.Data))
				}
			case m.Header.Level == unix.SOL_IPV6 && m.Header.Type == unix.IPV6_PKTINFO && len(m.Data) >= 16:
				to = netip.AddrFrom16([16]byte(m.Data[:16]))
			case (m.Header.Level == unix.SOL_IP && m.Header.Type == unix.IP_RECVERR) ||
				(m.Header.Level == unix.SOL_IPV6 && m.Header.Type == unix.IPV6_RECVERR):
				if len(m.Data) >= int(unsafe.Sizeof(unix.SockExtendedErr{})) {
					e := *(*unix.SockExtendedErr)(unsafe.Pointer(&m.Data[0]))
					ee = &e
					eeFrom = offender(m.Data[unsafe.Sizeof(e):])
				}
			}
		}
	}
	data := buf[:n]
	src := addrOf(from)
	var r probe.Reply
	switch {
	case flags&unix.MSG_ERRQUEUE != 0:
		if ee == nil {
			return pkt, false, true
		}
		r, err = errQueueReply(ee, eeFrom, src, data, c.v6)
	case !c.v6 && !c.ping:
		r, err = probe.ParseIPv4(data)
	case !c.v6: // v4 ping socket: ICMP message without IP header
		r, err = probe.ParseICMPv4(src, hop, data)
	case proto == unix.IPPROTO_TCP:
		r, err = probe.ParseTCP(src, to, hop, data)
	default:
		r, err = probe.ParseICMPv6(src, to, hop, data)
	}
	if err != nil {
		return pkt, false, true
	}
	if c.ping && r.Proto == probe.ICMP && !r.Src.IsValid() {
		r.Src = to
	}
	return Packet{Reply: r, At: at}, true, true
}

// offender decodes the sockaddr after a sock_extended_err.
func offender(b []byte) netip.Addr {
	if len(b) < 2 {
		return netip.Addr{}
	}
	switch binary.NativeEndian.Uint16(b) {
	case unix.AF_INET:
		if len(b) >= 8 {
			return netip.AddrFrom4([4]byte(b[4:8]))
		}
	case unix.AF_INET6:
		if len(b) >= 24 {
			return netip.AddrFrom16([16]byte(b[8:24]))
		}
	}
	return netip.Addr{}
}

// errQueueReply turns a ping socket's queued ICMP error into a Reply. data
// is the echo request as the kernel quoted it; dst the probe's destination.
func errQueueReply(ee *unix.SockExtendedErr, from, dst netip.Addr, data []byte, v6 bool) (probe.Reply, error) {
	if ee.Origin != unix.SO_EE_ORIGIN_ICMP && ee.Origin != unix.SO_EE_ORIGIN_ICMP6 {
		return probe.Reply{}, fmt.Errorf("local error %d: %w", ee.Errno, probe.ErrNotReply)
	}
	if len(data) < 8 || !from.IsValid() {
		return probe.Reply{}, fmt.Errorf("error queue: short: %w", probe.ErrNotReply)
	}
	return probe.ReplyFromError(from, dst, ee.Type, ee.Code, int(ee.Info), v6, data)
}
