package accuracy

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCities(t *testing.T) {
	cs := Cities()
	require.Greater(t, len(cs), 200)
	seen := map[string]bool{}
	for _, c := range cs {
		assert.Len(t, c.IATA, 3, c.Name)
		assert.False(t, seen[c.IATA], "duplicate %s", c.IATA)
		seen[c.IATA] = true
		assert.Len(t, c.Country, 2, c.Name)
	}
}

func TestBuildDeterministic(t *testing.T) {
	a, err := Build(Config{Seed: 7, Traces: 30})
	require.NoError(t, err)
	b, err := Build(Config{Seed: 7, Traces: 30})
	require.NoError(t, err)
	require.Equal(t, len(a.Routers), len(b.Routers))
	assert.Equal(t, a.Routers, b.Routers)
	assert.Equal(t, a.DBs, b.DBs)
	for i := range a.Traces {
		assert.Equal(t, a.Traces[i], b.Traces[i])
	}
}

func TestCLLICity(t *testing.T) {
	for in, want := range map[string]string{"Frankfurt": "frnk", "Amsterdam": "amst", "Tokyo": "toky", "Rome": "rome", "Ho Chi Minh City": "hchm", "Sanya": "sany", "Riyadh": "ridh"} {
		assert.Equal(t, want, clliCity(in), in)
	}
}

// TestAccuracy runs the benchmark over several seeds, prints the table and
// asserts floors: regressions fail, and no seed is special.
//
//	go test -run TestAccuracy -v ./internal/accuracy
func TestAccuracy(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	traces := 200
	if testing.Short() || raceEnabled {
		seeds, traces = seeds[:2], 120
	}
	for _, seed := range seeds {
		ms, err := Run(context.Background(), Config{Seed: seed, Traces: traces}, nil)
		require.NoError(t, err)
		require.NoError(t, WriteTable(os.Stdout, "", ms))
		eng, fused := ms[0], ms[1]
		bestDB := 0.0
		var names Metrics
		blind := ms[2]
		assert.Equal(t, "engine, vantage unknown", blind.Method)
		assert.GreaterOrEqual(t, blind.Within, 0.9, "seed %d: vantage unknown", seed)
		assert.LessOrEqual(t, float64(blind.Breaking)/float64(blind.Hops), 0.01, "seed %d: vantage unknown, placements breaking the true bound", seed)
		for _, m := range ms[3:] {
			if m.Method == "names alone (top hint)" {
				names = m
				continue
			}
			bestDB = max(bestDB, m.Within)
		}
		for _, m := range []Metrics{eng, fused} {
			assert.Zero(t, m.Breaking, "seed %d %s: placements breaking a bound", seed, m.Method)
			// Floors a little under what 16 seeds showed (within 40 km
			// 92–98%, with a hint 95–99.9%, 35–45 points over the best
			// database, confidence ≥ 0.9 right 99.8–100%).
			assert.GreaterOrEqual(t, m.Located, 0.97, "seed %d %s: located", seed, m.Method)
			assert.GreaterOrEqual(t, m.Within, 0.88, "seed %d %s: within 40 km", seed, m.Method)
			assert.GreaterOrEqual(t, m.WithinH, 0.93, "seed %d %s: within 40 km where the name has a hint", seed, m.Method)
			assert.GreaterOrEqual(t, m.Within-bestDB, 0.28, "seed %d %s: margin over the best single database", seed, m.Method)
			assert.Greater(t, m.Within, names.Within, "seed %d %s: better than names alone", seed, m.Method)
			assert.GreaterOrEqual(t, m.SureOK, 0.95, "seed %d %s: calibration", seed, m.Method)
			assert.GreaterOrEqual(t, m.Country, 0.93, "seed %d %s: country", seed, m.Method)
		}
	}
}

// BenchmarkAccuracy reports the engine's share within 40 km (and the best
// single database's) as benchmark metrics, for tracking over time.
//
//	go test -run '^$' -bench BenchmarkAccuracy -benchtime 1x ./internal/accuracy
func BenchmarkAccuracy(b *testing.B) {
	for b.Loop() {
		ms, err := Run(context.Background(), Config{Seed: 1, Traces: 300}, nil)
		require.NoError(b, err)
		bestDB := 0.0
		for _, m := range ms[3 : len(ms)-1] {
			bestDB = max(bestDB, m.Within)
		}
		b.ReportMetric(100*ms[0].Within, "%within40km")
		b.ReportMetric(100*ms[0].WithinH, "%within40km-hinted")
		b.ReportMetric(100*ms[1].Within, "%within40km-fused")
		b.ReportMetric(100*bestDB, "%within40km-bestdb")
		b.ReportMetric(ms[0].MedianKm, "median-km")
	}
}

// pathSeeds runs TestPaths over seeds 1..N (go test -run TestPaths -v
// ./internal/accuracy -args -seeds 8).
var pathSeeds = flag.Int("seeds", 0, "TestPaths: run seeds 1..N")

// TestPaths scores whole paths (home gateway, unnamed access network,
// backbone, destination host) from vantage points the engine is told and
// not told, and asserts floors a little under what the seeds show (issue
// 11's goals: from an unknown vantage point, countries exact in 90% of
// traces, at most 3% naming a country never crossed, at most 0.5% of
// placements breaking the true bound).
//
//	go test -run TestPaths -v ./internal/accuracy
func TestPaths(t *testing.T) {
	// The same 200 traces per seed under the race detector (the floors
	// hold for these worlds), only fewer seeds.
	seeds := []uint64{1, 2, 3}
	const traces = 200
	if testing.Short() || raceEnabled {
		seeds = seeds[:2]
	}
	if *pathSeeds > 0 {
		seeds = nil
		for s := range *pathSeeds {
			seeds = append(seeds, uint64(s+1))
		}
	}
	for _, seed := range seeds {
		ms, err := RunPaths(context.Background(), Config{Seed: seed, Traces: traces}, nil)
		require.NoError(t, err)
		require.NoError(t, WritePathTable(os.Stdout, fmt.Sprintf("seed %d", seed), ms))
		known, blind, fused := ms[0], ms[1], ms[2]
		assert.Zero(t, known.Breaking, "seed %d: a given vantage point's bounds are never broken", seed)
		if *pathSeeds > 0 {
			continue // more seeds are for reading; the floors are for 1-3
		}
		for _, m := range []PathMetrics{known, blind, fused} {
			assert.GreaterOrEqual(t, m.CountriesExact, 0.86, "seed %d %s: countries exact", seed, m.Method)
			assert.LessOrEqual(t, m.NeverCrossed, 0.04, "seed %d %s: traces naming a country never crossed", seed, m.Method)
			assert.LessOrEqual(t, m.BreakingShare, 0.006, "seed %d %s: placements breaking the true bound", seed, m.Method)
			assert.GreaterOrEqual(t, m.Within, 0.94, "seed %d %s: hops within 40 km", seed, m.Method)
		}
		for _, m := range ms[3:] {
			assert.Greater(t, blind.CountriesExact, m.CountriesExact, "seed %d: better than %s", seed, m.Method)
		}
	}
}
