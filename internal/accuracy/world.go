// Package accuracy measures how well the engine places routers, on a
// simulated Internet whose truth is known, against the baselines "one GeoIP
// database alone" and "router names alone".
//
// # The simulated world and its assumptions
//
//   - Places are real: 309 cities of half a million people or more with a
//     large airport nearby (cities.tsv, from SimpleMaps World Cities Basic,
//     CC-BY-4.0, and OurAirports, public domain; see internal/gencities).
//   - Operators (a dozen, drawn per seed) have points of presence (PoPs) in
//     8–45 cities, drawn by population within one to three home regions
//     plus global hubs, a head office in one of them, and one address block
//     each (a /24 per PoP). PoPs of an operator are linked to their nearest
//     PoPs (plus links that keep the network connected); operators
//     interconnect in every city where both have a PoP.
//   - Router names follow real conventions, the same ones real operators
//     use: IATA code + digits (Cogent "be3.ccr41.fra03.atlas.cogentco.com",
//     Hurricane Electric "100ge1-1.core1.fra1.he.net"), CLLI-like city
//     abbreviation + country ("ae-5.r21.frnkge13.de.bb.gin.ntt.net"),
//     operator site codes (Arelion "ffm-b4-link.ip.twelve99.net", IATA where
//     the operator has no site code of its own), city names spelled out, and
//     names without any location (customer-style names, or no PTR record at
//     all). Depending on the seed, 10–30% of the routers carry no hint.
//   - Paths are least-cost over the PoP graph; each PoP on the path gives
//     one or two hops. Fibre between PoPs is 5–60% longer than the great
//     circle. RTT = 2·fibre/(200 km/ms) + a few µs per hop + queueing
//     (exponential, 0.3 ms mean per probe) and, for 5% of probes, a slow
//     ICMP path of 1–20 ms; three probes per hop, 4% of hops silent. The
//     first hop is a home router (RFC 1918), sometimes followed by a CGNAT
//     address. Vantage points are RIPE-Atlas-like probes in cities drawn by
//     population, with known coordinates.
//   - Two city databases, written with mmdbwriter in two real schemas
//     (GeoIP2-City with accuracy radius, ip-location-db's flat schema), make
//     the mistakes real ones make, per /24: the operator's head office
//     (correlated between the two databases, as both read registry data),
//     the country's centroid, a stale city (another PoP of the operator),
//     a nearby big city instead of the small one, and gaps; otherwise the
//     right city within a few km. An ASN database covers every block.
//
// Truth never breaks the physical bound the engine uses (fibre is slower
// than 204.19 km/ms and paths are longer than great circles), so any
// placement that breaks it is an error of the method, counted separately.
// Every figure depends on these assumptions; the benchmark's purpose is to
// compare methods and catch regressions, not to predict real-world accuracy.
package accuracy

import (
	"bufio"
	"bytes"
	"container/heap"
	_ "embed"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/internal/mmdbtest"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/traceroute"
)

//go:generate go run ./internal/gencities -data ../../../shared/data -out cities.tsv

//go:embed cities.tsv
var citiesTSV []byte

// City is a real city of the benchmark.
type City struct {
	Name    string
	Country string // ISO 3166-1 alpha-2
	Region  string // first-level region code, lower case (US state)
	Lat     float64
	Lon     float64
	Pop     int
	IATA    string // lower case
}

// Pt is the city's position.
func (c City) Pt() latency.Point { return latency.Point{Lat: c.Lat, Lon: c.Lon} }

// Cities returns the embedded real-city table, most populous first.
var Cities = sync.OnceValue(func() []City {
	var out []City
	sc := bufio.NewScanner(bytes.NewReader(citiesTSV))
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) != 7 {
			panic("accuracy: bad cities.tsv line: " + l)
		}
		lat, _ := strconv.ParseFloat(f[3], 64)
		lon, _ := strconv.ParseFloat(f[4], 64)
		pop, _ := strconv.Atoi(f[5])
		out = append(out, City{Name: f[0], Country: f[1], Region: f[2], Lat: lat, Lon: lon, Pop: pop, IATA: f[6]})
	}
	return out
})

