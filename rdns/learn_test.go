package rdns

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/latency"
)

// Vantage points of the learner tests, real cities.
var (
	vpNewYork    = latency.Point{Lat: 40.71, Lon: -74.01}
	vpChicago    = latency.Point{Lat: 41.88, Lon: -87.63}
	vpAtlanta    = latency.Point{Lat: 33.75, Lon: -84.39}
	vpSeattle    = latency.Point{Lat: 47.61, Lon: -122.33}
	vpLondon     = latency.Point{Lat: 51.51, Lon: -0.13}
	vpFrankfurt  = latency.Point{Lat: 50.11, Lon: 8.68}
	vpStockholm  = latency.Point{Lat: 59.33, Lon: 18.07}
	vpTokyo      = latency.Point{Lat: 35.68, Lon: 139.69}
	vpWashington = latency.Point{Lat: 38.9, Lon: -77.04}
	vpStLouis    = latency.Point{Lat: 38.63, Lon: -90.2}
)

// seen returns the discs the RTTs from vps to a router at pt allow: fibre
// 40% longer than the great circle, 1 ms of queueing, the engine's 25 km
// slack. Truth always lies inside them.
func seen(pt latency.Point, vps ...latency.Point) []latency.Disc {
	var out []latency.Disc
	for _, vp := range vps {
		rtt := 2*latency.DistanceKm(vp, pt)*1.4/200 + 1
		out = append(out, latency.DiscFromRTT(vp, rtt, 25))
	}
	return out
}

func entryOf(c *Conventions, code string) *Entry {
	for i := range c.Entries {
		if c.Entries[i].Code == code {
			return &c.Entries[i]
		}
	}
	return nil
}

