package atlasgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hopAddrs reads generated JSON Lines back and counts the hop addresses.
func hopAddrs(t *testing.T, r io.Reader) (total int, distinct map[string]int) {
	t.Helper()
	distinct = map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct {
			Result []struct {
				Result []struct {
					From string `json:"from"`
				} `json:"result"`
			} `json:"result"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec), "every record is JSON")
		for _, h := range rec.Result {
			for _, p := range h.Result {
				if p.From != "" {
					total++
					distinct[p.From]++
					break
				}
			}
		}
	}
	require.NoError(t, sc.Err())
	return total, distinct
}

func TestRouters(t *testing.T) {
	tests := []struct {
		name    string
		routers int
		// at most this share of hop addresses are distinct
		maxDistinct float64
		minDistinct float64
	}{
		{"fresh addresses", 0, 1, 0.98},
		{"pool of 500", 500, 0.2, 0},
		{"pool of 20000", 20000, 0.9, 0.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := New(2<<20, false)
			g.SetRouters(tt.routers)
			var buf bytes.Buffer
			_, err := io.Copy(&buf, g)
			require.NoError(t, err)
			total, distinct := hopAddrs(t, bytes.NewReader(buf.Bytes()))
			require.Greater(t, total, 1000)
			share := float64(len(distinct)) / float64(total)
			assert.LessOrEqual(t, share, tt.maxDistinct)
			assert.GreaterOrEqual(t, share, tt.minDistinct)
			if tt.routers > 0 {
				assert.LessOrEqual(t, len(distinct), 2*tt.routers, "an address per router and family at most")
			}
			// The same sequence on every run.
			g2 := New(2<<20, false)
			g2.SetRouters(tt.routers)
			again, err := io.ReadAll(g2)
			require.NoError(t, err)
			assert.Equal(t, buf.Bytes(), again)
		})
	}
}