// Convention is how an operator names its routers.
type Convention int

// Naming conventions.
const (
	ConvIATA  Convention = iota // Cogent-style: be3.ccr41.fra03.atlas.cogentco.com
	ConvHE                      // Hurricane Electric: 100ge1-1.core1.fra1.he.net
	ConvCLLI                    // NTT-style: ae-5.r21.frnkge13.de.bb.gin.ntt.net
	ConvSite                    // Arelion-style: ffm-b4-link.ip.twelve99.net
	ConvPlace                   // city spelled out: xe-0-0-1.frankfurt2.core.example-carrier.net
	ConvNone                    // no location: customer-style names
)

func (c Convention) String() string {
	return [...]string{"iata", "he", "clli", "operator-site", "place", "none"}[c]
}

// Operator is a simulated network.
type Operator struct {
	Name   string
	ASN    uint32
	Conv   Convention
	HQ     int   // city index of the head office
	PoPs   []int // city indexes
	Octet  byte  // first octet of its address block
	domain string
}

// Router is one router interface with its true place.
type Router struct {
	Addr netip.Addr
	Name string // PTR name, "" when none
	City int    // true city index
	Op   int
	// Hinted is true when the name carries a location code by the
	// operator's convention (the truth of "the name carries a hint", whether
	// or not a reader decodes it).
	Hinted bool
}

// Vantage is a probe of the simulated world.
type Vantage struct {
	ID   string
	City int
	Op   int // the backbone operator it reaches first
	// With Config.Access: the access ISP (an index into World.Ops), the
	// routers of its access network in the probe's city (no names), and
	// the probe's own public address.
	Access   int
	AccessRs []int
	Addr     netip.Addr
}

// World is one simulated Internet with its traces and databases.
type World struct {
	Seed     uint64
	Cities   []City
	Ops      []Operator
	Routers  []Router
	ByAddr   map[netip.Addr]int // router index
	Vantages []Vantage
	Traces   []*traceroute.Trace
	// DBs are the city databases as mmdb images, ASN the ASN database.
	DBs     []DB
	ASN     []byte
	popOf   map[[2]int][]int // (op, city) -> router indexes
	adj     map[int][]edge   // node -> edges
	nodeOf  map[[2]int]int
	nodes   [][2]int // node -> (op, city)
	prefixC map[netip.Prefix]int
	hosting int // index of the hosting network in Ops, -1 without Config.Access
}

// DB is one simulated city database.
type DB struct {
	Name  string
	Image []byte
}

type edge struct {
	to     int
	fibreK float64 // fibre length in km
}

// Config sizes a world.
type Config struct {
	Seed      uint64
	Operators int // default 12
	Vantages  int // default 16
	Traces    int // default 400
	// Access gives every trace a whole path, as most saved traces have:
	// the home gateway (private), the access ISP's routers in the probe's
	// city (no PTR names; databases often place them at the ISP's head
	// office in the capital), the backbone, and a destination host in a
	// hosting network. Traces carry the probe's public address.
	Access bool
}

func (c Config) withDefaults() Config {
	if c.Operators == 0 {
		c.Operators = 12
	}
	if c.Vantages == 0 {
		c.Vantages = 16
	}
	if c.Traces == 0 {
		c.Traces = 400
	}
	return c
}

// continents roughly, from longitude/latitude, to draw regional operators.
func regionOf(c City) int {
	switch {
	case c.Lon < -30:
		return 0 // Americas
	case c.Lon < 60 && c.Lat > 35:
		return 1 // Europe
	case c.Lon < 60:
		return 2 // Africa, Middle East
	default:
		return 3 // Asia, Oceania
	}
}

