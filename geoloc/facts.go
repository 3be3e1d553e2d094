package geoloc

import (
	"context"
	"encoding/binary"
	"hash/maphash"
	"math"
	"math/bits"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s2"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/internal/countries"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/rdns"
)

// cand is a candidate with the engine's prior weight for it.
type cand struct {
	candidates.Candidate
	pt latency.Point
	// weight is the prior belief in the candidate before agreement and
	// physics: by kind of hint, kind of database answer.
	weight float64
	// group names the independent body of evidence the candidate belongs
	// to: all hints of one name are one group, each database another.
	group string
	// countryLevel marks "somewhere in this country" placements.
	countryLevel bool
	// at is the candidate's country: its own code, else the embedded
	// outline its point stands in; computed once per address.
	at string
	// evSource and evKind are the candidate's Evidence.Source and Kind.
	evSource, evKind string
	// v is the point as a unit vector, for fast bound tests.
	v r3.Vector
	// cell is the level-7 s2 cell of the point (about 60 km), the place
	// part of its repeat key.
	cell s2.CellID
}

// facts is everything known about one address regardless of RTTs: its name,
// its candidates and who runs it. Facts are cached per (address, name).
type facts struct {
	name  string
	cands []cand
	// codes are the words of the name that look like location codes the
	// dictionaries did not read (or read as places the bounds may rule
	// out), for Reader.Expand within a hop's feasible region.
	codes []rdns.CodeLabel
	as    *candidates.ASInfo
	// agree[i*len(cands)+j] caches agrees(&cands[i], &cands[j]).
	agree []bool
	// size is the estimate of what f holds (bytes), once in the cache.
	size int64
}

func (f *facts) agrees(i, j int) bool { return f.agree[i*len(f.cands)+j] }

// Prior weights. A name hint is the strongest single piece of evidence
// (operators name routers after where they stand), a city-level database
// answer is weaker (router prefixes are often registered at the head office),
// a country-level answer weaker still. Agreement between groups adds up.
var hintKindWeight = map[rdns.HintKind]float64{
	rdns.KindIATA:         0.90,
	rdns.KindOperatorSite: 0.90,
	rdns.KindCLLI:         0.85,
	rdns.KindLOCODE:       0.80,
	rdns.KindICAO:         0.80,
	rdns.KindPlace:        0.80,
	// An abbreviation no dictionary lists, read only within the region the
	// hop may be in: about a database's weight.
	rdns.KindAbbrev: 0.60,
}

const (
	weightGeofeed    = 0.70
	weightGeoIPCity  = 0.40
	weightCountry    = 0.12
	hintRadiusKm     = 25  // a city-level placement: the metro area
	countryLevelKm   = 500 // from this radius on an answer is country-level
	hintGroup        = "name"
	defaultHintConf  = 0.6
	minCityRadiusKm  = 10
	maxCityRadiusKm  = 300
	ambiguousPopBase = 0.8
)

// lookupScratch holds the candidates of one address's lookups while
// gatherFacts sizes its own slice.
var lookupScratch = sync.Pool{New: func() any { return new([]candidates.Candidate) }}

