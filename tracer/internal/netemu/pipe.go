package netemu

import (
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/geoloc-dev/geoloc/tracer/internal/probe"
	"github.com/geoloc-dev/geoloc/tracer/internal/rawsock"
)

// Pipe connects the tracer engine to a Network in-process, without
// sockets or privileges: probes become datagrams, the Network's replies
// are decoded as the socket readers would and delivered after their
// delay. It implements the engine's Conn interface.
type Pipe struct {
	Net *Network
	Src netip.Addr // the local address

	mu     sync.Mutex
	handle func(rawsock.Packet)
	closed bool
	timers []*time.Timer
	due    map[*Reply]time.Time // deliveries not yet made
}

// NewPipe returns a Pipe to n from src.
func NewPipe(n *Network, src netip.Addr) *Pipe { return &Pipe{Net: n, Src: src} }

// Send hands the probe to the network.
func (p *Pipe) Send(pr rawsock.Probe) (time.Time, error) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return time.Time{}, errors.New("pipe closed")
	}
	var pkt []byte
	if pr.Flow.Dst.Is4() {
		pkt = pr.Flow.IPv4Packet(pr.Tag, uint8(pr.TTL), pr.Tag, pr.Payload)
	} else {
		pkt = pr.Flow.IPv6Packet(pr.Tag, uint8(pr.TTL), pr.Payload)
	}
	now := time.Now()
	for _, r := range p.Net.Answer(pkt, now) {
		p.deliver(r)
	}
	return now, nil
}

// Inject delivers a datagram as if the network had sent it.
func (p *Pipe) Inject(pkt []byte) { p.deliver(Reply{Data: pkt}) }

func (p *Pipe) deliver(r Reply) {
	// Stamp replies with the time they were due, as the kernel stamps
	// arrivals, however late the timer fires on a loaded machine.
	due := time.Now().Add(r.Delay)
	key := &r
	fire := func() {
		defer func() {
			p.mu.Lock()
			delete(p.due, key)
			p.mu.Unlock()
		}()
		var (
			rep probe.Reply
			err error
		)
		if r.Data[0]>>4 == 4 {
			rep, err = probe.ParseIPv4(r.Data)
		} else {
			rep, err = probe.ParseIPv6Packet(r.Data)
		}
		p.mu.Lock()
		h, closed := p.handle, p.closed
		p.mu.Unlock()
		if err != nil || h == nil || closed {
			return
		}
		h(rawsock.Packet{Reply: rep, At: due})
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.due == nil {
		p.due = map[*Reply]time.Time{}
	}
	p.due[key] = due
	p.timers = append(p.timers, time.AfterFunc(r.Delay, fire))
}

// Idle reports that no reply due by now is still undelivered.
func (p *Pipe) Idle() bool {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, d := range p.due {
		if !d.After(now) {
			return false
		}
	}
	return true
}

// Source returns Src.
func (p *Pipe) Source(dst netip.Addr) (netip.Addr, error) { return p.Src, nil }

// Start sets the reply handler.
func (p *Pipe) Start(handle func(rawsock.Packet)) {
	p.mu.Lock()
	p.handle = handle
	p.mu.Unlock()
}

// Close stops deliveries.
func (p *Pipe) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, t := range p.timers {
		t.Stop()
	}
	return nil
}

// Unprivileged is false: the pipe behaves as raw sockets.
func (p *Pipe) Unprivileged() bool { return false }

// EchoID is 0: any identifier works.
func (p *Pipe) EchoID() uint16 { return 0 }