var (
	conventionMix = []Convention{ConvIATA, ConvHE, ConvCLLI, ConvSite, ConvPlace, ConvNone, ConvIATA, ConvPlace, ConvNone, ConvIATA, ConvCLLI, ConvHE}
	opDomains     = map[Convention][]string{
		ConvIATA:  {"atlas.cogentco.com", "ip4.gtt.net", "bb.zayo.net"},
		ConvHE:    {"he.net", "core.lumen.tech", "ip.retn.net"},
		ConvCLLI:  {"bb.gin.ntt.net", "ntwk.example-telecom.net"},
		ConvSite:  {"ip.twelve99.net"},
		ConvPlace: {"core.example-carrier.net", "backbone.example-fibre.eu", "net.example-transit.com"},
		ConvNone:  {"static.example-isp.net", "cust.example-hosting.com", "dyn.example-cable.net"},
	}
	// twelve99Sites are Arelion's real site codes (facts; see rdns/operators.json).
	twelve99Sites = map[string]string{
		"frankfurt": "ffm", "stockholm": "sto", "copenhagen": "kbn", "paris": "prs", "london": "ldn",
		"new york": "nyk", "warsaw": "war", "dallas": "dls", "amsterdam": "adm", "singapore": "snge",
		"hong kong": "hnk", "san jose": "sjo", "los angeles": "lax", "atlanta": "atl", "chicago": "chi",
		"hamburg": "hbg", "miami": "mai", "seattle": "sea", "toronto": "toro", "montreal": "motl",
	}
)

// Build makes a world from cfg, deterministically by cfg.Seed.
func Build(cfg Config) (*World, error) {
	cfg = cfg.withDefaults()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	w := &World{Seed: cfg.Seed, Cities: Cities(), ByAddr: map[netip.Addr]int{}, popOf: map[[2]int][]int{},
		adj: map[int][]edge{}, nodeOf: map[[2]int]int{}, prefixC: map[netip.Prefix]int{}, hosting: -1}
	w.buildOps(rng, cfg.Operators)
	w.buildRouters(rng)
	w.buildLinks(rng)
	w.buildVantages(rng, cfg.Vantages)
	if cfg.Access {
		w.buildAccess(rng)
	}
	for i := 0; i < cfg.Traces; i++ {
		w.Traces = append(w.Traces, w.trace(rng, i))
	}
	if err := w.buildDBs(rng); err != nil {
		return nil, err
	}
	return w, nil
}

// popWeighted draws a city index by population among idx.
func popWeighted(rng *rand.Rand, cs []City, idx []int) int {
	total := 0.0
	for _, i := range idx {
		total += math.Sqrt(float64(cs[i].Pop))
	}
	x := rng.Float64() * total
	for _, i := range idx {
		x -= math.Sqrt(float64(cs[i].Pop))
		if x <= 0 {
			return i
		}
	}
	return idx[len(idx)-1]
}

func (w *World) buildOps(rng *rand.Rand, n int) {
	cs := w.Cities
	byRegion := map[int][]int{}
	for i, c := range cs {
		r := regionOf(c)
		byRegion[r] = append(byRegion[r], i)
	}
	usedDomain := map[string]int{}
	for k := 0; k < n; k++ {
		conv := conventionMix[k%len(conventionMix)]
		ds := opDomains[conv]
		d := ds[usedDomain[conv.String()]%len(ds)]
		usedDomain[conv.String()]++
		op := Operator{Name: fmt.Sprintf("op%d", k), ASN: uint32(64600 + k*7), Conv: conv, Octet: byte(20 + k*3), domain: d}
		// Home regions: 1–3; global carriers (every third) also take hubs.
		nReg := 1 + rng.IntN(3)
		regs := rng.Perm(4)[:nReg]
		var pool []int
		for _, r := range regs {
			pool = append(pool, byRegion[r]...)
		}
		sort.Ints(pool)
		size := 8 + rng.IntN(38)
		seen := map[int]bool{}
		for len(op.PoPs) < size && len(seen) < len(pool) {
			c := popWeighted(rng, cs, pool)
			if !seen[c] {
				seen[c] = true
				op.PoPs = append(op.PoPs, c)
			}
		}
		if k%3 == 0 { // global hubs
			for _, hub := range []string{"lhr", "fra", "ams", "jfk", "lax", "sin", "hkg", "nrt", "ord"} {
				for i, c := range cs {
					if c.IATA == hub && !seen[i] {
						seen[i] = true
						op.PoPs = append(op.PoPs, i)
					}
				}
			}
		}
		op.HQ = op.PoPs[rng.IntN(min(3, len(op.PoPs)))]
		w.Ops = append(w.Ops, op)
	}
}

