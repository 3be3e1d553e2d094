package geoloc

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFactCacheBounds fills the cache past its bounds, by count and by
// bytes, and checks that it stays within them, evicts the oldest entries
// first, keeps a key put again in its place, and empties on clear.
func TestFactCacheBounds(t *testing.T) {
	key := func(i int) factKey {
		return factKey{addr: netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), name: ""}
	}
	small := func() *facts { return &facts{name: "x"} }
	tests := []struct {
		name        string
		size        int
		bytes       int64
		puts        int
		wantAtMost  int
		wantNewest  bool
		wantOldGone bool
	}{
		{"under both bounds", 1000 * cacheShards, 1 << 30, 50, 50, true, false},
		{"bounded by count", cacheShards, 1 << 30, 200, cacheShards, true, true},
		{"bounded by bytes", 1 << 20, int64(cacheShards) * 300, 200, 200, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFactCache(tt.size, tt.bytes)
			require.NotNil(t, c)
			for i := range tt.puts {
				c.put(key(i), small())
			}
			assert.LessOrEqual(t, c.len(), tt.wantAtMost)
			for i := range c.shards {
				s := &c.shards[i]
				assert.LessOrEqual(t, s.bytes, c.perBytes, "shard %d bytes", i)
				assert.LessOrEqual(t, len(s.index), c.perCap, "shard %d count", i)
				assert.Equal(t, len(s.index), len(s.order)-s.head, "shard %d order lists every entry once", i)
				for h, seq := range s.index {
					assert.Equal(t, h, s.order[seq-s.base].h, "shard %d index points at its entry", i)
				}
				var sum int64
				for _, o := range s.order[s.head:] {
					sum += o.size
				}
				assert.Equal(t, s.bytes, sum, "shard %d bytes add up", i)
			}
			_, ok := c.get(key(tt.puts - 1))
			assert.Equal(t, tt.wantNewest, ok, "the newest entry is kept")
			if tt.wantOldGone {
				_, ok := c.get(key(0))
				assert.False(t, ok, "the oldest entry went first")
			}
			c.clear()
			assert.Zero(t, c.len())
		})
	}
}

// TestFactCachePutAgain checks that putting a key again replaces its facts
// and its cost without listing it twice.
func TestFactCachePutAgain(t *testing.T) {
	c := newFactCache(cacheShards*4, 1<<30)
	k := factKey{addr: netip.MustParseAddr("2001:db8::1"), name: "r1.example"}
	c.put(k, &facts{name: "a"})
	big := &facts{name: "a", cands: make([]cand, 0, 8)}
	c.put(k, big)
	got, ok := c.get(k)
	require.True(t, ok)
	assert.Same(t, big, got)
	s := c.shardOf(c.hash(k))
	assert.Len(t, s.order[s.head:], 1)
	assert.Equal(t, entryBytes(k, big), s.bytes)
	assert.Zero(t, (*factCache)(nil).len(), "a nil cache is empty")
}

// TestFactCacheSameHash checks that two keys of one hash share an entry:
// the later put replaces the earlier, and a get checks the whole key.
func TestFactCacheSameHash(t *testing.T) {
	c := newFactCache(cacheShards*4, 1<<30)
	a := factKey{addr: netip.MustParseAddr("192.0.2.1")}
	b := factKey{addr: netip.MustParseAddr("192.0.2.2"), name: "r2.example"}
	const h = 0x9e3779b97f4a7c15
	fa, fb := &facts{name: "a", size: 10}, &facts{name: "b", size: 20}
	c.putHashed(h, a, fa)
	got, ok := c.getHashed(h, a)
	require.True(t, ok)
	assert.Same(t, fa, got)
	_, ok = c.getHashed(h, b)
	assert.False(t, ok, "a key of the same hash is not the key")

	c.putHashed(h, b, fb)
	_, ok = c.getHashed(h, a)
	assert.False(t, ok, "the later key replaced the earlier")
	got, ok = c.getHashed(h, b)
	require.True(t, ok)
	assert.Same(t, fb, got)
	s := c.shardOf(h)
	assert.Len(t, s.order[s.head:], 1, "one entry")
	assert.Equal(t, entryBytes(b, fb), s.bytes, "its cost is the later key's")
	assert.Equal(t, 1, c.len())
}

// TestFactCacheSparse checks that a shard whose gets do not hit admits only
// one new key in sparseAdmit, and every key again once hits come.
func TestFactCacheSparse(t *testing.T) {
	c := newFactCache(1<<20, 1<<30)
	key := func(i int) (uint64, factKey) {
		// hashes of shard 0: the top bits pick the shard
		return uint64(i) + 1, factKey{addr: netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)})}
	}
	miss := func(i int) {
		h, k := key(i)
		_, ok := c.getHashed(h, k)
		require.False(t, ok, "key %d is new", i)
		c.putHashed(h, k, &facts{name: "x", size: 10})
	}
	i := 0
	for ; i < sparseWindow-1; i++ {
		miss(i)
	}
	require.Equal(t, sparseWindow-1, c.len(), "every key admitted while the shard did not know better")
	require.False(t, c.shards[0].sparse)

	// The first of these closes the window of misses.
	for range 10 * sparseAdmit {
		miss(i)
		i++
	}
	require.True(t, c.shards[0].sparse, "a window of misses makes the shard sparse")
	assert.Equal(t, sparseWindow-1+10, c.len(), "one new key in sparseAdmit admitted")

	h, k := key(0)
	for range sparseWindow {
		_, ok := c.getHashed(h, k)
		require.True(t, ok)
	}
	require.False(t, c.shards[0].sparse, "a window of hits")
	before := c.len()
	for range 5 {
		miss(i)
		i++
	}
	assert.Equal(t, before+5, c.len(), "every key admitted again")
}
