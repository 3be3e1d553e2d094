// Package atlasgen synthesises RIPE Atlas traceroute results for
// benchmarks and memory tests: realistic in shape, any size, streamed.
package atlasgen

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
)

// Reader synthesises RIPE Atlas traceroute results of realistic shape (the
// fields and proportions of real firmware 4790+ results: 5-22 hops, three
// packets a hop, ~10 % timeouts, MPLS extensions on some core hops, a fifth
// IPv6, a trailing hop 255 on unfinished traces) as an io.Reader, on the
// fly, so a benchmark can stream gigabytes without holding them.
type Reader struct {
	rng     *rand.Rand
	limit   int64 // total bytes to produce; records are never cut
	written int64
	buf     []byte
	off     int
	n       int // records made
	array   bool
	started bool
	// routers, when set, is the pool hop addresses are drawn from (see
	// SetRouters); zipf picks from it.
	routers int
	zipf    *rand.Zipf
}

// SetRouters makes hop addresses come from a pool of n router addresses per
// address family instead of being fresh every time, drawn with a Zipf law
// (s = 1.1) so that a few core routers appear in many traces and most in
// few, as in real RIPE Atlas data; n <= 0 restores fresh addresses. Call it
// before the first Read.
func (g *Reader) SetRouters(n int) {
	if n <= 0 {
		g.routers, g.zipf = 0, nil
		return
	}
	g.routers = n
	g.zipf = rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.1, 1, uint64(n-1))
}

// router appends the address of pool member i: a fixed mix of i, so the
// same i always gives the same address and neighbours look unrelated.
func router(b []byte, i uint64, v6 bool) []byte {
	x := (i + 1) * 0x9e3779b97f4a7c15
	x ^= x >> 29
	if v6 {
		return fmt.Appendf(b, "2001:db8:%x:%x::%x", x&0xffff, (x>>16)&0xffff, (x>>32)&0xfff+1)
	}
	return fmt.Appendf(b, "%d.%d.%d.%d", (x%223)+1, (x>>8)&0xff, (x>>16)&0xff, (x>>24)%254+1)
}

// New returns a Reader of limit bytes of results (records are never cut:
// the last may end past limit), as JSON Lines or, with array, one JSON
// array. The sequence is the same on every run.
func New(limit int64, array bool) *Reader {
	return &Reader{rng: rand.New(rand.NewPCG(1, 2)), limit: limit, array: array}
}

// Read implements io.Reader.
func (g *Reader) Read(p []byte) (int, error) {
	if g.off == len(g.buf) {
		g.buf, g.off = g.buf[:0], 0
		switch {
		case g.written >= g.limit && g.array && g.started:
			g.buf = append(g.buf, "]\n"...)
			g.started = false
			g.array = false
		case g.written >= g.limit:
			return 0, io.EOF
		default:
			if g.array {
				if !g.started {
					g.buf = append(g.buf, '[')
					g.started = true
				} else {
					g.buf = append(g.buf, ',')
				}
			}
			g.buf = g.Record(g.buf)
			if !g.array {
				g.buf = append(g.buf, '\n')
			}
		}
		g.written += int64(len(g.buf))
	}
	n := copy(p, g.buf[g.off:])
	g.off += n
	return n, nil
}

func (g *Reader) addr(b []byte, v6 bool) []byte {
	r := g.rng
	if v6 {
		return fmt.Appendf(b, "2001:db8:%x:%x::%x", r.IntN(0xffff), r.IntN(0xffff), r.IntN(0xfff)+1)
	}
	return fmt.Appendf(b, "%d.%d.%d.%d", r.IntN(223)+1, r.IntN(256), r.IntN(256), r.IntN(254)+1)
}

// Record appends one more result record (without a newline) to b.
func (g *Reader) Record(b []byte) []byte {
	r := g.rng
	g.n++
	v6 := r.IntN(5) == 0
	af := 4
	if v6 {
		af = 6
	}
	ts := 1700000000 + g.n*7
	b = fmt.Appendf(b, `{"fw":5080,"lts":%d,"endtime":%d,"dst_name":"`, r.IntN(200), ts+11)
	dst := g.addr(nil, v6)
	b = append(b, dst...)
	b = append(b, `","dst_addr":"`...)
	b = append(b, dst...)
	b = append(b, `","src_addr":"`...)
	b = g.addr(b, v6)
	b = fmt.Appendf(b, `","proto":"ICMP","af":%d,"size":48,"paris_id":%d,"result":[`, af, r.IntN(16)+1)
	hops := 5 + r.IntN(18)
	rtt := 0.3 + r.Float64()*2
	for h := 1; h <= hops; h++ {
		if h > 1 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"hop":%d,"result":[`, h)
		rtt += r.Float64() * 9
		var hopAddr []byte
		if g.zipf != nil {
			hopAddr = router(nil, g.zipf.Uint64(), v6)
		} else {
			hopAddr = g.addr(nil, v6)
		}
		mpls := h > 3 && h < hops-2 && r.IntN(6) == 0
		for p := 0; p < 3; p++ {
			if p > 0 {
				b = append(b, ',')
			}
			if r.IntN(10) == 0 {
				b = append(b, `{"x":"*"}`...)
				continue
			}
			b = append(b, `{"from":"`...)
			b = append(b, hopAddr...)
			b = fmt.Appendf(b, `","ttl":%d,"size":%d,`, 255-h-r.IntN(3), 28+r.IntN(2)*40)
			if mpls {
				b = fmt.Appendf(b, `"icmpext":{"version":2,"rfc4884":1,"obj":[{"class":1,"type":1,"mpls":[{"label":%d,"exp":0,"s":1,"ttl":1}]}]},`, 16+r.IntN(1<<20-16))
			}
			b = strconv.AppendFloat(append(b, `"rtt":`...), float64(int((rtt+r.Float64()*3)*1000))/1000, 'f', -1, 64)
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	if r.IntN(4) == 0 {
		b = append(b, `,{"hop":255,"result":[{"x":"*"},{"x":"*"},{"x":"*"}]}`...)
	}
	b = fmt.Appendf(b, `],"msm_id":%d,"prb_id":%d,"timestamp":%d,"msm_name":"Traceroute","from":"`, 5000+r.IntN(100), 1000+r.IntN(60000), ts)
	b = g.addr(b, v6)
	b = fmt.Appendf(b, `","type":"traceroute","group_id":%d,"stored_timestamp":%d}`, 5000+r.IntN(100), ts+30)
	return b
}