func (w *World) buildRouters(rng *rand.Rand) {
	for oi := range w.Ops {
		op := &w.Ops[oi]
		for pi, ci := range op.PoPs {
			node := len(w.nodes)
			w.nodes = append(w.nodes, [2]int{oi, ci})
			w.nodeOf[[2]int{oi, ci}] = node
			pfx := netip.PrefixFrom(netip.AddrFrom4([4]byte{op.Octet, byte(pi), 0, 0}), 24)
			w.prefixC[pfx] = ci
			nr := 2 + rng.IntN(3)
			for r := 0; r < nr; r++ {
				a := netip.AddrFrom4([4]byte{op.Octet, byte(pi), 0, byte(1 + r*4)})
				name, hinted := w.routerName(rng, op, ci, r, a)
				w.ByAddr[a] = len(w.Routers)
				w.popOf[[2]int{oi, ci}] = append(w.popOf[[2]int{oi, ci}], len(w.Routers))
				w.Routers = append(w.Routers, Router{Addr: a, Name: name, City: ci, Op: oi, Hinted: hinted})
			}
		}
	}
}

// clliCity abbreviates a city name the CLLI way: first letter, then
// consonants, and when that is short the left-out letters put back where
// they stand, so the letters keep their order as in real CLLI codes
// (Frankfurt → frnk, Sanya → sany, Rome → rome).
func clliCity(name string) string {
	s := strings.ToLower(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return -1
	}, name))
	if len(s) <= 4 {
		return (s + "xxxx")[:4]
	}
	keep := make([]bool, len(s))
	keep[0] = true
	n := 1
	for i := 1; i < len(s) && n < 4; i++ {
		if !strings.ContainsRune("aeiouy", rune(s[i])) {
			keep[i] = true
			n++
		}
	}
	for i := 1; i < len(s) && n < 4; i++ {
		if !keep[i] {
			keep[i] = true
			n++
		}
	}
	var out []byte
	for i := range s {
		if keep[i] {
			out = append(out, s[i])
		}
	}
	return string(out)
}

func placeLabel(name string) string {
	return strings.ToLower(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return -1
	}, name))
}

func (w *World) routerName(rng *rand.Rand, op *Operator, ci, r int, a netip.Addr) (string, bool) {
	c := w.Cities[ci]
	if rng.Float64() < 0.06 {
		return "", false // no PTR record
	}
	n := 1 + rng.IntN(9)
	switch op.Conv {
	case ConvIATA:
		return fmt.Sprintf("be%d.ccr%d.%s%02d.%s", 2000+rng.IntN(999), 21+r, c.IATA, n, op.domain), true
	case ConvHE:
		return fmt.Sprintf("100ge%d-%d.core%d.%s%d.%s", rng.IntN(16), 1+rng.IntN(2), 1+r, c.IATA, n, op.domain), true
	case ConvCLLI:
		cc := strings.ToLower(c.Country)
		if c.Country == "US" || c.Country == "CA" {
			cc = c.Region
		}
		tld := strings.ToLower(c.Country)
		if tld == "gb" {
			tld = "uk"
		}
		return fmt.Sprintf("ae-%d.r%02d.%s%s%02d.%s.%s", rng.IntN(12), 1+r, clliCity(c.Name), cc, n, tld, op.domain), true
	case ConvSite:
		code, ok := twelve99Sites[strings.ToLower(c.Name)]
		if !ok {
			code = c.IATA
		}
		return fmt.Sprintf("%s-b%d-link.%s", code, 1+r, op.domain), true
	case ConvPlace:
		return fmt.Sprintf("xe-%d-0-%d.%s%d.%s", rng.IntN(4), rng.IntN(8), placeLabel(c.Name), 1+r, op.domain), true
	}
	b := a.As4()
	return fmt.Sprintf("%d-%d-%d-%d.%s", b[0], b[1], b[2], b[3], op.domain), false
}

