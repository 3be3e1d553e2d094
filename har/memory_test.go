package har

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHostileMemory is issue 16's memory test for the HAR reader: on a 1 GB
// hostile HAR made on the fly (a huge value before "log", responses of
// hundreds of MB, a header array of millions of objects, a 100 MB URL, a
// run of whitespace and a number of 100 MB, millions of distinct hosts,
// of addresses of one host and of invalid host names, and a nesting
// without end), Hosts stays under 100 MB of resident memory. It runs in a
// child process (this test binary again), so that the peak RSS the kernel
// reports is the reader's alone. Skipped under -race and -short; CI runs
// it without -race (.ci/run: go test -run '^TestHostile').
func TestHostileMemory(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("reads 1 GB: run without -race (CI does: go test -run '^TestHostile' ./...)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileMemoryChild$", "-test.v")
	cmd.Env = append(os.Environ(), "GEOLOC_HAR_HOSTILE_MEMORY=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "hostile HAR read:", "%s", out)
	var kb int64
	_, err = fmt.Sscanf(lastLine(string(out), "VmHWM:"), "VmHWM: %d kB", &kb)
	require.NoError(t, err, "the child's peak RSS in %s", out)
	t.Logf("peak RSS %.1f MB; %s", float64(kb<<10)/(1<<20), lastLine(string(out), "hostile HAR read:"))
	assert.Less(t, kb<<10, int64(100<<20), "peak RSS reading a 1 GB hostile HAR")
}

// TestHostileMemoryChild is TestHostileMemory's child.
func TestHostileMemoryChild(t *testing.T) {
	if os.Getenv("GEOLOC_HAR_HOSTILE_MEMORY") == "" {
		t.Skip("the child process of TestHostileMemory")
	}
	in := hostileHAR()
	s, err := Hosts(in, Options{Input: "hostile.har"})
	require.NotNil(t, s)
	assert.Error(t, err, "the nesting without end at the end is refused")
	assert.Equal(t, "good.example", s.Hosts[0].Name, "the good entries are read")
	assert.Len(t, s.Hosts, MaxHosts)
	assert.Positive(t, s.Unlisted)
	assert.Positive(t, s.DroppedAddrs)
	assert.Len(t, s.Invalid, MaxInvalidListed)
	assert.Greater(t, s.InvalidCount, MaxInvalidListed)
	fmt.Printf("hostile HAR read: %d MiB, %d entries, %d hosts, %d invalid (%d listed), %d entries of hosts past the cap, %d addresses past the cap, err %.200v\n",
		in.read>>20, s.Entries, len(s.Hosts), s.InvalidCount, len(s.Invalid), s.Unlisted, s.DroppedAddrs, err)
	status, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	fmt.Println(lastLine(string(status), "VmHWM:"))
}

func lastLine(out, prefix string) string {
	var l string
	for line := range strings.Lines(out) {
		if i := strings.Index(line, prefix); i >= 0 {
			l = strings.TrimSpace(line[i:])
		}
	}
	return l
}

// piece is a stretch of input made on the fly: head, unit n times (each
// formatted with its repetition number when it holds a %d), tail.
type piece struct {
	head, unit, tail string
	n                int
}

// hostileInput plays its pieces in turn; nothing of them is held whole.
type hostileInput struct {
	pieces    []piece
	part, rep int
	buf       []byte
	read      int64
}

func (h *hostileInput) Read(p []byte) (int, error) {
	for len(h.buf) == 0 {
		if len(h.pieces) == 0 {
			return 0, io.EOF
		}
		c := &h.pieces[0]
		switch {
		case h.part == 0:
			h.buf = append(h.buf, c.head...)
			h.part = 1
		case h.part == 1 && h.rep < c.n:
			if strings.Contains(c.unit, "%") {
				h.buf = fmt.Appendf(h.buf, c.unit, h.rep)
			} else {
				h.buf = append(h.buf, c.unit...)
			}
			h.rep++
		case h.part == 1:
			h.buf = append(h.buf, c.tail...)
			h.part = 2
		default:
			h.pieces, h.part, h.rep = h.pieces[1:], 0, 0
		}
	}
	n := copy(p, h.buf)
	h.buf = h.buf[n:]
	h.read += int64(n)
	return n, nil
}

const good = `{"startedDateTime":"2020-01-01T00:00:00.000Z","time":12.5,"request":{"method":"GET","url":"https://good.example/p","headers":[{"name":"a","value":"b"}]},"response":{"status":200,"content":{"size":1,"text":"x"}},"serverIPAddress":"192.0.2.1"},` + "\n"

func hostileHAR() *hostileInput {
	mb := func(n int, unit string) int { return n << 20 / len(unit) }
	y := strings.Repeat("y", 4096)
	return &hostileInput{pieces: []piece{
		// A value of 50 MB before "log".
		{head: `{"pad":"`, unit: y, n: mb(50, y), tail: `",` + "\n" + `"log":{"version":"1.2","entries":[` + "\n" + good},
		// A response of 200 MB.
		{head: `{"request":{"url":"https://big.example/"},"response":{"content":{"text":"`, unit: y, n: mb(200, y), tail: `"}},"serverIPAddress":"192.0.2.2"},` + "\n" + good},
		// 100 MB of headers.
		{head: `{"request":{"url":"https://headers.example/","headers":[`, unit: `{"name":"a","value":"b"},`, n: mb(100, `{"name":"a","value":"b"},`), tail: `{}]}},` + "\n" + good},
		// A string of 50 MB of escapes.
		{head: `{"request":{"url":"https://escapes.example/"},"comment":"`, unit: strings.Repeat(`\u00e9\"`, 512), n: mb(50, strings.Repeat(`\u00e9\"`, 512)), tail: `"},` + "\n" + good},
		// A URL of 100 MB.
		{head: `{"request":{"url":"https://`, unit: y, n: mb(100, y), tail: `.example/"}},` + "\n" + good},
		// 100 MB of whitespace between two entries.
		{unit: strings.Repeat(" \t\r\n", 1024), n: mb(100, strings.Repeat(" \t\r\n", 1024)), tail: good},
		// A number of 100 MB.
		{head: `{"request":{"url":"https://number.example/"},"time":1`, unit: strings.Repeat("7", 4096), n: mb(100, strings.Repeat("7", 4096)), tail: `},` + "\n" + good},
		// 100 MB of addresses of one host.
		{unit: `{"request":{"url":"https://many.example/"},"serverIPAddress":"2001:db8::%x"},` + "\n", n: mb(100, `{"request":{"url":"https://many.example/"},"serverIPAddress":"2001:db8::10000"},`+"\n"), tail: good},
		// 150 MB of distinct hosts.
		{unit: `{"request":{"url":"https://h%d.example/"},"serverIPAddress":"192.0.2.3"},` + "\n", n: mb(150, `{"request":{"url":"https://h1000000.example/"},"serverIPAddress":"192.0.2.3"},`+"\n"), tail: good},
		// 100 MB of invalid host names.
		{unit: `{"request":{"url":"https://bad!%d.example/"}},` + "\n", n: mb(100, `{"request":{"url":"https://bad!1000000.example/"}},`+"\n"), tail: good},
		// A nesting without end.
		{head: `{"request":{"url":"https://deep.example/"},"x":`, unit: strings.Repeat("[", 4096), n: mb(50, y)},
	}}
}
