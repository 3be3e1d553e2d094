package probe

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	src4    = netip.MustParseAddr("192.0.2.1")
	dst4    = netip.MustParseAddr("203.0.113.9")
	router4 = netip.MustParseAddr("198.51.100.7")
	src6    = netip.MustParseAddr("2001:db8::1")
	dst6    = netip.MustParseAddr("2001:db8:9::9")
	router6 = netip.MustParseAddr("2001:db8:7::7")
)

func flows() map[string]Flow {
	return map[string]Flow{
		"icmp4": {Proto: ICMP, Src: src4, Dst: dst4, ID: 0x4242, Checksum: 0x1234},
		"udp4":  {Proto: UDP, Src: src4, Dst: dst4, SrcPort: 40001, DstPort: 33434},
		"tcp4":  {Proto: TCP, Src: src4, Dst: dst4, SrcPort: 40002, DstPort: 80},
		"icmp6": {Proto: ICMP, Src: src6, Dst: dst6, ID: 0x4243, Checksum: 0xbeef},
		"udp6":  {Proto: UDP, Src: src6, Dst: dst6, SrcPort: 40003, DstPort: 33434},
		"tcp6":  {Proto: TCP, Src: src6, Dst: dst6, SrcPort: 40004, DstPort: 443},
	}
}

// packet builds the probe datagram as it arrives at the router that
// answers: TTL/hop limit 1.
func packet(f Flow, tag uint16) []byte {
	if f.Dst.Is4() {
		return f.IPv4Packet(tag, 1, 7, DefaultPayload)
	}
	return f.IPv6Packet(tag, 1, DefaultPayload)
}

func TestTransportChecksums(t *testing.T) {
	for name, f := range flows() {
		t.Run(name, func(t *testing.T) {
			var firstSum uint16
			for _, tag := range []uint16{1, 2, 3, 0x00ff, 0x7fff, 0x8000, 0xfffe} {
				b := f.Transport(tag, DefaultPayload)
				proto := uint8(f.Proto)
				if f.Proto == ICMP {
					proto = 0
					if !f.Dst.Is4() {
						proto = protoICMPv6
					}
				}
				// A correct Internet checksum verifies to zero.
				require.Equal(t, uint16(0), Checksum(f.Src, f.Dst, proto, b), "tag %d", tag)
				sum := binary.BigEndian.Uint16(b[csumOffset(f.Proto):])
				switch f.Proto {
				case ICMP:
					assert.Equal(t, f.Checksum, sum, "icmp checksum constant")
					assert.Equal(t, tag, binary.BigEndian.Uint16(b[6:]))
				case UDP:
					assert.Equal(t, tag, sum, "udp checksum is the tag")
					assert.Equal(t, f.SrcPort, binary.BigEndian.Uint16(b[0:]))
				case TCP:
					assert.Equal(t, tag, TagFromTCPSeq(binary.BigEndian.Uint32(b[4:])))
				}
				if firstSum == 0 {
					firstSum = sum
				}
			}
		})
	}
}

func csumOffset(p Proto) int {
	switch p {
	case UDP:
		return 6
	case TCP:
		return 16
	}
	return 2
}

func TestCompensateAllTargets(t *testing.T) {
	// Every allowed target checksum must be reachable whatever the payload.
	f := Flow{Proto: ICMP, Src: src4, Dst: dst4, ID: 1}
	for _, want := range []uint16{1, 2, 0x7fff, 0x8000, 0xfffd, 0xfffe} {
		for _, tag := range []uint16{1, 0x1111, 0xfffe} {
			f.Checksum = want
			b := f.Transport(tag, 5) // odd payload length
			require.Equal(t, uint16(0), Checksum(src4, dst4, 0, b))
			require.Equal(t, want, binary.BigEndian.Uint16(b[2:]))
		}
	}
}