func (w *World) buildLinks(rng *rand.Rand) {
	cs := w.Cities
	link := func(a, b int) {
		for _, e := range w.adj[a] {
			if e.to == b {
				return
			}
		}
		ca, cb := cs[w.nodes[a][1]], cs[w.nodes[b][1]]
		d := latency.DistanceKm(ca.Pt(), cb.Pt())
		f := d*(1.05+0.55*rng.Float64()) + 2
		w.adj[a] = append(w.adj[a], edge{b, f})
		w.adj[b] = append(w.adj[b], edge{a, f})
	}
	for oi, op := range w.Ops {
		ns := make([]int, len(op.PoPs))
		for i, ci := range op.PoPs {
			ns[i] = w.nodeOf[[2]int{oi, ci}]
		}
		// Nearest 3 neighbours, and a chain joining each PoP to its nearest
		// earlier PoP so the network is connected.
		for i, a := range ns {
			type nd struct {
				n int
				d float64
			}
			var ds []nd
			for j, b := range ns {
				if i != j {
					ds = append(ds, nd{b, latency.DistanceKm(cs[op.PoPs[i]].Pt(), cs[op.PoPs[j]].Pt())})
				}
			}
			sort.Slice(ds, func(x, y int) bool { return ds[x].d < ds[y].d || (ds[x].d == ds[y].d && ds[x].n < ds[y].n) })
			for k := 0; k < 3 && k < len(ds); k++ {
				link(a, ds[k].n)
			}
			if i > 0 {
				best, bd := ns[0], math.Inf(1)
				for j := 0; j < i; j++ {
					if d := latency.DistanceKm(cs[op.PoPs[i]].Pt(), cs[op.PoPs[j]].Pt()); d < bd {
						best, bd = ns[j], d
					}
				}
				link(a, best)
			}
		}
	}
	// Peering in shared cities.
	byCity := map[int][]int{}
	for n, oc := range w.nodes {
		byCity[oc[1]] = append(byCity[oc[1]], n)
	}
	for _, ns := range byCity {
		for i := range ns {
			for j := i + 1; j < len(ns); j++ {
				link(ns[i], ns[j])
			}
		}
	}
}

func (w *World) buildVantages(rng *rand.Rand, n int) {
	all := make([]int, len(w.nodes))
	for i := range all {
		all[i] = i
	}
	seen := map[int]bool{}
	for len(w.Vantages) < n && len(seen) < len(all) {
		node := all[rng.IntN(len(all))]
		if seen[node] {
			continue
		}
		seen[node] = true
		oc := w.nodes[node]
		w.Vantages = append(w.Vantages, Vantage{ID: strconv.Itoa(1000 + len(w.Vantages)*37), City: oc[1], Op: oc[0]})
	}
}

type pqItem struct {
	n int
	d float64
}
type pq []pqItem

func (p pq) Len() int           { return len(p) }
func (p pq) Less(i, j int) bool { return p[i].d < p[j].d }
func (p pq) Swap(i, j int)      { p[i], p[j] = p[j], p[i] }
func (p *pq) Push(x any)        { *p = append(*p, x.(pqItem)) }
func (p *pq) Pop() any          { o := *p; x := o[len(o)-1]; *p = o[:len(o)-1]; return x }
func (w *World) path(from, to int) []int {
	const hopCostKm = 150 // routing prefers fewer hops, not only shorter fibre
	dist := map[int]float64{from: 0}
	prev := map[int]int{}
	q := &pq{{from, 0}}
	for q.Len() > 0 {
		it := heap.Pop(q).(pqItem)
		if it.d > dist[it.n] {
			continue
		}
		if it.n == to {
			break
		}
		for _, e := range w.adj[it.n] {
			nd := it.d + e.fibreK + hopCostKm
			if old, ok := dist[e.to]; !ok || nd < old {
				dist[e.to], prev[e.to] = nd, it.n
				heap.Push(q, pqItem{e.to, nd})
			}
		}
	}
	if _, ok := dist[to]; !ok {
		return nil
	}
	var p []int
	for n := to; ; n = prev[n] {
		p = append(p, n)
		if n == from {
			break
		}
	}
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
	return p
}

func (w *World) fibre(a, b int) float64 {
	for _, e := range w.adj[a] {
		if e.to == b {
			return e.fibreK
		}
	}
	return math.Inf(1)
}