// TestLearnerLookAlikes: codes of an operator no dictionary knows, each of
// which abbreviates several places ("mans": Manassas, Mansfield,
// Manchester; "sprf": four Springfields), seen from several
// vantage points: the discs together pick the right place, which no single
// far vantage point can ("sprf" is Springfield, Illinois, not Missouri,
// Ohio or Massachusetts, from Chicago and St. Louis).
func TestLearnerLookAlikes(t *testing.T) {
	sites := []struct {
		code  string
		place string
		pt    latency.Point
		vps   []latency.Point
	}{
		{"mans", "Manassas", latency.Point{Lat: 38.75, Lon: -77.48}, []latency.Point{vpWashington, vpNewYork, vpAtlanta}},
		{"sprf", "Springfield", latency.Point{Lat: 39.80, Lon: -89.65}, []latency.Point{vpChicago, vpStLouis}},
		{"ipls", "Indianapolis", latency.Point{Lat: 39.77, Lon: -86.16}, []latency.Point{vpChicago, vpAtlanta}},
		{"omha", "Omaha", latency.Point{Lat: 41.26, Lon: -95.94}, []latency.Point{vpChicago, vpSeattle}},
		{"zgb", "Zagreb", latency.Point{Lat: 45.81, Lon: 15.98}, []latency.Point{vpFrankfurt, vpLondon}},
		{"win", "Vienna", latency.Point{Lat: 48.21, Lon: 16.37}, []latency.Point{vpFrankfurt, vpStockholm}},
		{"bei", "Berlin", latency.Point{Lat: 52.52, Lon: 13.41}, []latency.Point{vpFrankfurt, vpStockholm}},
		{"tky", "Tokyo", latency.Point{Lat: 35.69, Lon: 139.69}, []latency.Point{vpTokyo}},
	}
	l := NewLearner(LearnOptions{})
	for _, s := range sites {
		for r := 1; r <= 2; r++ {
			l.Observe(fmt.Sprintf("ae-%d.%s-bb%d-link.ip.example-carrier.net", r, s.code, r), seen(s.pt, s.vps...))
		}
	}
	c := l.Conventions()
	require.Len(t, c.Domains, 1)
	d := c.Domains[0]
	assert.Equal(t, "example-carrier.net", d.Domain)
	assert.Equal(t, `(?:^|\.)(?P<loc>[a-z]+)[0-9]*(?:-[^.]*)?(?:\.[^.]+){1}$`, d.Pattern)
	for _, s := range sites {
		e := entryOf(c, s.code)
		require.NotNil(t, e, s.code)
		assert.Empty(t, e.Rejected, s.code)
		require.NotNil(t, e.Place, s.code)
		assert.Equal(t, s.place, e.Place.Name, s.code)
		assert.Equal(t, 2, e.Support, s.code)
		assert.Zero(t, e.Conflicts, s.code)
		assert.Equal(t, "learned", e.Source)
		assert.Contains(t, e.Note, "abbreviation of", s.code)
	}
	assert.Equal(t, "IL", entryOf(c, "sprf").Place.Region)
	assert.Nil(t, entryOf(c, "link"), "role words are no codes")

	// Seen from one far vantage point only, "mans" cannot be told from
	// the other places it abbreviates: never one place alone.
	far := NewLearner(LearnOptions{})
	for r := 1; r <= 3; r++ {
		far.Observe(fmt.Sprintf("mans-bb%d-link.ip.example-carrier.net", r), seen(latency.Point{Lat: 38.75, Lon: -77.48}, vpLondon))
		far.Observe(fmt.Sprintf("ipls-bb%d-link.ip.example-carrier.net", r), seen(latency.Point{Lat: 39.77, Lon: -86.16}, vpChicago))
		far.Observe(fmt.Sprintf("omha-bb%d-link.ip.example-carrier.net", r), seen(latency.Point{Lat: 41.26, Lon: -95.94}, vpChicago, vpSeattle))
	}
	fc := far.Conventions()
	e := entryOf(fc, "mans")
	require.NotNil(t, e)
	assert.True(t, e.Rejected != "" || len(e.Alternatives) > 0, "%+v", e)

	// What was learned reads names never observed, through a file.
	var buf bytes.Buffer
	require.NoError(t, c.WriteJSON(&buf))
	back, err := ReadConventions(&buf, "learned.json")
	require.NoError(t, err)
	r := NewReader(back)
	for name, want := range map[string]string{
		"ae-9.ipls-bb7-link.ip.example-carrier.net": "Indianapolis",
		"ae-1.win-bb9-link.ip.example-carrier.net":  "Vienna", // not Winton, AU
		"ae-1.bei-bb3-link.ip.example-carrier.net":  "Berlin", // not Beica, ET
	} {
		hs := r.Hints(name)
		require.NotEmpty(t, hs, name)
		assert.Equal(t, want, hs[0].Place, name)
		assert.Equal(t, KindOperatorSite, hs[0].Kind)
		assert.Contains(t, hs[0].Why, "learned from 2 observations")
	}
}

