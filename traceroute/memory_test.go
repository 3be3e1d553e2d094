package traceroute

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileSize is the size of the hostile input of each memory test, and
// maxRSS what a reader may take on it.
const (
	hostileSize = 1 << 30
	maxRSS      = 100 << 20
)

// TestHostileMemory is issue 16's memory test: every reader, on a 1 GB
// hostile input made on the fly (its own good records with over-long
// lines, binary junk, cut records, records at the size caps and traces
// without end between them), stays under 100 MB of resident memory. Each
// reader runs in a child process (this test binary again), so that the
// peak RSS the kernel reports is that reader's alone. (The peak is the
// child's VmHWM, not the rusage of wait4: Go starts children with vfork,
// and Linux counts the parent's resident memory into the child's maxrss.)
func TestHostileMemory(t *testing.T) {
	skipHeavy(t)
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHostileMemoryChild$", "-test.v")
			cmd.Env = append(os.Environ(), "GEOLOC_HOSTILE_MEMORY="+format)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			require.Contains(t, string(out), "hostile input read:", "%s", out)
			var kb int64
			_, err = fmt.Sscanf(lastLine(out, "VmHWM:"), "VmHWM: %d kB", &kb)
			require.NoError(t, err, "the child's peak RSS in %s", out)
			rss := kb << 10
			t.Logf("%s: peak RSS %.1f MB; %s", format, float64(rss)/(1<<20), lastLine(out, "hostile input read:"))
			assert.Less(t, rss, int64(maxRSS), "peak RSS reading 1 GB of hostile %s input", format)
		})
	}
}

func lastLine(out []byte, prefix string) string {
	var l string
	for line := range strings.Lines(string(out)) {
		if i := strings.Index(line, prefix); i >= 0 {
			l = strings.TrimSpace(line[i:])
		}
	}
	return l
}

// TestHostileMemoryChild is TestHostileMemory's child: it reads the hostile
// input of the format named in GEOLOC_HOSTILE_MEMORY and prints what came
// out.
func TestHostileMemoryChild(t *testing.T) {
	format := os.Getenv("GEOLOC_HOSTILE_MEMORY")
	if format == "" {
		t.Skip("the child process of TestHostileMemory")
	}
	in := newHostileInput(t, format, hostileSize)
	traces, errs, last := tally(t, in, format, "hostile", nil)
	require.Positive(t, traces, "good records among the hostile ones still read")
	fmt.Printf("hostile input read: %d MiB, %d traces, %d errors, last %v\n", in.read>>20, traces, errs, last)
	status, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	fmt.Println(lastLine(status, "VmHWM:"))
}

// piece is a stretch of input made on the fly: head, unit n times, tail.
// Nothing of it is held whole, so the generator takes no memory the reader
// would be blamed for.
type piece struct {
	head, unit, tail string
	n                int
}

func one(s string) piece { return piece{head: s} }

// hostileInput plays its pieces once, then its cycle again and again, then
// its final pieces, up to a size.
type hostileInput struct {
	once, cycle []piece
	final       []piece
	finalAt     int64 // where the final pieces start
	cur         piece
	part        int // 0 head, 1 units, 2 tail
	rep, off    int
	read, limit int64
}

func (h *hostileInput) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && h.read+int64(n) < h.limit {
		var src string
		switch h.part {
		case 0:
			src = h.cur.head
		case 1:
			if h.rep < h.cur.n {
				src = h.cur.unit
			}
		case 2:
			src = h.cur.tail
		}
		if h.off >= len(src) {
			switch {
			case h.part == 1 && h.rep+1 < h.cur.n:
				h.rep++
			case h.part < 2:
				h.part++
			default:
				h.next()
			}
			h.off = 0
			continue
		}
		c := copy(p[n:min(len(p), n+int(h.limit-h.read-int64(n)))], src[h.off:])
		h.off += c
		n += c
	}
	h.read += int64(n)
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (h *hostileInput) next() {
	h.part, h.rep = 0, 0
	if len(h.once) > 0 {
		h.cur, h.once = h.once[0], h.once[1:]
		return
	}
	if len(h.final) > 0 && h.read >= h.finalAt {
		h.cur, h.final = h.final[0], h.final[1:]
		return
	}
	h.cur, h.cycle = h.cycle[0], append(h.cycle[1:], h.cycle[0])
}

