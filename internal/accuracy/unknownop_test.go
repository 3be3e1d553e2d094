package accuracy

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/rdns"
)

func TestAbbreviate(t *testing.T) {
	for _, c := range []struct {
		name  string
		style unknownStyle
		n     int
		want  string
	}{
		{"Indianapolis", abbrevStart, 4, "indi"},
		{"Frankfurt", abbrevConsonant, 4, "frnk"},
		{"Tokyo", abbrevConsonant, 3, "tky"},
		{"Omaha", abbrevEnding, 4, "omha"},
		{"Sofia", abbrevEnding, 4, "sfa"},
		{"Tallinn", abbrevConsonant, 3, "tln"},
	} {
		assert.Equal(t, c.want, abbreviate([]string{lower(c.name)}, c.style, c.n), c.name)
	}
	assert.Equal(t, "Sao Paulo", asciiName("São Paulo"))
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// TestUnknownOperatorWorld: every renamed router carries a code the
// dictionaries do not read as its city, under a domain no convention
// knows.
func TestUnknownOperatorWorld(t *testing.T) {
	w, err := UnknownOperatorWorld(Config{Seed: 1, Traces: 50})
	require.NoError(t, err)
	r := rdns.NewReader()
	n := 0
	for ri, rt := range w.Routers {
		if !w.renamedOp(ri) {
			continue
		}
		n++
		cl := r.Codes(rt.Name)
		require.NotEmpty(t, cl, rt.Name)
		assert.Equal(t, rdnsCodeOf(rt.Name), cl[0].Code, rt.Name)
	}
	require.Greater(t, n, 100)
	named := 0
	for _, tr := range w.Traces {
		for _, h := range tr.Hops {
			for _, p := range h.Probes {
				if ri, ok := w.ByAddr[p.Addr]; ok && w.renamedOp(ri) {
					assert.Equal(t, w.Routers[ri].Name, p.Name)
					named++
				}
			}
		}
	}
	assert.Greater(t, named, 100)
}

// TestUnknownOperators prints the unknown-operator benchmark (issue 11):
// countries exact per trace and hops of the renamed operators within
// 40 km, for the engine, the engine with --fuse, and the engine with
// --fuse and the conventions learned from the batch.
//
//	go test -run TestUnknownOperators -v ./internal/accuracy
func TestUnknownOperators(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	traces := 200
	if testing.Short() || raceEnabled {
		// One seed; the batch stays 200 traces, since learning needs a
		// batch (100 traces: countries exact 66% on seed 1).
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		ms, learned, err := RunUnknownOperators(context.Background(), Config{Seed: seed, Traces: traces})
		require.NoError(t, err)
		require.NoError(t, WriteUnknownTable(os.Stdout, fmt.Sprintf("unknown operators, seed %d, %d traces", seed, traces), ms))
		require.Len(t, ms, 5)
		for _, m := range ms[:3] {
			assert.Zero(t, m.Breaking, "seed %d %s", seed, m.Method)
		}
		learnedRow := ms[2]
		require.NotNil(t, learned)
		assert.NotEmpty(t, learned.Entries)
		assert.Greater(t, learnedRow.Within, ms[1].Within, "seed %d: learning helps", seed)
		assert.Greater(t, learnedRow.CountriesExact, ms[1].CountriesExact, "seed %d: learning helps", seed)
		// Floors a little under what seeds 1-3 gave when this was written
		// (within 40 km 97.8-99.2%, countries exact 81.5-92%, learned
		// entries right 89-94%); issue 11's goal for the engine with --fuse
		// learning is countries exact ≥ 80% and within 40 km ≥ 80%.
		assert.GreaterOrEqual(t, learnedRow.Within, 0.95, "seed %d: within 40 km", seed)
		assert.GreaterOrEqual(t, learnedRow.CountriesExact, 0.78, "seed %d: countries exact", seed)
		assert.GreaterOrEqual(t, learnedRow.LearnedOK, 0.85, "seed %d: learned entries right", seed)
	}
}