// gatherFacts asks every source about addr, after reading hints from name.
func (e *Engine) gatherFacts(addr netip.Addr, name string) *facts {
	// The facts and who runs the address, in one allocation.
	fa := &struct {
		f  facts
		as candidates.ASInfo
	}{f: facts{name: name}}
	f := &fa.f
	var hints []rdns.Hint
	if name != "" {
		hints = e.hintsOf(name)
		f.codes = e.codesOf(name)
	}
	q := candidates.Query{Addr: addr, Name: name, Hints: hints}
	// Every source first, into scratch memory (sources that can answer
	// there, as databases can, allocate nothing), so that the candidate
	// slice (cands are large) is allocated once at its size.
	type answer struct {
		from, to int
		as       candidates.ASInfo
		hasAS    bool
	}
	var answersBuf [4]answer
	answers := answersBuf[:0]
	scratch := lookupScratch.Get().(*[]candidates.Candidate)
	defer lookupScratch.Put(scratch)
	all := (*scratch)[:0]
	for _, s := range e.opts.Sources {
		a := answer{from: len(all)}
		var err error
		if ap, ok := s.(candidates.Appender); ok {
			all, a.as, a.hasAS, err = ap.AppendLookup(all, q)
		} else {
			var ans candidates.Answer
			if ans, err = s.Lookup(q); err == nil {
				all = append(all, ans.Candidates...)
				if ans.AS != nil {
					a.as, a.hasAS = *ans.AS, true
				}
			}
		}
		if err != nil {
			e.log.Warn("source lookup failed", "source", s.Name(), "addr", addr, "err", err)
			all, a.hasAS = all[:a.from], false
		}
		a.to = len(all)
		answers = append(answers, a)
	}
	*scratch = all[:0]
	if n := len(hints) + len(all); n > 0 {
		f.cands = make([]cand, 0, n)
	}
	for i := range hints {
		h := hints[i]
		f.cands = append(f.cands, hintCand(h, len(hints) > 1))
	}
	for si, s := range e.opts.Sources {
		ans := &answers[si]
		if ans.hasAS && f.as == nil {
			fa.as = ans.as
			if fa.as.Source == "" {
				fa.as.Source = s.Name()
			}
			f.as = &fa.as
		}
		for _, c := range all[ans.from:ans.to] {
			if c.Source == "" {
				c.Source = s.Name()
			}
			if !(latency.Point{Lat: c.Lat, Lon: c.Lon}).Valid() {
				continue
			}
			if c.Kind == candidates.KindHint {
				if len(hints) > 0 {
					continue // the engine's own reading of the name covers it
				}
				if c.Hint != nil {
					hc := hintCand(*c.Hint, true)
					hc.Candidate.Source = c.Source
					f.cands = append(f.cands, hc)
					continue
				}
			}
			k := dbCand(c, e.namesOf(c.Source).group)
			if e.opts.Reliability != nil {
				if r := e.opts.Reliability(c.Source); r > 0 {
					k.weight *= r
				}
			}
			f.cands = append(f.cands, k)
		}
	}
	f.finish()
	return f
}

// finish computes what the candidates of f derive: agreement, evidence
// names, unit vectors and countries.
func (f *facts) finish() {
	for i := range f.cands {
		c := &f.cands[i]
		c.v, c.cell = pointMemo.of(c.pt)
	}
	n := len(f.cands)
	f.agree = make([]bool, n*n)
	for i := range f.cands {
		for j := range f.cands {
			f.agree[i*n+j] = i == j || agrees(&f.cands[i], &f.cands[j])
		}
	}
	for i := range f.cands {
		c := &f.cands[i]
		c.evKind = kindOf(c)
		c.evSource = c.Source
		if c.Hint != nil && c.Hint.Code != "" {
			c.evSource = c.Source + ":" + c.Hint.Code
		}
		// The candidate's own country first: a coarse outline puts
		// border cities (Shenzhen, Geneva) on the wrong side.
		c.at = validCC(c.Country)
		if c.at == "" && !c.countryLevel {
			c.at, _ = countries.At(c.Lat, c.Lon)
		}
	}
}

// withCands is a copy of f with candidates added for this trace only.
func (f *facts) withCands(cs []cand) *facts {
	g := &facts{name: f.name, as: f.as, codes: f.codes, cands: make([]cand, 0, len(f.cands)+len(cs))}
	g.cands = append(append(g.cands, f.cands...), cs...)
	g.finish()
	return g
}

// withHints is a copy of f with hints read for this trace only (codes
// expanded within a hop's feasible region) added to its name's evidence.
func (f *facts) withHints(hs []rdns.Hint) *facts {
	g := &facts{name: f.name, as: f.as, codes: f.codes, cands: make([]cand, 0, len(f.cands)+len(hs))}
	g.cands = append(g.cands, f.cands...)
	for _, h := range hs {
		g.cands = append(g.cands, hintCand(h, len(hs) > 1))
	}
	g.finish()
	return g
}

func hintCand(h rdns.Hint, ambiguous bool) cand {
	conf := h.Confidence
	if conf <= 0 {
		conf = defaultHintConf
	}
	w := hintKindWeight[h.Kind]
	if w == 0 {
		w = 0.7
	}
	// The kind of code sets the prior; the reader's own confidence moves it
	// by at most half, so that a spelled-out place name still outweighs a
	// single database answer.
	w *= 0.5 + 0.5*conf
	if ambiguous && h.Population > 0 {
		// A bigger place is the likelier reading of an ambiguous code.
		w *= ambiguousPopBase + (1-ambiguousPopBase)*math.Min(1, math.Log10(float64(h.Population)+1)/7)
	}
	hh := h
	return cand{
		Candidate: candidates.Candidate{
			Lat: h.Lat, Lon: h.Lon, RadiusKm: hintRadiusKm,
			City: h.Place, Region: h.Region, Country: strings.ToUpper(h.Country),
			Source: "rdns", Kind: candidates.KindHint, Hint: &hh,
		},
		pt:     latency.Point{Lat: h.Lat, Lon: h.Lon},
		weight: w,
		group:  hintGroup,
	}
}

