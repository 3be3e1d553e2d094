package accuracy

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/latency"
	"github.com/geoloc-dev/geoloc/rdns"
)

func TestDebugPaths(t *testing.T) {
	if os.Getenv("DEBUGPATHS") == "" {
		t.Skip()
	}
	seed, _ := strconv.Atoi(os.Getenv("DEBUGSEED"))
	if seed == 0 {
		seed = 1
	}
	w, _ := Build(Config{Seed: uint64(seed), Traces: 200, Access: true})
	_, sources, _ := w.openDBs()
	blind := os.Getenv("DEBUGPATHS") == "blind"
	e := geoloc.New(geoloc.Options{Sources: sources, Hints: rdns.Hints})
	n := 0
	for i, t0 := range w.Traces {
		tr := t0
		if blind {
			c := *t0
			c.Source.Lat, c.Source.Lon = nil, nil
			tr = &c
		}
		r, _ := e.Locate(context.Background(), tr)
		ts := w.truthOf(t0)
		want := w.trueCountries(ts)
		bad := slices.ContainsFunc(r.Countries, func(cc string) bool { return !slices.Contains(want, cc) })
		if os.Getenv("DEBUGEXACT") != "" {
			bad = !slices.Equal(r.Countries, want)
		}
		brk := false
		for hi, th := range ts {
			h := r.Hops[hi]
			if th.router >= 0 && h.Location != nil && th.rttMs > 0 {
				if latency.DistanceKm(th.vantage, latency.Point{Lat: h.Location.Lat, Lon: h.Location.Lon}) > latency.MaxDistanceKm(th.rttMs, boundSlackKm) {
					brk = true
				}
			}
		}
		if os.Getenv("DEBUGBREAK") != "" {
			bad = false
		}
		if !bad && !brk {
			continue
		}
		n++
		if n > 12 {
			continue
		}
		fmt.Printf("trace %d: want %v got %v uncertain %v vantage %+v\n", i, want, r.Countries, r.CountriesUncertain, r.Vantage)
		for hi, th := range ts {
			h := r.Hops[hi]
			tc := "-"
			if th.router >= 0 {
				c := w.Cities[w.Routers[th.router].City]
				tc = c.Name + "/" + c.Country
			}
			loc := "nil"
			if h.Location != nil {
				loc = fmt.Sprintf("%s/%s r%.0f", h.Location.City, h.Location.Country, h.Location.RadiusKm)
			}
			fmt.Printf("  %2d %-16s %-40s rtt %6.2f true %-22s got %-28s conf %.2f %s %s\n", h.TTL, h.Addr, h.Name, h.RTTMs, tc, loc, h.Confidence, h.Method, h.Why)
		}
	}
	fmt.Println("bad traces", n)
}