// TestLearnerConflicts: a code seen where no one place fits every
// observation (an operator using it for two sites) is rejected with its
// conflicts counted; a position whose words contradict the measurements
// (a router role that occurs everywhere) is no convention.
func TestLearnerConflicts(t *testing.T) {
	l := NewLearner(LearnOptions{})
	indy := latency.Point{Lat: 39.77, Lon: -86.16}
	omaha := latency.Point{Lat: 41.26, Lon: -95.94}
	tulsa := latency.Point{Lat: 36.15, Lon: -95.99}
	denver := latency.Point{Lat: 39.74, Lon: -104.98}
	for r := 1; r <= 2; r++ {
		l.Observe(fmt.Sprintf("ipls%d.hub.example.com", r), seen(indy, vpChicago, vpAtlanta))
		l.Observe(fmt.Sprintf("omha%d.hub.example.com", r), seen(omaha, vpChicago, vpSeattle))
		l.Observe(fmt.Sprintf("tlsa%d.hub.example.com", r), seen(tulsa, vpChicago, vpAtlanta))
		l.Observe(fmt.Sprintf("dnvr%d.hub.example.com", r), seen(denver, vpChicago, vpSeattle))
	}
	// "dnvr" also names a router in Indianapolis.
	l.Observe("dnvr9.hub.example.com", seen(indy, vpChicago, vpAtlanta))
	c := l.Conventions()
	e := entryOf(c, "dnvr")
	require.NotNil(t, e)
	assert.Contains(t, e.Rejected, "no place the code can mean fits every observation")
	assert.Equal(t, 2, e.Support)
	assert.Equal(t, 1, e.Conflicts)
	for code, want := range map[string]string{"ipls": "Indianapolis", "omha": "Omaha", "tlsa": "Tulsa"} {
		e := entryOf(c, code)
		require.NotNil(t, e, code)
		assert.Empty(t, e.Rejected, code)
		assert.Equal(t, want, e.Place.Name)
	}
	assert.Nil(t, entryOf(c, "hub"), "the same word everywhere is no code")

	// Tolerance: with a share of conflicts allowed, the majority place.
	tol := NewLearner(LearnOptions{MaxConflictShare: 0.34})
	for r := 1; r <= 2; r++ {
		tol.Observe(fmt.Sprintf("dnvr%d.hub.example.com", r), seen(denver, vpChicago, vpSeattle))
		tol.Observe(fmt.Sprintf("omha%d.hub.example.com", r), seen(omaha, vpChicago, vpSeattle))
		tol.Observe(fmt.Sprintf("tlsa%d.hub.example.com", r), seen(tulsa, vpChicago, vpAtlanta))
	}
	tol.Observe("dnvr9.hub.example.com", seen(indy, vpChicago, vpAtlanta))
	e = entryOf(tol.Conventions(), "dnvr")
	require.NotNil(t, e)
	assert.Empty(t, e.Rejected)
	assert.Equal(t, "Denver", e.Place.Name)
	assert.Equal(t, 1, e.Conflicts)
}

// TestLearnerKnownOperator: under a domain the Reader knows, codes its
// table has are not learned again; the others are, as entries without a
// new domain.
func TestLearnerKnownOperator(t *testing.T) {
	l := NewLearner(LearnOptions{})
	for r := 1; r <= 2; r++ {
		l.Observe(fmt.Sprintf("ffm-bb%d-link.ip.twelve99.net", r), seen(latency.Point{Lat: 50.11, Lon: 8.68}, vpFrankfurt))
		l.Observe(fmt.Sprintf("aarh-b%d-link.ip.twelve99.net", r), seen(latency.Point{Lat: 56.16, Lon: 10.2}, vpStockholm, vpFrankfurt))
		l.Observe(fmt.Sprintf("brmn-b%d-link.ip.twelve99.net", r), seen(latency.Point{Lat: 53.08, Lon: 8.8}, vpFrankfurt, vpStockholm))
	}
	c := l.Conventions()
	assert.Empty(t, c.Domains)
	assert.Nil(t, entryOf(c, "ffm"))
	e := entryOf(c, "aarh")
	require.NotNil(t, e)
	assert.Equal(t, "Aarhus", e.Place.Name)
	assert.Equal(t, "ip.twelve99.net", e.Domain)
	r := NewReader(c)
	assert.Equal(t, "Bremen", firstPlace(r.Hints("brmn-b7-link.ip.twelve99.net")))
	assert.Equal(t, "Frankfurt", firstPlace(r.Hints("ffm-b7-link.ip.twelve99.net")))
}