func (w *World) trace(rng *rand.Rand, i int) *traceroute.Trace {
	v := w.Vantages[rng.IntN(len(w.Vantages))]
	vc := w.Cities[v.City]
	src := w.nodeOf[[2]int{v.Op, v.City}]
	var p []int
	for tries := 0; p == nil && tries < 20; tries++ {
		p = w.path(src, rng.IntN(len(w.nodes)))
	}
	lat, lon := vc.Lat+(rng.Float64()-0.5)*0.1, vc.Lon+(rng.Float64()-0.5)*0.1
	t := &traceroute.Trace{
		Format:      "simulated",
		Source:      traceroute.Endpoint{ProbeID: v.ID, Lat: &lat, Lon: &lon},
		Protocol:    "icmp",
		Destination: traceroute.Endpoint{},
	}
	ttl := 0
	extraMs := 0.0 // the access line's own delay (DSL interleaving, DOCSIS scheduling)
	probes := func(fibreKm float64, a netip.Addr, name string) traceroute.Hop {
		ttl++
		h := traceroute.Hop{TTL: ttl}
		silent := rng.Float64() < 0.04
		for k := 0; k < 3; k++ {
			if silent {
				h.Probes = append(h.Probes, traceroute.Probe{Lost: true})
				continue
			}
			rtt := 2*fibreKm/200 + 0.02*float64(ttl) + rng.ExpFloat64()*0.3 + extraMs
			if rng.Float64() < 0.05 {
				rtt += 1 + 19*rng.Float64()
			}
			h.Probes = append(h.Probes, traceroute.Probe{Addr: a, Name: name, RTTMs: math.Round(rtt*1000) / 1000})
		}
		return h
	}
	// Home router and maybe CGNAT, a few km of access line.
	access := 3 + 10*rng.Float64()
	t.Hops = append(t.Hops, probes(0.5, netip.AddrFrom4([4]byte{192, 168, 1, 1}), ""))
	if rng.Float64() < 0.3 {
		t.Hops = append(t.Hops, probes(access, netip.AddrFrom4([4]byte{100, 64, byte(rng.IntN(256)), 1}), ""))
	}
	// The probe stands within ~10 km of its city; access distance covers it.
	cum := access + latency.DistanceKm(latency.Point{Lat: lat, Lon: lon}, vc.Pt())
	if v.Addr.IsValid() {
		t.Source.Addr = v.Addr
		extraMs = 0.5 + 11.5*rng.Float64()
		for k, ri := range v.AccessRs {
			if k > 0 && rng.Float64() < 0.3 {
				continue // not every access router answers on every path
			}
			cum += 1 + 4*rng.Float64()
			t.Hops = append(t.Hops, probes(cum, w.Routers[ri].Addr, w.Routers[ri].Name))
		}
	}
	for k, n := range p {
		if k > 0 {
			cum += w.fibre(p[k-1], n)
		}
		rs := w.popOf[w.nodes[n]]
		first := rs[(i+k)%len(rs)]
		r := w.Routers[first]
		t.Hops = append(t.Hops, probes(cum, r.Addr, r.Name))
		if rng.Float64() < 0.3 && len(rs) > 1 {
			r2 := w.Routers[rs[(i+k+1)%len(rs)]]
			t.Hops = append(t.Hops, probes(cum+1, r2.Addr, r2.Name))
		}
	}
	if w.hosting >= 0 {
		// The destination: a server in a hosting network in the last
		// PoP's city, a few km of fibre on.
		last := w.nodes[p[len(p)-1]][1]
		r := w.hostIn(rng, last)
		t.Hops = append(t.Hops, probes(cum+2+8*rng.Float64(), w.Routers[r].Addr, w.Routers[r].Name))
	}
	if last := t.Hops[len(t.Hops)-1]; len(last.Probes) > 0 {
		t.Destination.Addr = last.Probes[0].Addr
	}
	return t
}

// dbProfile is the error mix of one simulated city database, per /24.
type dbProfile struct {
	name               string
	gap, hq, country   float64
	stale, nearby      float64
	schema             string // "geoip2" or "flat"
	hqCorrelatedWithDB int    // index of the profile whose head-office errors it shares, -1
}

