package traceroute

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Fuzz targets: FuzzRead goes through format detection; FuzzText* force one
// text parser each. All are seeded with the real samples of testdata/text.
// Run one with: go test -run='^$' -fuzz='^FuzzTextMTR$' -fuzztime=20s ./traceroute

func txtFuzzSeeds(f *testing.F) {
	for _, tc := range textCases() {
		b, err := os.ReadFile(filepath.Join(txtTextData, tc.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	gaps, _ := filepath.Glob(filepath.Join("testdata", "gaps", "*.txt"))
	for _, g := range gaps {
		if b, err := os.ReadFile(g); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"x 0 1\nh 0 192.0.2.1\np 0 500 1\nx 1 2\n",
		" 1  [AS64500] gw (192.0.2.1)  0.4 ms\n     MPLS Label=1 CoS=0 TTL=1 S=1\n",
		" 2  198.51.100.1 (198.51.100.1) [AS1/AS2] <MPLS:L=24001,E=0,S=1,T=1>  1.9 ms !F-1400 *\n",
		"  1 192.0.2.1 [AS 64500] [MPLS: Labels 24001/16 Exp 0] 4 msec !A *\n",
		"  3  2001:db8:2::1  reports: Destination net unreachable.\n",
		"|   WinMTR statistics   |\n| 192.0.2.1 - 0 | 1 | 1 | 1 | 1 | 1 | 1 |\n",
		"    |  `|-- 198.51.100.5\n       [MPLS: Lbl 24001 TC 0 S 1 TTL 1]\n",
		"\xff\xfeT\x00r\x00a\x00c\x00i\x00n\x00g\x00 \x00r\x00o\x00u\x00t\x00e\x00 \x00t\x00o\x00 \x00x\x00\n\x00",
	} {
		f.Add([]byte(s))
	}
}

// txtCheck verifies what every parse must hold, whatever the input.
func txtCheck(t *testing.T, data []byte, opts ReadOptions) {
	n := 0
	for tr, err := range Read(strings.NewReader(string(data)), opts) {
		n++
		if n > len(data)+10 {
			t.Fatalf("more results (%d) than input bytes", n)
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *ParseError: %v", err)
			}
			if pe.Line < 0 || pe.Input == "" {
				t.Fatalf("bad error position: %v", err)
			}
			continue
		}
		if tr == nil || tr.Format == "" {
			t.Fatalf("trace without format: %+v", tr)
		}
		txtRoundTrip(t, tr)
		last := 0
		for _, h := range tr.Hops {
			if h.TTL <= last || h.TTL > maxTTL {
				t.Fatalf("hop TTLs not increasing: %d after %d", h.TTL, last)
			}
			last = h.TTL
			for _, p := range h.Probes {
				if math.IsNaN(p.RTTMs) || math.IsInf(p.RTTMs, 0) || p.RTTMs < 0 || p.RTTMs > MaxRTTMs {
					t.Fatalf("bad RTT %v", p.RTTMs)
				}
				if p.Lost && p.RTTMs != 0 {
					t.Fatalf("lost probe with RTT %v", p.RTTMs)
				}
			}
			for _, s := range h.Stats {
				if s.LossPct < 0 || s.LossPct > 100 || s.Sent < 0 {
					t.Fatalf("bad stats %+v", s)
				}
			}
		}
	}
}

func FuzzRead(f *testing.F) {
	txtFuzzSeeds(f)
	// The structured samples too, so detection sees every kind of input.
	_ = filepath.WalkDir("testdata/json", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Size() < 64<<10 {
			if b, err := os.ReadFile(path); err == nil {
				f.Add(b)
			}
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		txtCheck(t, data, ReadOptions{Input: "fuzz"})
	})
}

func txtFuzzFormat(f *testing.F, format string) {
	txtFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		txtCheck(t, data, ReadOptions{Input: "fuzz", Format: format})
	})
}

func FuzzTextLinux(f *testing.F)     { txtFuzzFormat(f, "linux-traceroute") }
func FuzzTextBSD(f *testing.F)       { txtFuzzFormat(f, "bsd-traceroute") }
func FuzzTextCisco(f *testing.F)     { txtFuzzFormat(f, "cisco") }
func FuzzTextTracepath(f *testing.F) { txtFuzzFormat(f, "tracepath") }
func FuzzTextTracert(f *testing.F)   { txtFuzzFormat(f, "windows-tracert") }
func FuzzTextMTR(f *testing.F)       { txtFuzzFormat(f, "mtr-report") }
func FuzzTextMTRScreen(f *testing.F) { txtFuzzFormat(f, "mtr-screen") }
func FuzzTextMTRCSV(f *testing.F)    { txtFuzzFormat(f, "mtr-csv") }
func FuzzTextMTRRaw(f *testing.F)    { txtFuzzFormat(f, "mtr-raw") }
func FuzzTextWinMTR(f *testing.F)    { txtFuzzFormat(f, "winmtr") }
func FuzzTextPathping(f *testing.F)  { txtFuzzFormat(f, "pathping") }
func FuzzTextMtrSplit(f *testing.F)  { txtFuzzFormat(f, "mtr-split") }
func FuzzTextTCPTraceroute(f *testing.F) {
	txtFuzzFormat(f, "tcptraceroute")
}

// txtRoundTrip checks that a parsed trace survives the interchange format.
func txtRoundTrip(t *testing.T, tr *Trace) {
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	if err := enc.Encode(tr); err != nil {
		t.Fatalf("encode: %v", err)
	}
	if err := enc.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	back, err := UnmarshalTrace(bytes.TrimSpace(buf.Bytes()))
	if err != nil {
		t.Fatalf("decode %s: %v", buf.Bytes(), err)
	}
	want := *tr
	want.Started, back.Started = want.Started.UTC(), back.Started.UTC()
	if len(want.Hops) == 0 && len(back.Hops) == 0 {
		want.Hops, back.Hops = nil, nil // "hops":[] either way
	}
	if !reflect.DeepEqual(&want, back) {
		t.Fatalf("interchange round trip changed the trace:\n%+v\n%+v", &want, back)
	}
}