func TestParseTimeExceededRoundTrip(t *testing.T) {
	mpls := []Label{{Label: 24001, TC: 0, S: false, TTL: 1}, {Label: 16, TC: 5, S: true, TTL: 1}}
	for name, f := range flows() {
		for _, withMPLS := range []bool{false, true} {
			t.Run(name, func(t *testing.T) {
				const tag = 0x0305
				router, to := router4, f.Src
				if !f.Dst.Is4() {
					router = router6
				}
				var labels []Label
				if withMPLS {
					labels = mpls
				}
				pkt := ICMPError(router, to, 250, KindTimeExceeded, 0, 0, packet(f, tag), labels)
				r, err := parse(pkt)
				require.NoError(t, err)
				assert.Equal(t, KindTimeExceeded, r.Kind)
				assert.Equal(t, router, r.From)
				assert.Equal(t, 250, r.ReplyTTL)
				assert.Equal(t, f.Proto, r.Proto)
				assert.Equal(t, f.Src, r.Src)
				assert.Equal(t, f.Dst, r.Dst)
				assert.Equal(t, uint16(tag), r.Tag)
				assert.Equal(t, f.SrcPort, r.SrcPort)
				assert.Equal(t, f.DstPort, r.DstPort)
				assert.Equal(t, f.ID, r.ID)
				assert.Equal(t, labels, r.MPLS)
				assert.Nil(t, r.Flags())
				assert.False(t, r.Final())
			})
		}
	}
}

// parse decodes a whole datagram of either family, as the tracer does.
func parse(b []byte) (Reply, error) {
	if b[0]>>4 == 4 {
		return ParseIPv4(b)
	}
	// Raw IPv6 sockets strip the header: decode the way they deliver.
	from := netip.AddrFrom16([16]byte(b[8:24]))
	to := netip.AddrFrom16([16]byte(b[24:40]))
	if b[6] == 6 {
		return ParseTCP(from, to, int(b[7]), b[40:])
	}
	return ParseICMPv6(from, to, int(b[7]), b[40:])
}

func TestParseDestinationAnswers(t *testing.T) {
	for name, f := range flows() {
		t.Run(name, func(t *testing.T) {
			const tag = 0x0a0b
			var pkt []byte
			switch f.Proto {
			case ICMP:
				pkt = EchoReply(f.Dst, f.Src, 60, f.Transport(tag, DefaultPayload))
			case TCP:
				pkt = TCPReply(f.Dst, f.Src, 60, f.Transport(tag, 0), true)
			case UDP:
				code := uint8(3)
				if !f.Dst.Is4() {
					code = 4
				}
				pkt = ICMPError(f.Dst, f.Src, 60, KindUnreachable, code, 0, packet(f, tag), nil)
			}
			for _, v := range []func([]byte) (Reply, error){parse, parseWhole} {
				r, err := v(pkt)
				require.NoError(t, err)
				assert.True(t, r.Final())
				assert.Equal(t, f.Dst, r.From)
				assert.Equal(t, f.Dst, r.Dst)
				assert.Equal(t, f.Src, r.Src)
				assert.Equal(t, uint16(tag), r.Tag)
				assert.Equal(t, f.Proto, r.Proto)
				assert.Nil(t, r.Flags(), "destination answers carry no annotation")
				assert.Equal(t, 60, r.ReplyTTL)
			}
		})
	}
}

func parseWhole(b []byte) (Reply, error) {
	if b[0]>>4 == 4 {
		return ParseIPv4(b)
	}
	return ParseIPv6Packet(b)
}

func TestTCPResetAndFlags(t *testing.T) {
	f := flows()["tcp4"]
	r, err := ParseIPv4(TCPReply(f.Dst, f.Src, 64, f.Transport(77, 0), false))
	require.NoError(t, err)
	assert.Equal(t, uint8(0x14), r.TCPFlags)
	assert.Equal(t, uint16(77), r.Tag)
	// A bare SYN (someone connecting to us) is not a reply.
	syn := IPv4(f.Dst, f.Src, 6, 64, f.Transport(5, 0))
	_, err = ParseIPv4(syn)
	require.ErrorIs(t, err, ErrNotReply)
}