var profiles = []dbProfile{
	{name: "citydb-a", gap: 0.06, hq: 0.22, country: 0.06, stale: 0.05, nearby: 0.05, schema: "geoip2", hqCorrelatedWithDB: -1},
	{name: "citydb-b", gap: 0.12, hq: 0.20, country: 0.04, stale: 0.06, nearby: 0.06, schema: "flat", hqCorrelatedWithDB: 0},
}

func (w *World) buildDBs(rng *rand.Rand) error {
	pfxs := make([]netip.Prefix, 0, len(w.prefixC))
	for p := range w.prefixC {
		pfxs = append(pfxs, p)
	}
	sort.Slice(pfxs, func(i, j int) bool { return pfxs[i].Addr().Less(pfxs[j].Addr()) })
	hqOf := map[netip.Prefix]bool{}
	for pi, prof := range profiles {
		var recs []mmdbtest.CityRecord
		for _, p := range pfxs {
			ci := w.prefixC[p]
			op := &w.Ops[w.opOfPrefix(p)]
			c := w.Cities[ci]
			x := rng.Float64()
			rec := mmdbtest.CityRecord{Prefix: p.String(), Country: c.Country, City: c.Name, Lat: c.Lat, Lon: c.Lon, AccuracyKm: 20}
			hq := x < prof.hq
			if prof.hqCorrelatedWithDB >= 0 && hqOf[p] {
				hq = rng.Float64() < 0.6
			}
			switch {
			case hq:
				h := w.Cities[op.HQ]
				rec.City, rec.Country, rec.Lat, rec.Lon = h.Name, h.Country, h.Lat, h.Lon
				if pi == 0 {
					hqOf[p] = true
				}
			case x < prof.hq+prof.gap:
				continue
			case x < prof.hq+prof.gap+prof.country:
				cc, ok := candidates.LookupCountry(c.Country)
				if !ok {
					continue
				}
				rec.City, rec.Lat, rec.Lon, rec.AccuracyKm = "", cc.Lat, cc.Lon, 1000
			case x < prof.hq+prof.gap+prof.country+prof.stale:
				s := w.Cities[op.PoPs[rng.IntN(len(op.PoPs))]]
				rec.City, rec.Country, rec.Lat, rec.Lon = s.Name, s.Country, s.Lat, s.Lon
			case x < prof.hq+prof.gap+prof.country+prof.stale+prof.nearby:
				// The nearest other city (a DB snapping to the wrong metro).
				best, bd := ci, math.Inf(1)
				for j, o := range w.Cities {
					if j != ci {
						if d := latency.DistanceKm(c.Pt(), o.Pt()); d < bd {
							best, bd = j, d
						}
					}
				}
				s := w.Cities[best]
				rec.City, rec.Country, rec.Lat, rec.Lon = s.Name, s.Country, s.Lat, s.Lon
			default:
				// Right city, a few km off its centre.
				rec.Lat += (rng.Float64() - 0.5) * 0.08
				rec.Lon += (rng.Float64() - 0.5) * 0.08
			}
			recs = append(recs, rec)
		}
		var img []byte
		var err error
		if prof.schema == "flat" {
			img, err = mmdbtest.BuildFlatCity(4, recs, mmdbtest.Type("City IPv4"))
		} else {
			img, err = mmdbtest.BuildCity(recs, mmdbtest.Type("GeoIP2-City"))
		}
		if err != nil {
			return fmt.Errorf("accuracy: building %s: %w", prof.name, err)
		}
		w.DBs = append(w.DBs, DB{Name: prof.name, Image: img})
	}
	var asn []mmdbtest.ASNRecord
	for _, op := range w.Ops {
		asn = append(asn, mmdbtest.ASNRecord{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{op.Octet, 0, 0, 0}), 16).String(), ASN: op.ASN, Org: op.Name + " Networks"})
	}
	img, err := mmdbtest.BuildASN(asn)
	if err != nil {
		return fmt.Errorf("accuracy: building ASN db: %w", err)
	}
	w.ASN = img
	return nil
}