func TestLearnerBounded(t *testing.T) {
	l := NewLearner(LearnOptions{MaxObservations: 10})
	for i := 0; i < 100; i++ {
		l.Observe(fmt.Sprintf("ipls%d.hub.example.com", i), seen(latency.Point{Lat: 39.77, Lon: -86.16}, vpChicago))
	}
	s := l.Stats()
	assert.Equal(t, 100, s.Observed)
	assert.Equal(t, 10, s.Stored)
	assert.Equal(t, 90, s.Dropped)
	// Ignored: no discs, bad discs, not a name, a pool.
	l.Observe("ipls1.hub.example.com", nil)
	l.Observe("ipls1.hub.example.com", []latency.Disc{{RadiusKm: -1}, {Center: latency.Point{Lat: 100}, RadiusKm: 5}})
	l.Observe("bad name", seen(vpChicago, vpChicago))
	l.Observe("c-73-12-1-2.hsd1.il.comcast.net", seen(vpChicago, vpChicago))
	assert.Equal(t, 100, l.Stats().Observed)
}

func TestLearnerConcurrent(t *testing.T) {
	l := NewLearner(LearnOptions{})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				l.Observe(fmt.Sprintf("omha%d.hub.example.com", i%5), seen(latency.Point{Lat: 41.26, Lon: -95.94}, vpChicago, vpSeattle))
				if i%10 == 0 {
					l.Conventions()
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 400, l.Stats().Observed)
}

func TestAddDisc(t *testing.T) {
	var ds [maxObsDiscs]latency.Disc
	n := addDisc(&ds, 0, latency.Disc{Center: vpChicago, RadiusKm: 1000})
	n = addDisc(&ds, n, latency.Disc{Center: vpChicago, RadiusKm: 500}) // tighter: replaces
	require.Equal(t, 1, n)
	assert.Equal(t, 500.0, ds[0].RadiusKm)
	n = addDisc(&ds, n, latency.Disc{Center: vpChicago, RadiusKm: 800}) // says nothing new
	require.Equal(t, 1, n)
	for i, vp := range []latency.Point{vpNewYork, vpAtlanta, vpSeattle, vpLondon} {
		n = addDisc(&ds, n, latency.Disc{Center: vp, RadiusKm: float64(100 + 100*i)})
	}
	require.Equal(t, maxObsDiscs, n)
	for _, d := range ds {
		assert.Less(t, d.RadiusKm, 500.0, "the widest disc makes way")
	}
}

// The learned pattern finds exactly the code the learner saw in that
// position.
func TestTemplatePattern(t *testing.T) {
	d := loadDict()
	for _, name := range []string{
		"ae-1.ipls-bb1-link.ip.example.net", "omha2.example.net", "xe-0-0-1.zgb-core-2.r.example.net",
		"anderson--cr001.tlsa.example.net", "a-b-c-dnvr4-x.example.net", "core1.sfia.example.net",
	} {
		r := NewReader()
		p, ok := r.parse(name)
		require.True(t, ok)
		host := strings.Join(p.host, ".")
		for _, w := range d.codeWords(p.host) {
			pat := template{label: int16(w.labelIndex), word: int16(w.word)}.pattern()
			re, err := compilePattern(pat)
			require.NoError(t, err)
			m := re.FindStringSubmatch(host)
			require.NotNil(t, m, "%s %s", name, pat)
			assert.Equal(t, w.code, m[re.SubexpIndex("loc")], "%s %s", name, pat)
		}
	}
}

// BenchmarkLearnerMemory reports the heap a Learner holds per router name
// observed (each with three code-like words and three discs).
func BenchmarkLearnerMemory(b *testing.B) {
	const n = 20000
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("ae-%d.core%d.ab%c%c-bb%d-link.xyz%c.example-carrier.net", i%7, i%5, 'a'+rune(i%26), 'a'+rune(i/26%26), i%9, 'a'+rune(i/676%26))
	}
	discs := seen(latency.Point{Lat: 41.26, Lon: -95.94}, vpChicago, vpSeattle, vpAtlanta)
	NewReader() // the dictionaries, before measuring
	b.ReportAllocs()
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l := NewLearner(LearnOptions{MaxObservations: 1 << 20})
		for _, name := range names {
			l.Observe(name, discs)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/name")
		runtime.KeepAlive(l)
	}
}