func TestAnnotations(t *testing.T) {
	f4, f6 := flows()["udp4"], flows()["udp6"]
	tests := []struct {
		name  string
		f     Flow
		kind  Kind
		code  uint8
		mtu   int
		flags []string
	}{
		{"host4", f4, KindUnreachable, 1, 0, []string{"!H"}},
		{"net4", f4, KindUnreachable, 0, 0, []string{"!N"}},
		{"proto4", f4, KindUnreachable, 2, 0, []string{"!P"}},
		{"admin4", f4, KindUnreachable, 13, 0, []string{"!X"}},
		{"other4", f4, KindUnreachable, 9, 0, []string{"!9"}},
		{"frag4", f4, KindUnreachable, 4, 1400, []string{"!F"}},
		{"admin6", f6, KindUnreachable, 1, 0, []string{"!X"}},
		{"addr6", f6, KindUnreachable, 3, 0, []string{"!H"}},
		{"toobig6", f6, KindPacketTooBig, 0, 1280, []string{"!F"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			router := router4
			if !tt.f.Dst.Is4() {
				router = router6
			}
			r, err := parse(ICMPError(router, tt.f.Src, 64, tt.kind, tt.code, tt.mtu, packet(tt.f, 9), nil))
			require.NoError(t, err)
			assert.Equal(t, tt.flags, r.Flags())
			assert.Equal(t, tt.mtu, r.MTU)
			assert.Equal(t, uint16(9), r.Tag)
		})
	}
}

func TestParseRejects(t *testing.T) {
	f := flows()["icmp4"]
	echoReq := IPv4(f.Dst, f.Src, 1, 64, f.Transport(3, 8))
	tests := map[string][]byte{
		"empty":       {},
		"short":       {0x45, 0, 0},
		"bad ihl":     append([]byte{0x41}, make([]byte, 30)...),
		"echo req":    echoReq,
		"udp":         IPv4(f.Dst, f.Src, 17, 64, make([]byte, 8)),
		"short quote": ICMPError(router4, f.Src, 64, KindTimeExceeded, 0, 0, packet(f, 1)[:24], nil),
		// A time exceeded quoting an echo *reply* is nobody's probe.
		"quoted reply": ICMPError(router4, f.Src, 64, KindTimeExceeded, 0, 0, EchoReply(f.Src, f.Dst, 1, f.Transport(1, 8)), nil),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParseIPv4(b)
			require.Error(t, err)
		})
	}
}

// corruptICMP returns a copy of the whole datagram b with its ICMP
// checksum field (or, with at > 2, another ICMP byte) flipped.
func corruptICMP(b []byte, at int) []byte {
	b = append([]byte(nil), b...)
	l3 := 20
	if b[0]>>4 == 6 {
		l3 = 40
	}
	b[l3+at] ^= 0x5a
	return b
}

// otherSource is the probe datagram of f as if src had sent it.
func otherSource(f Flow, src netip.Addr, tag uint16) []byte {
	f.Src = src
	return packet(f, tag)
}

