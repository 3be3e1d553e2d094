package traceroute

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Outputs the parsers used to refuse or misread (issue 13 item 5); the
// fixtures and their origins are in testdata/gaps/SOURCES.md.
func TestTextGaps(t *testing.T) {
	tests := []struct {
		file, format, summary string
		check                 func(t *testing.T, tr *Trace)
	}{
		{"pathping.txt", "pathping", "1:192.0.2.1=100 2:198.51.100.9=100 3:198.51.100.17=100 4:203.0.113.80=100",
			func(t *testing.T, tr *Trace) {
				assert.Equal(t, "192.0.2.10", tr.Source.Addr.String())
				assert.Equal(t, "DESKTOP-7QK2M1.corp.example", tr.Source.Name)
				assert.Equal(t, "203.0.113.80", tr.Destination.Addr.String())
				assert.Equal(t, TracertSubMsRTTMs, tr.Hops[0].Stats[0].AvgMs, `"0ms" is under a millisecond`)
				assert.Equal(t, 100.0, tr.Hops[1].Stats[0].LossPct)
				assert.Zero(t, tr.Hops[1].Stats[0].AvgMs, `"---": no reply`)
				assert.Equal(t, "198.51.100.17", tr.Hops[2].Stats[0].Addr.String(), "address on the line after a long name")
				assert.Equal(t, 2.0, tr.Hops[2].Stats[0].LossPct)
				assert.Equal(t, 12.0, tr.Hops[2].Stats[0].AvgMs)
			}},
		{"pathping-interrupted.txt", "pathping", "1:192.0.2.218=0 2:198.51.100.1=0 3:203.0.113.196=0", func(t *testing.T, tr *Trace) {
			assert.Equal(t, "192.0.2.35", tr.Source.Addr.String())
		}},
		{"tcptraceroute.txt", "tcptraceroute", "1:192.0.2.1x3 2:198.51.100.9x3 3:*x3 4:203.0.113.80x3", func(t *testing.T, tr *Trace) {
			assert.Equal(t, "tcp", tr.Protocol)
			assert.Equal(t, "192.0.2.10", tr.Source.Addr.String())
			assert.Equal(t, "203.0.113.80", tr.Destination.Addr.String())
		}},
		{"mtr-split.txt", "mtr-split", "1:gw.corp.example=3 2:198.51.100.9=2 3:ae-5.r21.frnkge13.de.bb.example.net=3 4:www.example.org=2", func(t *testing.T, tr *Trace) {
			require.Len(t, tr.Hops, 4, "-5 removed hop 5")
			assert.Equal(t, 33.333, tr.Hops[2].Stats[0].LossPct, "loss in thousandths of a percent, the last line of the hop")
			assert.Equal(t, TracertSubMsRTTMs, tr.Hops[0].Stats[0].AvgMs)
			assert.Equal(t, "198.51.100.9", tr.Hops[1].Stats[0].Addr.String(), "??? then an answer")
		}},
		{"mtr-split-b.txt", "mtr-split", "1:192.0.2.1=3 2:?=0 3:198.51.100.17=3 4:203.0.113.80=3", func(t *testing.T, tr *Trace) {
			assert.Equal(t, "gw.corp.example", tr.Hops[0].Stats[0].Name)
			assert.Equal(t, 100.0, tr.Hops[1].Stats[0].LossPct)
		}},
		{"cisco-hop0.txt", "cisco", "1:192.0.2.1x3 2:198.51.100.9x3 3:203.0.113.80x1,*x1,203.0.113.80x1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", "gaps", tt.file))
			require.NoError(t, err)
			defer f.Close()
			var trs []*Trace
			for tr, err := range Read(f, ReadOptions{Input: tt.file}) {
				require.NoError(t, err)
				trs = append(trs, tr)
			}
			require.Len(t, trs, 1)
			assert.Equal(t, tt.format, trs[0].Format)
			assert.Equal(t, tt.summary, txtSummarize(trs[0]))
			if tt.check != nil {
				tt.check(t, trs[0])
			}
		})
	}
}