// sourceNames are the strings a source's candidates carry: their evidence
// group and the methods of placements from them.
type sourceNames struct{ group, geoip, country, geofeed string }

func namesOf(source string) sourceNames {
	return sourceNames{group: "db:" + source, geoip: "geoip:" + source, country: "country:" + source, geofeed: "geofeed:" + source}
}

// namesOf is the names of source, made at New for the engine's sources.
func (e *Engine) namesOf(source string) sourceNames {
	if n, ok := e.sourceNames[source]; ok {
		return n
	}
	return namesOf(source)
}

// hintMethods are the methods of placements from each kind of name hint.
var hintMethods = func() map[rdns.HintKind]string {
	m := map[rdns.HintKind]string{}
	for k := range hintKindWeight {
		m[k] = "rdns:" + string(k)
	}
	return m
}()

// dbCand is the engine's candidate for c, a database answer in evidence
// group group.
func dbCand(c candidates.Candidate, group string) cand {
	k := cand{Candidate: c, pt: latency.Point{Lat: c.Lat, Lon: c.Lon}, group: group}
	switch {
	case c.Kind == candidates.KindCountry,
		c.RadiusKm >= countryLevelKm,
		c.City == "" && c.Kind != candidates.KindGeofeed:
		k.countryLevel = true
		k.weight = weightCountry
		if k.RadiusKm < countryLevelKm {
			k.RadiusKm = countryLevelKm
		}
	case c.Kind == candidates.KindGeofeed:
		k.weight = weightGeofeed
	default:
		k.weight = weightGeoIPCity
	}
	if !k.countryLevel {
		k.RadiusKm = math.Min(math.Max(k.RadiusKm, minCityRadiusKm), maxCityRadiusKm)
		if c.RadiusKm == 0 {
			k.RadiusKm = hintRadiusKm
		}
	}
	return k
}

// factsFor returns the (cached) facts of addr. name is the trace's name for
// it; when empty and a Resolver is set, the name is looked up.
func (e *Engine) factsFor(ctx context.Context, addr netip.Addr, name string) *facts {
	key := factKey{addr, name}
	if f, ok := e.cache.get(key); ok {
		return f
	}
	n := name
	if n == "" && e.opts.Resolver != nil {
		got, err := e.opts.Resolver.LookupPTR(ctx, addr)
		if err != nil {
			e.log.Debug("PTR lookup failed", "addr", addr, "err", err)
		}
		n = got
	}
	f := e.gatherFacts(addr, n)
	e.cache.put(key, f)
	return f
}

type factKey struct {
	addr netip.Addr
	name string
}

// factCache is a bounded concurrent map. When a shard is full, by count or
// by bytes, its oldest entries are evicted (first in, first out): cheap — no
// map iteration, and the evicted entry's size is kept in its entry, so
// eviction touches no cold memory — and for traceroute data (a few hot core
// routers, met again and again, a long tail of edge addresses) nearly as
// good as LRU.
//
// A shard's entries sit in a ring, oldest first, and its index maps a key's
// 64-bit hash to the entry's sequence number: the index holds no pointers
// (the collector never scans it) and its probes compare one word. Two keys
// of one hash (about one pair in 10^10 at a million keys) share one entry:
// the later put replaces the earlier, and a get checks the whole key.
//
// A shard whose gets almost never hit (fewer than one in sparseHitRate over
// the last sparseWindow gets: every address new, as in a batch of edge
// hosts) admits only one new key in sparseAdmit: keeping the rest would
// cost the insert, the eviction and the collector's time for nothing. A
// key met again is admitted within a few misses, and once hits come the
// shard admits every key again.
type factCache struct {
	seed     maphash.Seed
	k0, k1   uint64
	shards   []cacheShard
	perCap   int
	perBytes int64
}

type cacheShard struct {
	mu    sync.Mutex
	index map[uint64]uint64
	bytes int64
	// order holds the entries in the order their keys came, from head on
	// (a key put again keeps its place: only its facts and cost change);
	// order[i] has sequence number base+i.
	order []cacheEntry
	head  int
	base  uint64
	// gets and hits count the current window; sparse is what the last
	// window said; skipped counts the new keys not admitted since the last
	// admitted one.
	gets, hits, skipped uint32
	sparse              bool
}

const (
	sparseWindow  = 1024
	sparseHitRate = 32
	sparseAdmit   = 8
)

type cacheEntry struct {
	h    uint64
	k    factKey
	f    *facts
	size int64
}

const cacheShards = 32