// TestParseChecksum: an ICMP reply whose checksum does not verify is
// refused where the tracer reads whole datagrams (raw IPv4 sockets, the
// emulator); a raw ICMPv6 socket's kernel has verified it already.
func TestParseChecksum(t *testing.T) {
	type tc struct {
		name    string
		pkt     []byte
		wantErr bool
	}
	var tests []tc
	for name, f := range flows() {
		router, l3 := router4, 20
		if !f.Dst.Is4() {
			router, l3 = router6, 40
		}
		te := ICMPError(router, f.Src, 250, KindTimeExceeded, 0, 0, packet(f, 9), nil)
		mpls := ICMPError(router, f.Src, 250, KindTimeExceeded, 0, 0, packet(f, 9), []Label{{Label: 16, S: true, TTL: 1}})
		tests = append(tests,
			tc{name + "/time exceeded", te, false},
			tc{name + "/time exceeded, checksum field", corruptICMP(te, 2), true},
			tc{name + "/time exceeded, code", corruptICMP(te, 1), true},
			tc{name + "/time exceeded, quoted datagram", corruptICMP(te, 8+l3+6), true},
			tc{name + "/time exceeded with mpls", mpls, false},
			tc{name + "/time exceeded with mpls, last extension byte", corruptICMP(mpls, len(mpls)-l3-1), true},
			tc{name + "/too big", ICMPError(router, f.Src, 250, KindUnreachable, 4, 1400, packet(f, 9), nil), false},
			tc{name + "/too big, checksum field", corruptICMP(ICMPError(router, f.Src, 250, KindUnreachable, 4, 1400, packet(f, 9), nil), 2), true},
		)
		if f.Proto == ICMP {
			er := EchoReply(f.Dst, f.Src, 60, f.Transport(9, DefaultPayload))
			tests = append(tests,
				tc{name + "/echo reply", er, false},
				tc{name + "/echo reply, checksum field", corruptICMP(er, 2), true},
				tc{name + "/echo reply, tag", corruptICMP(er, 6), true},
			)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseWhole(tt.pkt)
			if !tt.wantErr {
				require.NoError(t, err)
				assert.Equal(t, uint16(9), r.Tag)
				return
			}
			require.ErrorIs(t, err, ErrChecksum)
			assert.NotContains(t, err.Error(), "\n")
			if tt.pkt[0]>>4 == 6 {
				// The raw ICMPv6 socket path leaves the check to the kernel.
				_, err := parse(tt.pkt)
				assert.NotErrorIs(t, err, ErrChecksum)
			}
		})
	}
}

// TestParseTCPChecksumNotChecked: TCP answers of local destinations reach
// raw sockets with partial checksums; they must still decode.
func TestParseTCPChecksumNotChecked(t *testing.T) {
	f := flows()["tcp4"]
	b := TCPReply(f.Dst, f.Src, 64, f.Transport(77, 0), true)
	b[20+16] ^= 0xff
	r, err := ParseIPv4(b)
	require.NoError(t, err)
	assert.Equal(t, uint16(77), r.Tag)
}

// TestParseQuotedSource: the parser reports the quoted datagram's source,
// which the engine compares with the probe's.
func TestParseQuotedSource(t *testing.T) {
	for name, f := range flows() {
		t.Run(name, func(t *testing.T) {
			router, other := router4, netip.MustParseAddr("192.0.2.77")
			if !f.Dst.Is4() {
				router, other = router6, netip.MustParseAddr("2001:db8::77")
			}
			r, err := parseWhole(ICMPError(router, f.Src, 250, KindTimeExceeded, 0, 0, otherSource(f, other, 9), nil))
			require.NoError(t, err)
			assert.Equal(t, other, r.Src)
			assert.Equal(t, f.Dst, r.Dst)
		})
	}
}

