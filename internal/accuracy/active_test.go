package accuracy

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestActive runs the active-geolocation benchmark over several seeds and
// both probe coverages, prints the tables and asserts the goal where it is
// stated (probes at every city): IP-only addresses pinged from the 10
// nearest probes are within 40 km at least 85% of the time, far ahead of
// every database alone. In both coverages no placement breaks a ping's
// bound, and probes chosen near the estimate do better than no pings.
//
//	go test -run TestActive -v ./internal/accuracy
func TestActive(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	targets := 300
	if testing.Short() || raceEnabled {
		seeds, targets = seeds[:1], 80
	}
	for _, coverage := range []string{CoverageEveryCity, CoverageRegional} {
		for _, seed := range seeds {
			ms, err := RunActive(context.Background(), ActiveConfig{Seed: seed, Targets: targets, Coverage: coverage})
			require.NoError(t, err)
			require.NoError(t, WriteActiveTable(os.Stdout, fmt.Sprintf("active geolocation, probes %s, seed %d", coverage, seed), ms))
			nearest, estimate, lowestRTT, noPing := ms[0], ms[1], ms[2], ms[3]
			require.True(t, strings.HasPrefix(lowestRTT.Method, "lowest-RTT"))
			for _, m := range []Metrics{nearest, estimate, noPing} {
				assert.Zero(t, m.Breaking, "%s seed %d %s: placements breaking a ping's bound", coverage, seed, m.Method)
			}
			assert.Greater(t, estimate.Within, noPing.Within, "%s seed %d: pings near the estimate help", coverage, seed)
			if coverage != CoverageEveryCity {
				continue
			}
			assert.GreaterOrEqual(t, nearest.Within, 0.85, "seed %d: goal within 40 km", seed)
			for _, db := range ms[4:] {
				assert.Greater(t, nearest.Within, db.Within+0.2, "seed %d: far ahead of %s", seed, db.Method)
			}
		}
	}
}

// BenchmarkActive reports the active-geolocation figures (probes at every
// city, seed 1) as metrics.
//
//	go test -run '^$' -bench BenchmarkActive -benchtime 1x ./internal/accuracy
func BenchmarkActive(b *testing.B) {
	for b.Loop() {
		ms, err := RunActive(context.Background(), ActiveConfig{Seed: 1})
		require.NoError(b, err)
		b.ReportMetric(100*ms[0].Within, "%within40km-nearest")
		b.ReportMetric(100*ms[1].Within, "%within40km-estimate")
		b.ReportMetric(100*ms[2].Within, "%within40km-lowest-rtt")
		bestDB := 0.0
		for _, m := range ms[4:] {
			bestDB = max(bestDB, m.Within)
		}
		b.ReportMetric(100*bestDB, "%within40km-bestdb")
	}
}