// Every place the learner can name passes the checks of ReadConventions,
// so that a learned file always reads back.
func TestLearnablePlacesValid(t *testing.T) {
	d := loadDict()
	for i := range d.places {
		p := &d.places[i]
		pl := Place{Name: p.name, Region: p.region, Country: p.cc, Lat: p.lat, Lon: p.lon, Population: p.pop}
		require.NoError(t, checkPlace(&pl), "%+v", pl)
	}
	for _, a := range d.airports {
		pl := Place{Name: a.name, Region: a.region, Country: a.cc, Lat: a.lat, Lon: a.lon, Population: a.pop}
		require.NoError(t, checkPlace(&pl), "%+v", pl)
	}
	for _, l := range d.locodes() {
		pl := Place{Name: l.name, Region: l.region, Country: strings.ToUpper(l.code[:2]), Lat: l.lat, Lon: l.lon, Population: l.pop}
		require.NoError(t, checkPlace(&pl), "%+v", pl)
	}
}

// TestLearnerDomainSplit: learners fed the names of each Domain apart give,
// together, what one learner fed every name gives (what a distributed
// pipeline relies on when it groups names by Domain).
func TestLearnerDomainSplit(t *testing.T) {
	sites := []struct {
		code string
		pt   latency.Point
		vps  []latency.Point
	}{
		{"mans", latency.Point{Lat: 38.75, Lon: -77.48}, []latency.Point{vpWashington, vpNewYork, vpAtlanta}},
		{"sprf", latency.Point{Lat: 39.80, Lon: -89.65}, []latency.Point{vpChicago, vpStLouis}},
		{"ipls", latency.Point{Lat: 39.77, Lon: -86.16}, []latency.Point{vpChicago, vpAtlanta}},
		{"zgb", latency.Point{Lat: 45.81, Lon: 15.98}, []latency.Point{vpFrankfurt, vpLondon}},
		{"win", latency.Point{Lat: 48.21, Lon: 16.37}, []latency.Point{vpFrankfurt, vpStockholm}},
	}
	type obs struct {
		name  string
		discs []latency.Disc
	}
	var all []obs
	for _, s := range sites {
		for r := 1; r <= 3; r++ {
			all = append(all,
				obs{fmt.Sprintf("ae-%d.%s-bb%d-link.ip.example-carrier.net", r, s.code, r), seen(s.pt, s.vps...)},
				obs{fmt.Sprintf("xe-%d.cr%d.%s.example-isp.org", r, r, s.code), seen(s.pt, s.vps[0])},
				obs{fmt.Sprintf("r%d-%s.backbone.example.de", r, s.code), seen(s.pt, s.vps[len(s.vps)-1])})
		}
	}
	all = append(all, obs{"c-73-12-1-2.hsd1.il.comcast.net", seen(vpChicago, vpChicago)}, obs{"not a name", seen(vpChicago, vpChicago)})

	one := NewLearner(LearnOptions{})
	split := map[string]*Learner{}
	for _, o := range all {
		one.Observe(o.name, o.discs)
		d := one.Domain(o.name)
		if d == "" {
			continue
		}
		if split[d] == nil {
			split[d] = NewLearner(LearnOptions{})
		}
		split[d].Observe(o.name, o.discs)
	}
	assert.Empty(t, one.Domain("c-73-12-1-2.hsd1.il.comcast.net"), "pool names teach nothing")
	assert.Empty(t, one.Domain("not a name"))
	require.Len(t, split, 3)
	assert.Contains(t, split, "example-carrier.net")

	want := one.Conventions()
	require.NotEmpty(t, want.Entries)
	var domains []Domain
	var entries []Entry
	for _, d := range []string{"example-carrier.net", "example-isp.org", "example.de"} {
		c := split[d].Conventions()
		domains = append(domains, c.Domains...)
		entries = append(entries, c.Entries...)
	}
	assert.Equal(t, want.Domains, domains)
	assert.Equal(t, want.Entries, entries)
}