func newFactCache(size int, bytes int64) *factCache {
	if size < 0 {
		return nil
	}
	if size == 0 {
		size = DefaultCacheSize
	}
	if bytes <= 0 {
		bytes = DefaultCacheBytes
	}
	seed := maphash.MakeSeed()
	c := &factCache{
		seed: seed, k0: maphash.Comparable(seed, 0) | 1, k1: maphash.Comparable(seed, 1) | 1,
		shards: make([]cacheShard, cacheShards), perCap: max(1, size/cacheShards), perBytes: max(1, bytes/cacheShards),
	}
	for i := range c.shards {
		c.shards[i].index = make(map[uint64]uint64)
	}
	return c
}

// hash is k's 64-bit hash under the cache's seed.
func (c *factCache) hash(k factKey) uint64 {
	a := k.addr.As16()
	hi := binary.LittleEndian.Uint64(a[:8]) ^ c.k0
	lo := binary.LittleEndian.Uint64(a[8:]) ^ c.k1 ^ uint64(k.addr.BitLen())
	if k.name != "" {
		lo ^= maphash.String(c.seed, k.name)
	}
	h, l := bits.Mul64(hi, lo)
	return h ^ l
}

func (c *factCache) shardOf(h uint64) *cacheShard { return &c.shards[h>>(64-cacheShardBits)] }

// cacheShardBits is log2(cacheShards).
const cacheShardBits = 5

func (c *factCache) get(k factKey) (*facts, bool) {
	if c == nil {
		return nil, false
	}
	return c.getHashed(c.hash(k), k)
}

// getHashed is get with k's hash h.
func (c *factCache) getHashed(h uint64, k factKey) (*facts, bool) {
	s := c.shardOf(h)
	s.mu.Lock()
	var f *facts
	if seq, ok := s.index[h]; ok {
		if e := &s.order[seq-s.base]; e.k == k {
			f = e.f
			s.hits++
		}
	}
	if s.gets++; s.gets >= sparseWindow {
		s.sparse = s.hits*sparseHitRate < s.gets
		s.gets, s.hits = 0, 0
	}
	s.mu.Unlock()
	return f, f != nil
}

// entryBytes is what an entry of key k holding f costs.
func entryBytes(k factKey, f *facts) int64 { return f.size + int64(len(k.name)) + factKeyBytes }

func (c *factCache) put(k factKey, f *facts) {
	if c == nil {
		return
	}
	if f.size == 0 {
		f.size = f.bytes()
	}
	c.putHashed(c.hash(k), k, f)
}

// putHashed is put with k's hash h.
func (c *factCache) putHashed(h uint64, k factKey, f *facts) {
	size := entryBytes(k, f)
	s := c.shardOf(h)
	s.mu.Lock()
	if seq, ok := s.index[h]; ok {
		// The same key (or one of the same hash, which it replaces)
		// keeps its place in order: only its facts and cost change.
		e := &s.order[seq-s.base]
		s.bytes += size - e.size
		e.k, e.f, e.size = k, f, size
		s.mu.Unlock()
		return
	}
	if s.sparse {
		if s.skipped++; s.skipped < sparseAdmit {
			s.mu.Unlock()
			return
		}
		s.skipped = 0
	}
	for s.head < len(s.order) && (len(s.index) >= c.perCap || s.bytes+size > c.perBytes) {
		o := &s.order[s.head]
		delete(s.index, o.h)
		s.bytes -= o.size
		*o = cacheEntry{}
		s.head++
	}
	if s.head > len(s.order)/2 {
		n := copy(s.order, s.order[s.head:])
		clear(s.order[n:])
		s.order, s.base, s.head = s.order[:n], s.base+uint64(s.head), 0
	}
	s.index[h] = s.base + uint64(len(s.order))
	s.order = append(s.order, cacheEntry{h: h, k: k, f: f, size: size})
	s.bytes += size
	s.mu.Unlock()
}

// clear empties the cache.
func (c *factCache) clear() {
	if c == nil {
		return
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.index)
		s.bytes, s.gets, s.hits, s.skipped, s.sparse = 0, 0, 0, 0, false
		s.order, s.head, s.base = nil, 0, 0
		s.mu.Unlock()
	}
}

// factKeyBytes is what an entry costs beside its facts: its place in the
// ring (hash, key: address and name header, pointer, size) and its index
// slot (hash, sequence number) with the map's own overhead.
const factKeyBytes = 8 + 24 + 16 + 8 + 8 + 16 + 8

