package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geoloc-dev/geoloc/traceroute"
)

// FuzzRun drives the offline commands with arbitrary standard input: every
// run ends with exit status 0, 1 or 2, never a panic or a hang, and every
// line on stderr is one line (a bad input never spills a multi-line dump).
// Nothing here touches the network or writes files.
func FuzzRun(f *testing.F) {
	for _, p := range []string{"sample/ntt-tokyo-ipv6-traceroute.txt", "har/www.etat.lu-chrome-har-2018.har"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "testdata", p)); err == nil {
			for cmd := range uint8(5) {
				f.Add(cmd, uint8(0), b[:min(len(b), 3000)])
			}
		}
	}
	f.Add(uint8(2), uint8(1), []byte(`{"hops":[{"ttl":1,"addr":"192.0.2.1","location":{"lat":91,"lon":500,"radius_km":-1},"confidence":2}]}`))
	f.Add(uint8(1), uint8(2), []byte("be3.agr21.fra03.atlas.cogentco.com\n\x1b[2J\n192.0.2.1 x\n"))
	f.Fuzz(func(t *testing.T, cmd, flags uint8, stdin []byte) {
		cmds := [][]string{
			{"parse", "-"},
			{"hints", "-"},
			{"report", "-"},
			{"har", "--list", "-"},
			{"regeo", "-", "--no-db"},
		}
		args := append([]string{}, cmds[int(cmd)%len(cmds)]...)
		if flags&1 != 0 {
			args = append(args, "--format", "table")
		}
		if flags&2 != 0 {
			args = append(args, "-q")
		}
		if flags&4 != 0 && args[0] != "hints" && args[0] != "report" && args[0] != "har" {
			fs := traceroute.Formats()
			args = append(args, "--input-format", fs[int(flags>>3)%len(fs)])
		}
		var out, errb bytes.Buffer
		code := Run(context.Background(), args, bytes.NewReader(stdin), &out, &errb, nil)
		if code < 0 || code > 2 {
			t.Fatalf("%v: exit %d", args, code)
		}
		if code == ExitOK && args[0] == "parse" && strings.Contains(errb.String(), ": ") && !strings.Contains(errb.String(), " 0 failed") {
			t.Fatalf("%v: exit 0 with errors on stderr:\n%s", args, errb.String())
		}
		for _, line := range strings.Split(errb.String(), "\n") {
			if len(line) > 4096 {
				t.Fatalf("%v: stderr line of %d bytes", args, len(line))
			}
		}
	})
}