// newHostileInput builds the input for a format. Every hostile kind comes
// once, the costly ones (records at the caps, a trace without end) first;
// then cheap ones (over-long lines, binary junk, tokens just under the XML
// cap) fill the rest. A good sample of the format stands between any two,
// so that no run of bad records makes the reader give up before the end.
func newHostileInput(t *testing.T, format string, size int64) *hostileInput {
	good := one(string(goodSample(t, format)))
	junk := bytes.Map(func(r rune) rune {
		if r == '\n' || r == 0 {
			return 'x'
		}
		return r
	}, binaryJunk()[:4096])
	cheap := []piece{
		{unit: strings.Repeat("A", 4096), n: 2048, tail: "\n"}, // an 8 MiB line
		one(string(junk) + "\n"),
	}
	var costly, final []piece
	switch format {
	case FormatJunosXML, FormatIOSXRXML:
		// XML readers stop at a broken document: the hostile parts are
		// tokens just under the node cap, inside well-formed XML, and
		// at the end the 300 MB comment, which stops them.
		cheap = []piece{
			{head: "<!--", unit: strings.Repeat("comment ", 512), n: (maxXMLNode - 64) / 4096, tail: "-->\n"},
			{head: "<other>", unit: strings.Repeat("text", 1024), n: (maxXMLNode - 64) / 4096, tail: "</other>\n"},
		}
		final = []piece{{head: "<!--", unit: strings.Repeat("comment ", 512), n: 300 << 20 / 4096, tail: "-->\n"}}
	case FormatRIPEAtlas, FormatRIPEAtlasPing, FormatGlobalping, FormatScamperJSON, FormatMtrJSON, FormatNXOSJSON, FormatGeoloc:
		first, _, _ := strings.Cut(good.head, "\n")
		// At the end, a 60 MB record (the cap was 64 MiB): past the cap
		// and then 16 MiB without a line end, it makes the reader give up.
		final = []piece{{head: `{"type":"traceroute","result":[],"x":"`, unit: strings.Repeat("y", 4096), n: 60 << 20 / 4096, tail: "\"}\n"}}
		costly = []piece{
			// A record just under the size cap.
			{head: `{"type":"traceroute","result":[],"x":"`, unit: strings.Repeat("y", 4096), n: maxJSONValue/4096 - 1, tail: "\"}\n"},
			// Records at and past the object cap, of the kinds each
			// decoder holds most of.
			{head: `{"type":"traceroute","result":[{"hop":1,"result":[`, unit: `{"x":"*"},`, n: MaxProbes + 1, tail: "{}]}]}\n"},
			{head: `{"type":"trace","hops":[`, unit: `{"probe_ttl":1,"rtt":1},`, n: maxJSONObjects - 2, tail: "{}]}\n"},
			{head: `{"format":"geoloc","hops":[{"ttl":1,"probes":[`, unit: `{"lost":true},`, n: MaxProbes + 1, tail: "{}]}]}\n"},
			// A record cut off.
			one(first[:len(first)/2] + "\n"),
		}
	default:
		// A text trace that never ends: a hop line of the sample again
		// and again (the last one that reads well repeated, one starting
		// with its hop number if there is one).
		lines := slices.Collect(strings.Lines(good.head))
		var hop string
		for _, numbered := range []bool{true, false} {
			for i := len(lines) - 1; i > 0 && hop == ""; i-- {
				f := strings.Fields(lines[i])
				if len(f) == 0 || numbered && !isHopNumber(f[0]) {
					continue
				}
				if _, errs := readAllOf(t, []byte(good.head+strings.Repeat(lines[i], 3)), format); len(errs) == 0 {
					hop = lines[i]
				}
			}
		}
		require.NotEmpty(t, hop, "a hop line in the %s sample", format)
		costly = []piece{{unit: hop, n: 32 * MaxProbes}}
	}
	// GEOLOC_HOSTILE_ONLY=N plays only the Nth hostile piece, again and
	// again, to find which one costs the memory when the test fails.
	if o := os.Getenv("GEOLOC_HOSTILE_ONLY"); o != "" {
		var i int
		_, _ = fmt.Sscan(o, &i)
		all := append(costly, cheap...)
		costly, cheap = nil, all[i:i+1]
	}
	h := &hostileInput{limit: size}
	for _, c := range costly {
		h.once = append(h.once, good, c)
	}
	for _, c := range cheap {
		h.cycle = append(h.cycle, good, c)
	}
	h.finalAt = size
	for _, c := range final {
		h.final = append(h.final, c)
		h.finalAt -= int64(len(c.head) + c.n*len(c.unit) + len(c.tail))
	}
	h.next()
	return h
}

// goodSample is a fixture of the format that reads without error, ending
// with a newline.
func goodSample(t *testing.T, format string) []byte {
	t.Helper()
	if format == "junos" {
		format = "bsd-traceroute" // junos is bsd-traceroute forced
	}
	if jsonFormat(format) {
		return []byte(strings.Join(oneLineRecords(t, format, 20), "\n") + "\n")
	}
	var found []byte
	_ = filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != nil || strings.Contains(path, "fuzz") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil || len(b) > 64<<10 {
			return nil
		}
		n := 0
		for tr, err := range Read(bytes.NewReader(b), ReadOptions{}) {
			if err != nil || tr.Format != format {
				return nil
			}
			n++
		}
		if n > 0 {
			found = b
		}
		return nil
	})
	require.NotNil(t, found, "a fixture of %s", format)
	if !bytes.HasSuffix(found, []byte("\n")) {
		found = append(found, '\n')
	}
	return found
}

// isHopNumber reports whether a first field is a hop number ("7", "7:",
// "7.|--").
func isHopNumber(f string) bool {
	n := strings.TrimRight(f, ".:|-")
	return len(n) > 0 && len(n) <= 3 && strings.Trim(n, "0123456789") == ""
}
