package candidates

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync/atomic"

	"github.com/oschwald/maxminddb-golang/v2"
)

// tree4 walks an MMDB search tree for IPv4 addresses itself, reading the
// file's bytes (the MaxMind DB format: a binary trie of nodeCount nodes,
// each two records of 24, 28 or 32 bits; a record below nodeCount is the
// next node, nodeCount itself "no data", above it a data pointer). It walks
// as maxminddb's Lookup does and finds the same record, with one step for
// an address's first 16 bits: jump remembers, per /16, where those bits
// lead, filled on first use. The upper levels are the same for every
// lookup; a fresh address then costs the few levels below its /16.
type tree4 struct {
	buf        []byte
	nodeCount  uint
	recordSize uint
	// start is the node IPv4 addresses start from (the root of an IPv4
	// tree, ::/96 of an IPv6 one) and startDepth its depth; below 96 the
	// tree has no IPv4 part (start is then a record, not a node).
	start      uint
	startDepth int
	// jump[x>>16] is 1<<63 | bits<<32 | record: the record the first
	// bits (≤ 16) of an address in that /16 lead to; 0 until known.
	jump [1 << 16]atomic.Uint64
}

// newTree4 is the IPv4 walker of the database image buf opened as db.
func newTree4(buf []byte, md maxminddb.Metadata) (*tree4, error) {
	t := &tree4{buf: buf, nodeCount: md.NodeCount, recordSize: md.RecordSize}
	switch t.recordSize {
	case 24, 28, 32:
	default:
		return nil, fmt.Errorf("MMDB record size %d", t.recordSize)
	}
	if uint(len(buf)) < t.nodeCount*t.recordSize/4 {
		return nil, fmt.Errorf("MMDB search tree of %d nodes beyond the file's %d bytes", t.nodeCount, len(buf))
	}
	if md.IPVersion != 6 {
		t.startDepth = 96
		return t, nil
	}
	// ::/96: ninety-six zero bits from the root.
	for t.startDepth < 96 && t.start < t.nodeCount {
		t.start = t.record(t.start, 0)
		t.startDepth++
	}
	return t, nil
}

// record is the record of node for bit.
func (t *tree4) record(node, bit uint) uint {
	switch t.recordSize {
	case 24:
		off := node*6 + bit*3
		b := t.buf[off : off+3]
		return uint(b[0])<<16 | uint(b[1])<<8 | uint(b[2])
	case 28:
		// Bytes 0-2 left, 3 the two high nibbles (left's first), 4-6 right.
		off := node*7 + bit*3
		w := binary.BigEndian.Uint32(t.buf[off : off+4])
		if bit == 0 {
			return uint(w>>8) | uint(w&0xf0)<<20
		}
		return uint(w&0x00ffffff) | uint(w&0x0f000000)
	default:
		off := node*8 + bit*4
		return uint(binary.BigEndian.Uint32(t.buf[off : off+4]))
	}
}

// lookup walks x's bits and returns the record reached (nodeCount: no data;
// above: a data pointer) and the prefix length of the network it covers
// (-1 when the tree has no IPv4 part: the network is no IPv4 one). A walk
// that ends on a node after 32 bits is a corrupt tree.
func (t *tree4) lookup(x uint32) (rec uint, bits int, err error) {
	if t.startDepth < 96 {
		return t.start, -1, nil
	}
	j := &t.jump[x>>16]
	e := j.Load()
	if e == 0 {
		node, n := t.start, 0
		for y := x; n < 16 && node < t.nodeCount; n++ {
			node = t.record(node, uint(y>>31))
			y <<= 1
		}
		e = 1<<63 | uint64(n)<<32 | uint64(node)
		j.Store(e)
	}
	rec, bits = uint(uint32(e)), int(e>>32&0xff)
	for y := x << bits; bits < 32 && rec < t.nodeCount; bits++ {
		rec = t.record(rec, uint(y>>31))
		y <<= 1
	}
	if rec < t.nodeCount {
		return 0, 0, fmt.Errorf("invalid node in search tree")
	}
	return rec, bits, nil
}

// lookupResult is maxminddb's Result for IPv4 address a, found with t, and
// the network it covers (invalid when not an IPv4 one).
func (t *tree4) lookupResult(db *maxminddb.Reader, a netip.Addr) (maxminddb.Result, netip.Prefix, bool, error) {
	b := a.As4()
	rec, bits, err := t.lookup(binary.BigEndian.Uint32(b[:]))
	if err != nil {
		return maxminddb.Result{}, netip.Prefix{}, false, err
	}
	var p netip.Prefix
	if bits >= 0 {
		p, _ = a.Prefix(bits)
	}
	if rec == t.nodeCount {
		return maxminddb.Result{}, p, false, nil
	}
	off := rec - t.nodeCount - 16 // the 16-byte data section separator
	if off >= uint(len(t.buf)) {
		return maxminddb.Result{}, p, false, fmt.Errorf("the MaxMind DB file's search tree is corrupt")
	}
	return db.LookupOffset(uintptr(off)), p, true, nil
}
