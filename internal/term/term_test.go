package term

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	goldenfile "github.com/geoloc-dev/geoloc/internal/golden"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/traceroute"
)

func goldenFile(t *testing.T, name string, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), []byte(got))
}

func sampleResult() *geoloc.TraceResult {
	lat, lon := 35.68, 139.69
	return &geoloc.TraceResult{
		Format:      "linux-traceroute",
		Source:      traceroute.Endpoint{Name: "probe.example", Lat: &lat, Lon: &lon},
		Destination: traceroute.Endpoint{Name: "baeldung.com", Addr: netip.MustParseAddr("2606:4700:3030::6812:3e4e")},
		Protocol:    "udp",
		Hops: []geoloc.HopResult{
			{TTL: 1, Addr: netip.MustParseAddr("2001:db8::1"), RTTMs: 0.083, Why: "documentation address, not looked up"},
			{TTL: 4, Addr: netip.MustParseAddr("2001:218:2000:5000::305"), Name: "xe-0-0-14-1.a02.tokyjp05.jp.bb.gin.ntt.net", RTTMs: 0.908, ASN: 2914, ASOrg: "NTT America, Inc.",
				Location: &geoloc.Location{Lat: 35.68, Lon: 139.69, RadiusKm: 25, City: "Tokyo", Country: "JP"}, Confidence: 0.91, Method: "rdns:clli-like"},
			{TTL: 6, Addr: netip.MustParseAddr("2001:218:0:2000::11a"), Name: "ae-4.r30.tokyjp05.jp.bb.gin.ntt.net", RTTMs: 1.337, ASN: 2914,
				Location: &geoloc.Location{Lat: 35.68, Lon: 139.69, RadiusKm: 25, City: "Tokyo", Country: "JP"}, Confidence: 0.6, Method: "rdns:clli-like"},
			{TTL: 9, Addr: netip.MustParseAddr("2400:cb00:22:1024::a29e:759c"), RTTMs: 1.985,
				Location: &geoloc.Location{Lat: 35.6, Lon: 139.7, RadiusKm: 200}, Confidence: 0.3, Method: "neighbour", Inferred: true},
			{TTL: 9, Addr: netip.MustParseAddr("2400:cb00:22:1024::a29e:759f"), Name: "evil\x1b[2Jname", RTTMs: 2.272, Anycast: true},
		},
		Vantage:            &geoloc.Vantage{Lat: 35.68, Lon: 139.69, RadiusKm: 130, Name: "inferred vantage near Tokyo, JP", Inferred: true},
		Warnings:           []string{"an example warning"},
		Countries:          []string{"JP"},
		CountriesUncertain: []geoloc.UncertainHop{{TTL: 9, Addr: netip.MustParseAddr("2400:cb00:22:1024::a29e:759c"), Countries: []string{"JP", "KR"}}},
	}
}

func TestWriteTrace(t *testing.T) {
	for _, color := range []bool{false, true} {
		var b bytes.Buffer
		require.NoError(t, WriteTrace(&b, sampleResult(), TraceTableOptions{Color: color}))
		name := "trace.txt"
		if color {
			name = "trace-color.txt"
		}
		goldenFile(t, name, b.String())
		if !color {
			assert.NotContains(t, b.String(), "\x1b", "no escape codes without colour")
		}
		assert.NotContains(t, b.String(), "\x1b[2J", "a hostile name's escape sequence never reaches the terminal")
	}
}

func TestTable(t *testing.T) {
	tab := &Table{
		Header:   []string{"A", "NUM", "LONG"},
		Align:    []Align{Left, Right},
		Rows:     [][]string{{"x", "1", "abcdefghij"}, {"yyyy", "100"}, {"zé", "7", "short"}},
		MaxWidth: []int{0, 0, 6},
	}
	var b bytes.Buffer
	require.NoError(t, tab.Write(&b, false))
	assert.Equal(t, "A     NUM  LONG\nx       1  abcde…\nyyyy  100\nzé      7  short\n", b.String())
}

func TestTruncate(t *testing.T) {
	assert.Equal(t, "abc", Truncate("abc", 3))
	assert.Equal(t, "ab…", Truncate("abcd", 3))
	assert.Equal(t, "…", Truncate("abcd", 1))
	assert.Equal(t, "abcd", Truncate("abcd", 0))
	assert.Equal(t, "éé…", Truncate("éééé", 3))
}

func TestColorEnabled(t *testing.T) {
	var b bytes.Buffer
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	assert.False(t, ColorEnabled(&b, nil), "a buffer is no terminal")
	assert.False(t, ColorEnabled(&b, env(map[string]string{"NO_COLOR": "1"})))
	assert.False(t, IsTerminal(&b))
	f, err := os.CreateTemp(t.TempDir(), "x")
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, IsTerminal(f), "a regular file is no terminal")
	assert.Equal(t, 80, Width(f, 80))
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	now := time.Unix(1000, 0)
	p := NewProgress(&b, "traces", 100)
	p.Now = func() time.Time { return now }
	p.Add(1, false) // starts the clock, draws
	now = now.Add(10 * time.Second)
	p.Add(49, false)
	assert.Equal(t, "50/100 traces  5.0/s  0:10 left", p.Line())
	p.Add(1, true)
	now = now.Add(time.Second)
	assert.Equal(t, "51/100 traces (1 failed)  4.6/s  0:11 left", p.Line())
	p.Done()
	out := b.String()
	assert.True(t, strings.HasSuffix(out, "\r\x1b[K"), "Done clears the line")
	assert.Contains(t, out, "\r50/100 traces  5.0/s  0:10 left\x1b[K")

	var nilP *Progress
	nilP.Add(1, false) // a nil progress is silent and safe
	nilP.Done()
	assert.Empty(t, nilP.Line())

	u := NewProgress(&b, "hosts", 0)
	u.Now = func() time.Time { return now }
	u.Add(3, false)
	now = now.Add(2 * time.Second)
	assert.Equal(t, "3 hosts  1.5/s", u.Line())
}

func TestFmtDuration(t *testing.T) {
	assert.Equal(t, "0:05", fmtDuration(5*time.Second))
	assert.Equal(t, "2:03", fmtDuration(123*time.Second))
	assert.Equal(t, "1:00:01", fmtDuration(time.Hour+time.Second))
}

func TestProgressBytes(t *testing.T) {
	var b bytes.Buffer
	now := time.Unix(1000, 0)
	p := NewProgress(&b, "MB read", 100<<20)
	p.Bytes = true
	n := 0
	p.Extra = func() string { return fmt.Sprintf("%d traces", n) }
	p.Now = func() time.Time { return now }
	p.Add(1, false)
	now = now.Add(4 * time.Second)
	n = 42
	p.Add(20<<20-1, false)
	assert.Equal(t, "20.0/100.0 MB read, 42 traces  5.0 MB/s  0:16 left", p.Line())
}
