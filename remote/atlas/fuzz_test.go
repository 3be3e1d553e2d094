package atlas

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// FuzzReadProbes: any input gives probes with positions in range, or
// errors naming a line; never a panic or a hang.
func FuzzReadProbes(f *testing.F) {
	for _, name := range []string{"atlas-probes-page.json", "atlas-probe-archive.json"} {
		b, err := os.ReadFile("../../internal/remotetest/testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("{\"id\":1,\"latitude\":1,\"longitude\":2}\n{\"id\":2}\n"))
	f.Add([]byte(`[{"id":1,"geometry":{"type":"Point","coordinates":[3,4]}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		for p, err := range ReadProbes(bytes.NewReader(data)) {
			if err != nil {
				var pe *ProbeListError
				if !errors.As(err, &pe) || pe.Line < 1 {
					t.Fatalf("error without a line: %v", err)
				}
				continue
			}
			if p.Located && (p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180) {
				t.Fatalf("position out of range: %+v", p)
			}
			if n++; n > len(data) {
				t.Fatal("more probes than bytes")
			}
		}
	})
}
