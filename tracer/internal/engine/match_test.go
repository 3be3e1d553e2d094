package engine

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/tracer/internal/probe"
	"github.com/geoloc-dev/geoloc/tracer/internal/rawsock"
)

// TestDeliverChecksAnswers hands the reader's delivery replies that name a
// live probe's tag: only those that answer that very probe may reach its
// trace (issue 16 item 12: the ICMP checksum and the quoted source count).
func TestDeliverChecksAnswers(t *testing.T) {
	var (
		src4     = netip.MustParseAddr("192.0.2.1")
		other4   = netip.MustParseAddr("192.0.2.77") // another host, or another address of ours
		dst4     = netip.MustParseAddr("203.0.113.9")
		router4  = netip.MustParseAddr("198.51.100.7")
		src6     = netip.MustParseAddr("2001:db8::1")
		other6   = netip.MustParseAddr("2001:db8::77")
		dst6     = netip.MustParseAddr("2001:db8:9::9")
		router6  = netip.MustParseAddr("2001:db8:7::7")
		tag      = uint16(0x0b0c)
		flowsFor = func(src, dst netip.Addr) []probe.Flow {
			return []probe.Flow{
				{Proto: probe.ICMP, Src: src, Dst: dst, ID: 0x4242, Checksum: 0x1234},
				{Proto: probe.UDP, Src: src, Dst: dst, SrcPort: 40001, DstPort: 33434},
				{Proto: probe.TCP, Src: src, Dst: dst, SrcPort: 40002, DstPort: 80},
			}
		}
	)
	// sent is the probe as the answering router got it (TTL 1), from src.
	sent := func(fl probe.Flow, src netip.Addr) []byte {
		fl.Src = src
		if fl.Dst.Is4() {
			return fl.IPv4Packet(tag, 1, 7, probe.DefaultPayload)
		}
		return fl.IPv6Packet(tag, 1, probe.DefaultPayload)
	}
	// answer is the destination's reply to the probe, sent to to.
	answer := func(fl probe.Flow, to netip.Addr) []byte {
		switch fl.Proto {
		case probe.ICMP:
			return probe.EchoReply(fl.Dst, to, 60, fl.Transport(tag, probe.DefaultPayload))
		case probe.TCP:
			return probe.TCPReply(fl.Dst, to, 60, fl.Transport(tag, 0), false)
		}
		code := uint8(3)
		if fl.Dst.Is6() {
			code = 4
		}
		return probe.ICMPError(fl.Dst, to, 60, probe.KindUnreachable, code, 0, sent(fl, to), nil)
	}
	badSum := func(b []byte) []byte {
		b = append([]byte(nil), b...)
		l3 := 20
		if b[0]>>4 == 6 {
			l3 = 40
		}
		b[l3+2] ^= 0x5a // the ICMP checksum field
		return b
	}
	type tc struct {
		name  string
		fl    probe.Flow
		pkt   []byte
		match bool
	}
	var tests []tc
	for _, fam := range []struct{ src, other, dst, router netip.Addr }{{src4, other4, dst4, router4}, {src6, other6, dst6, router6}} {
		for _, fl := range flowsFor(fam.src, fam.dst) {
			name := fl.Proto.String() + "/" + map[bool]string{true: "v4", false: "v6"}[fam.src.Is4()]
			te := probe.ICMPError(fam.router, fam.src, 250, probe.KindTimeExceeded, 0, 0, sent(fl, fam.src), nil)
			tests = append(tests,
				tc{name + "/time exceeded", fl, te, true},
				tc{name + "/time exceeded, bad checksum", fl, badSum(te), false},
				tc{name + "/time exceeded quoting another source", fl, probe.ICMPError(fam.router, fam.src, 250, probe.KindTimeExceeded, 0, 0, sent(fl, fam.other), nil), false},
				tc{name + "/destination answer", fl, answer(fl, fam.src), true},
				tc{name + "/destination answer to another address", fl, answer(fl, fam.other), false},
			)
			if fl.Proto != probe.TCP {
				tests = append(tests, tc{name + "/destination answer, bad checksum", fl, badSum(answer(fl, fam.src)), false})
			}
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Decode as the v4 raw socket reader and the emulator do (the
			// kernel verifies ICMPv6 checksums before raw sockets read).
			var (
				rep probe.Reply
				err error
			)
			if tt.pkt[0]>>4 == 4 {
				rep, err = probe.ParseIPv4(tt.pkt)
			} else {
				rep, err = probe.ParseIPv6Packet(tt.pkt)
			}
			got := false
			if err == nil {
				require.Equal(t, tag, rep.Tag, "the reply names the live probe")
				f := &family{pending: map[uint16]*waiting{}}
				w := &waiting{run: &run{events: make(chan event, 1)}, flow: &tt.fl}
				f.pending[tag] = w
				f.deliver(rawsock.Packet{Reply: rep})
				got = len(w.run.events) == 1
			} else {
				require.ErrorIs(t, err, probe.ErrChecksum)
			}
			assert.Equal(t, tt.match, got)
		})
	}
}