// bytes estimates the memory f holds: the struct, its candidates (with
// their strings and hints), the agreement matrix and the code labels.
func (f *facts) bytes() int64 {
	n := int64(unsafe.Sizeof(*f)) + int64(len(f.name))
	n += int64(cap(f.cands)) * int64(unsafe.Sizeof(cand{}))
	for i := range f.cands {
		c := &f.cands[i]
		n += int64(len(c.City) + len(c.Region) + len(c.Country) + len(c.Source) + len(c.evSource) + len(c.evKind) + len(c.group) + len(c.at))
		if h := c.Hint; h != nil {
			n += int64(unsafe.Sizeof(*h)) + int64(len(h.Code)+len(h.Place)+len(h.Region)+len(h.Country)+len(h.Label)+len(h.Why))
		}
	}
	n += int64(cap(f.agree))
	n += int64(cap(f.codes)) * int64(unsafe.Sizeof(rdns.CodeLabel{}))
	if f.as != nil {
		n += int64(unsafe.Sizeof(*f.as)) + int64(len(f.as.Org)+len(f.as.Source))
	}
	return n
}

func (c *factCache) len() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		c.shards[i].mu.Lock()
		n += len(c.shards[i].index)
		c.shards[i].mu.Unlock()
	}
	return n
}

func unitVector(p latency.Point) r3.Vector { return s2.PointFromLatLng(p.LatLng()).Vector }

// pointMemo remembers the unit vectors and cells of candidates' points.
var pointMemo placeMemo

// placeMemo maps recent points to their unit vector and level-7 cell:
// databases name a few thousand places over and over, and each costs two
// sines, two cosines and a cell walk. One entry per slot, the latest.
type placeMemo struct {
	slots [1 << 12]atomic.Pointer[placeEntry]
}

type placeEntry struct {
	pt   latency.Point
	v    r3.Vector
	cell s2.CellID
}

// of is p's unit vector and level-7 s2 cell.
func (m *placeMemo) of(p latency.Point) (r3.Vector, s2.CellID) {
	h := (math.Float64bits(p.Lat)*0x9E3779B97F4A7C15 ^ math.Float64bits(p.Lon)) * 0xBF58476D1CE4E5B9
	slot := &m.slots[h>>(64-12)]
	if e := slot.Load(); e != nil && e.pt == p {
		return e.v, e.cell
	}
	e := &placeEntry{pt: p, v: unitVector(p), cell: s2.CellIDFromLatLng(p.LatLng()).Parent(7)}
	slot.Store(e)
	return e.v, e.cell
}

// fastBound is a hard constraint as a unit vector and the cosines of its
// angular radius shrunk and grown by a metre: p·c ≥ cos means surely
// inside, p·c < cosOut surely outside, with no trigonometry per test; only
// within a metre of the edge does Constraint.Check decide, so the answer
// is always Check's.
type fastBound struct {
	c           r3.Vector
	cos, cosOut float64
}

// minFastRad is the smallest bound (as an angle, about 640 m) whose
// "surely inside" test a fast bound makes: below it the margin in cosine
// terms, sin(a)·metreRad, nears the rounding of a dot product.
const minFastRad = 1e-4

// sinMetre and cosMetre are the sine and cosine of metreRad.
var sinMetre, cosMetre = math.Sincos(metreRad)

func fastBoundOf(k latency.Constraint) fastBound { return fastBoundFrom(k, unitVector(k.From)) }

// fastBoundFrom is fastBoundOf with k.From's unit vector given, for callers
// that bound many hops from one point.
func fastBoundFrom(k latency.Constraint, from r3.Vector) fastBound {
	const m = metreRad
	a := k.MaxKm() / latency.EarthRadiusKm
	b := fastBound{c: from, cos: -2, cosOut: -2}
	// cos(a∓m) from one sine and cosine of a: the error of the sum is far
	// below the metre's share of it, sin(a)·m, wherever that share shows.
	sa, ca := math.Sincos(a)
	if a-m < math.Pi {
		// Below minFastRad the cosine cannot tell a metre (nor the dot
		// product's rounding) from nothing: no point is surely inside.
		b.cos = 2
		if a-m > minFastRad {
			b.cos = ca*cosMetre + sa*sinMetre
		}
	}
	// Near the antipode the cosine is too flat for a metre to show:
	// there, and for bounds that are no bounds, Check decides.
	if a >= 0 && a+m < math.Pi-1e-4 {
		b.cosOut = ca*cosMetre - sa*sinMetre
	}
	return b
}

// feasible is k.Check(pt).Feasible for the point pt whose unit vector is
// v, b being k's fast bound.
func (b fastBound) feasible(k latency.Constraint, v r3.Vector, pt latency.Point) bool {
	d := v.Dot(b.c)
	switch {
	case d >= b.cos:
		return true
	case d < b.cosOut:
		return false
	}
	return k.Check(pt).Feasible
}
