package output

import (
	"bytes"
	"io"
	"testing"

	"github.com/geoloc-dev/geoloc/internal/outputtest"
)

// BenchmarkWriters writes 100 traces in every format; SetBytes reports the
// output size, so MB/s is output throughput.
func BenchmarkWriters(b *testing.B) {
	rs := outputtest.Many(100)
	for _, f := range Formats() {
		b.Run(f, func(b *testing.B) {
			w, err := ForName(f)
			if err != nil {
				b.Fatal(err)
			}
			var buf bytes.Buffer
			if err := w.Write(&buf, rs, Options{}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(buf.Len()))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := w.Write(io.Discard, rs, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(len(rs)), "µs/trace")
			b.ReportMetric(float64(buf.Len())/1024, "KiB/100traces")
		})
	}
}