func FuzzParseReply(f *testing.F) {
	for _, fl := range flows() {
		router := router4
		other := netip.MustParseAddr("192.0.2.77")
		if !fl.Dst.Is4() {
			router = router6
			other = netip.MustParseAddr("2001:db8::77")
		}
		f.Add(ICMPError(router, fl.Src, 64, KindTimeExceeded, 0, 0, packet(fl, 5), nil))
		// Issue 16 item 12: a bad checksum, and a quote of another source.
		f.Add(corruptICMP(ICMPError(router, fl.Src, 64, KindTimeExceeded, 0, 0, packet(fl, 5), nil), 2))
		f.Add(ICMPError(router, fl.Src, 64, KindTimeExceeded, 0, 0, otherSource(fl, other, 5), nil))
		f.Add(ICMPError(router, fl.Src, 64, KindTimeExceeded, 0, 0, packet(fl, 5), []Label{{Label: 1, S: true, TTL: 1}}))
		f.Add(ICMPError(router, fl.Src, 64, KindUnreachable, 4, 1400, packet(fl, 5), nil))
		f.Add(TCPReply(fl.Dst, fl.Src, 60, flows()["tcp4"].Transport(3, 0), true))
		f.Add(EchoReply(fl.Dst, fl.Src, 60, fl.Transport(5, 8)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, parse := range []func([]byte) (Reply, error){
			ParseIPv4,
			fixedIPv4,
			ParseIPv6Packet,
			func(b []byte) (Reply, error) { return ParseICMPv6(router6, src6, 64, b) },
			func(b []byte) (Reply, error) { return ParseTCP(dst6, src6, 64, b) },
		} {
			r, err := parse(b)
			if err != nil {
				continue
			}
			_ = r.Flags()
			if r.Kind == KindNone {
				t.Fatalf("reply without kind: %+v", r)
			}
		}
	})
}

// fixedIPv4 parses b after fixing its ICMP checksum, so that the fuzzer
// reaches the decoding behind the checksum check.
func fixedIPv4(b []byte) (Reply, error) {
	if len(b) < 20 || b[9] != 1 {
		return ParseIPv4(b)
	}
	ihl := int(b[0]&0x0f) * 4
	end := len(b)
	if tl := int(binary.BigEndian.Uint16(b[2:])); tl >= ihl && tl < end {
		end = tl
	}
	if ihl < 20 || end < ihl+4 {
		return ParseIPv4(b)
	}
	b = append([]byte(nil), b...)
	m := b[ihl:end]
	m[2], m[3] = 0, 0
	binary.BigEndian.PutUint16(m[2:], Checksum(netip.Addr{}, netip.Addr{}, 0, m))
	return ParseIPv4(b)
}

func BenchmarkParseTimeExceeded(b *testing.B) {
	f := flows()["udp4"]
	pkt := ICMPError(router4, f.Src, 250, KindTimeExceeded, 0, 0, packet(f, 9), nil)
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if _, err := ParseIPv4(pkt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTimeExceededMPLS(b *testing.B) {
	f := flows()["icmp6"]
	pkt := ICMPError(router6, f.Src, 250, KindTimeExceeded, 0, 0, packet(f, 9), []Label{{Label: 100, S: true, TTL: 1}})
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if _, err := ParseIPv6Packet(pkt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildIPv4(b *testing.B) {
	f := flows()["udp4"]
	for b.Loop() {
		_ = f.IPv4Packet(77, 12, 77, DefaultPayload)
	}
}

func TestReplyFromError(t *testing.T) {
	f := flows()["icmp4"]
	echo := f.Transport(0x0102, 8)
	tests := []struct {
		name      string
		v6        bool
		typ, code uint8
		info      int
		kind      Kind
		mtu       int
		flags     []string
		wantErr   bool
	}{
		{"time exceeded", false, 11, 0, 0, KindTimeExceeded, 0, nil, false},
		{"frag needed", false, 3, 4, 1400, KindUnreachable, 1400, []string{"!F"}, false},
		{"host unreachable", false, 3, 1, 0, KindUnreachable, 0, []string{"!H"}, false},
		{"v6 too big", true, 2, 0, 1280, KindPacketTooBig, 1280, []string{"!F"}, false},
		{"v6 time exceeded", true, 3, 0, 0, KindTimeExceeded, 0, nil, false},
		{"redirect", false, 5, 0, 0, KindNone, 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := router4
			if tt.v6 {
				from = router6
			}
			r, err := ReplyFromError(from, f.Dst, tt.typ, tt.code, tt.info, tt.v6, echo)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrNotReply)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.kind, r.Kind)
			assert.Equal(t, tt.mtu, r.MTU)
			assert.Equal(t, tt.flags, r.Flags())
			assert.Equal(t, uint16(0x0102), r.Tag)
			assert.Equal(t, f.ID, r.ID)
			assert.Equal(t, f.Dst, r.Dst)
		})
	}
	_, err := ReplyFromError(router4, f.Dst, 11, 0, 0, false, echo[:4])
	require.Error(t, err)
}

func TestParseICMPv4PingSocket(t *testing.T) {
	f := flows()["icmp4"]
	reply := EchoReply(f.Dst, f.Src, 57, f.Transport(9, 8))
	r, err := ParseICMPv4(f.Dst, 57, reply[20:]) // ping sockets strip the IP header
	require.NoError(t, err)
	assert.Equal(t, KindEchoReply, r.Kind)
	assert.Equal(t, uint16(9), r.Tag)
	assert.Equal(t, f.Dst, r.Dst)
	assert.Equal(t, 57, r.ReplyTTL)
}