// buildAccess gives every vantage point an access network: one access
// ISP per country (head office in the country's most populous city of the
// table, where national ISPs register their blocks), with one /24 per probe
// city holding 1–3 unnamed routers and the probe's own address; and a
// hosting network with servers in every city, for destinations.
func (w *World) buildAccess(rng *rand.Rand) {
	byCC := map[string]int{}
	octet := byte(150)
	for vi := range w.Vantages {
		v := &w.Vantages[vi]
		c := w.Cities[v.City]
		oi, ok := byCC[c.Country]
		if !ok {
			hq := v.City
			for i, o := range w.Cities { // most populous first
				if o.Country == c.Country {
					hq = i
					break
				}
			}
			oi = len(w.Ops)
			byCC[c.Country] = oi
			w.Ops = append(w.Ops, Operator{Name: fmt.Sprintf("isp-%s", strings.ToLower(c.Country)), ASN: uint32(65100 + oi), Conv: ConvNone, HQ: hq, Octet: octet, domain: "dsl.example-isp-" + strings.ToLower(c.Country) + ".net"})
			octet++
		}
		op := &w.Ops[oi]
		pi := -1
		for k, ci := range op.PoPs {
			if ci == v.City {
				pi = k
			}
		}
		if pi < 0 {
			pi = len(op.PoPs)
			op.PoPs = append(op.PoPs, v.City)
			pfx := netip.PrefixFrom(netip.AddrFrom4([4]byte{op.Octet, byte(pi), 0, 0}), 24)
			w.prefixC[pfx] = v.City
			for r := 0; r < 1+rng.IntN(3); r++ {
				a := netip.AddrFrom4([4]byte{op.Octet, byte(pi), 0, byte(1 + r)})
				w.ByAddr[a] = len(w.Routers)
				w.popOf[[2]int{oi, v.City}] = append(w.popOf[[2]int{oi, v.City}], len(w.Routers))
				w.Routers = append(w.Routers, Router{Addr: a, City: v.City, Op: oi})
			}
		}
		v.Access = oi
		v.AccessRs = w.popOf[[2]int{oi, v.City}]
		v.Addr = netip.AddrFrom4([4]byte{op.Octet, byte(pi), 0, byte(100 + vi)})
	}
	w.hosting = len(w.Ops)
	w.Ops = append(w.Ops, Operator{Name: "hosting", ASN: 65500, Conv: ConvNone, HQ: 0, Octet: octet, domain: "srv.example-hosting.com"})
}

// hostIn returns the router index of a server of the hosting network in
// city ci, making the city's /24 and servers on first use.
func (w *World) hostIn(rng *rand.Rand, ci int) int {
	op := &w.Ops[w.hosting]
	if rs := w.popOf[[2]int{w.hosting, ci}]; len(rs) > 0 {
		return rs[rng.IntN(len(rs))]
	}
	pi := len(op.PoPs)
	op.PoPs = append(op.PoPs, ci)
	pfx := netip.PrefixFrom(netip.AddrFrom4([4]byte{op.Octet, byte(pi), 0, 0}), 24)
	w.prefixC[pfx] = ci
	for r := 0; r < 2; r++ {
		a := netip.AddrFrom4([4]byte{op.Octet, byte(pi), 0, byte(10 + r)})
		name := ""
		if rng.Float64() < 0.5 {
			b := a.As4()
			name = fmt.Sprintf("server-%d-%d-%d-%d.%s", b[0], b[1], b[2], b[3], op.domain)
		}
		w.ByAddr[a] = len(w.Routers)
		w.popOf[[2]int{w.hosting, ci}] = append(w.popOf[[2]int{w.hosting, ci}], len(w.Routers))
		w.Routers = append(w.Routers, Router{Addr: a, Name: name, City: ci, Op: w.hosting})
	}
	rs := w.popOf[[2]int{w.hosting, ci}]
	return rs[rng.IntN(len(rs))]
}

func (w *World) opOfPrefix(p netip.Prefix) int {
	b := p.Addr().As4()
	for i, op := range w.Ops {
		if op.Octet == b[0] {
			return i
		}
	}
	return -1
}
