package traceroute

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These hand-written samples cover what the real corpus does not show
// (MPLS in each dialect, ASN columns, annotations, appended traces, bad
// lines). They follow the tools' printf formats; documentation addresses.

// txtReadAll reads s and returns the traces and errors.
func txtReadAll(t *testing.T, s string, opts ReadOptions) ([]*Trace, []error) {
	t.Helper()
	var traces []*Trace
	var errs []error
	for tr, err := range Read(strings.NewReader(s), opts) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		traces = append(traces, tr)
	}
	return traces, errs
}

func txtOne(t *testing.T, s, format string) *Trace {
	t.Helper()
	traces, errs := txtReadAll(t, s, ReadOptions{Input: "x"})
	require.Empty(t, errs)
	require.Len(t, traces, 1)
	require.Equal(t, format, traces[0].Format)
	return traces[0]
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestTextLinuxExtensions(t *testing.T) {
	tr := txtOne(t, `traceroute to example.org (203.0.113.9), 30 hops max, 60 byte packets
 1  gw.example (192.0.2.1) [AS64500]  0.447 ms  0.401 ms  0.390 ms
 2  198.51.100.1 (198.51.100.1) [AS64501/AS64502] <MPLS:L=24001,E=0,S=0,T=1/L=16,E=5,S=1,T=255>  1.9 ms 198.51.100.5 (198.51.100.5) [*]  2.1 ms *
 3  203.0.113.9 (203.0.113.9) [AS64503]  3.0 ms !H  3.1 ms !F-1400  3.2 ms !<10>
 4  203.0.113.9 (203.0.113.9)  3.3 ms F=1400  3.4 ms
`, "linux-traceroute")
	assert.Equal(t, Endpoint{Name: "example.org", Addr: addr("203.0.113.9")}, tr.Destination)
	require.Len(t, tr.Hops, 4)
	assert.Equal(t, []Probe{{Addr: addr("203.0.113.9"), RTTMs: 3.3, MTU: 1400}, {Addr: addr("203.0.113.9"), RTTMs: 3.4}}, tr.Hops[3].Probes)
	assert.Equal(t, []Probe{
		{Addr: addr("192.0.2.1"), Name: "gw.example", RTTMs: 0.447, ASN: 64500},
		{Addr: addr("192.0.2.1"), Name: "gw.example", RTTMs: 0.401, ASN: 64500},
		{Addr: addr("192.0.2.1"), Name: "gw.example", RTTMs: 0.390, ASN: 64500},
	}, tr.Hops[0].Probes)
	assert.Equal(t, []Probe{
		{Addr: addr("198.51.100.1"), RTTMs: 1.9, ASN: 64501, MPLS: []MPLSLabel{{Label: 24001, TTL: 1}, {Label: 16, TC: 5, S: true, TTL: 255}}},
		{Addr: addr("198.51.100.5"), RTTMs: 2.1},
		{Lost: true},
	}, tr.Hops[1].Probes)
	p := tr.Hops[2].Probes
	require.Len(t, p, 3)
	assert.Equal(t, []string{"!H"}, p[0].Flags)
	assert.Equal(t, []string{"!F"}, p[1].Flags)
	assert.Equal(t, 1400, p[1].MTU)
	assert.Equal(t, []string{"!<10>"}, p[2].Flags)
	assert.Equal(t, uint32(64503), p[2].ASN)
}

func TestTextBSDJunosMPLSAndASN(t *testing.T) {
	tr := txtOne(t, `traceroute to 203.0.113.9 (203.0.113.9), 64 hops max, 52 byte packets
 1  [AS64500] gw.example (192.0.2.1)  0.447 ms  0.401 ms
    [AS64501] other.example (192.0.2.5)  0.500 ms
 2  198.51.100.1 (198.51.100.1)  1.9 ms  2.0 ms
     MPLS Label=299776 CoS=0 TTL=1 S=0
     MPLS Label=16 CoS=0 TTL=1 S=1
    198.51.100.5 (198.51.100.5)  2.1 ms
 3  * * *
`, "bsd-traceroute")
	require.Len(t, tr.Hops, 3)
	h1 := tr.Hops[0].Probes
	require.Len(t, h1, 3)
	assert.Equal(t, uint32(64500), h1[0].ASN)
	assert.Equal(t, Probe{Addr: addr("192.0.2.5"), Name: "other.example", RTTMs: 0.5, ASN: 64501}, h1[2])
	h2 := tr.Hops[1].Probes
	require.Len(t, h2, 3)
	stack := []MPLSLabel{{Label: 299776, TTL: 1}, {Label: 16, S: true, TTL: 1}}
	assert.Equal(t, stack, h2[0].MPLS)
	assert.Equal(t, stack, h2[1].MPLS)
	assert.Empty(t, h2[2].MPLS)
	assert.Equal(t, []Probe{{Lost: true}, {Lost: true}, {Lost: true}}, tr.Hops[2].Probes)
}

func TestTextCisco(t *testing.T) {
	t.Run("ios", func(t *testing.T) {
		tr := txtOne(t, `Type escape sequence to abort.
Tracing the route to www.example.org (203.0.113.9)
VRF info: (vrf in name/id, vrf out name/id)
  1 192.0.2.1 [AS 64500] [MPLS: Labels 24001/16 Exp 0] 4 msec 0 msec 4 msec
  2 198.51.100.1 !A  *  !A
  3 www.example.org (203.0.113.9) 8 msec *  8 msec
`, "cisco")
		assert.Equal(t, Endpoint{Name: "www.example.org", Addr: addr("203.0.113.9")}, tr.Destination)
		require.Len(t, tr.Hops, 3)
		stack := []MPLSLabel{{Label: 24001}, {Label: 16, S: true}}
		assert.Equal(t, Probe{Addr: addr("192.0.2.1"), RTTMs: 4, ASN: 64500, MPLS: stack}, tr.Hops[0].Probes[0])
		assert.Equal(t, Probe{Addr: addr("192.0.2.1"), RTTMs: 0, ASN: 64500, MPLS: stack}, tr.Hops[0].Probes[1])
		// "!A" replaces the time: the reply is kept with its address and
		// flag, but without an RTT (Lost) so nothing uses a made-up time.
		assert.Equal(t, []Probe{
			{Addr: addr("198.51.100.1"), Lost: true, Flags: []string{"!A"}},
			{Lost: true},
			{Addr: addr("198.51.100.1"), Lost: true, Flags: []string{"!A"}},
		}, tr.Hops[1].Probes)
		assert.Equal(t, []netip.Addr{addr("203.0.113.9")}, tr.Hops[2].Addrs())
	})
	t.Run("ios-xr", func(t *testing.T) {
		tr := txtOne(t, `Mon Feb  8 10:10:49.532 UTC

Type escape sequence to abort.
Tracing the route to 203.0.113.9

 1  192.0.2.1 [MPLS: Label 24001 Exp 3] 3 msec  2 msec  2 msec
 2  198.51.100.1 3 msec
    198.51.100.5 4 msec  4 msec
     [MPLS: Label 17 Exp 0]
 3  203.0.113.9 9 msec  *  9 msec
`, "cisco")
		require.Len(t, tr.Hops, 3)
		assert.Equal(t, []MPLSLabel{{Label: 24001, TC: 3, S: true}}, tr.Hops[0].Probes[2].MPLS)
		h2 := tr.Hops[1].Probes
		require.Len(t, h2, 3)
		assert.Empty(t, h2[0].MPLS)
		assert.Equal(t, []MPLSLabel{{Label: 17, S: true}}, h2[1].MPLS)
		assert.Equal(t, []MPLSLabel{{Label: 17, S: true}}, h2[2].MPLS)
	})
}

func TestTextTracertIPv6AndReports(t *testing.T) {
	tr := txtOne(t, `Tracing route to example.org [2001:db8::9]
from 2001:db8::2 over a maximum of 30 hops:

  1    <1 ms    <1 ms    <1 ms  2001:db8::1
  2     1 ms     2 ms     *     r2.example [2001:db8:1::1]
  3  2001:db8:2::1  reports: Destination net unreachable.

Trace complete.
`, "windows-tracert")
	assert.Equal(t, addr("2001:db8::2"), tr.Source.Addr)
	assert.Equal(t, Endpoint{Name: "example.org", Addr: addr("2001:db8::9")}, tr.Destination)
	require.Len(t, tr.Hops, 3)
	assert.Equal(t, TracertSubMsRTTMs, tr.Hops[0].Probes[0].RTTMs)
	assert.Equal(t, []Probe{
		{Addr: addr("2001:db8:1::1"), Name: "r2.example", RTTMs: 1},
		{Addr: addr("2001:db8:1::1"), Name: "r2.example", RTTMs: 2},
		{Lost: true},
	}, tr.Hops[1].Probes)
	assert.Equal(t, []Probe{{Addr: addr("2001:db8:2::1"), Lost: true, Flags: []string{"!N"}}}, tr.Hops[2].Probes)
}

func TestTextMTRReportECMPAndMPLS(t *testing.T) {
	tr := txtOne(t, `Start: 2024-01-01T10:00:00+0000
HOST: vm                          Loss%   Snt   Last   Avg  Best  Wrst StDev
  1.|-- 192.0.2.1                  0.0%    10    0.5   0.6   0.4   0.9   0.1
  2.|-- 198.51.100.1              10.0%    10    1.9   2.7   1.9   3.7   0.5
    |  `+"`"+`|-- 198.51.100.5
       [MPLS: Lbl 24001 TC 0 S 1 TTL 1]
  3.|-- ???                       100.0    10    0.0   0.0   0.0   0.0   0.0
`, "mtr-report")
	assert.Equal(t, time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC), tr.Started.UTC())
	assert.Equal(t, "vm", tr.Source.Name)
	require.Len(t, tr.Hops, 3)
	for _, h := range tr.Hops {
		assert.Empty(t, h.Probes, "mtr aggregates must not become probes")
	}
	assert.Equal(t, []Stats{
		{Addr: addr("198.51.100.1"), Sent: 10, LossPct: 10, LastMs: 1.9, AvgMs: 2.7, MinMs: 1.9, MaxMs: 3.7, StdevMs: 0.5},
		{Addr: addr("198.51.100.5"), MPLS: []MPLSLabel{{Label: 24001, S: true, TTL: 1}}},
	}, tr.Hops[1].Stats)
	assert.Equal(t, []Stats{{Sent: 10, LossPct: 100}}, tr.Hops[2].Stats)
	assert.Empty(t, tr.Hops[2].Addrs())
}

func TestTextMTRRawLostProbes(t *testing.T) {
	tr := txtOne(t, "x 0 1\nh 0 192.0.2.1\np 0 500 1\nx 1 2\nx 0 3\nd 0 gw.example\np 0 1500 3\nx 1 4\nh 1 198.51.100.1\np 1 2250 4\n", "mtr-raw")
	require.Len(t, tr.Hops, 2)
	assert.Equal(t, []Probe{
		{Addr: addr("192.0.2.1"), Name: "gw.example", RTTMs: 0.5},
		{Addr: addr("192.0.2.1"), Name: "gw.example", RTTMs: 1.5},
	}, tr.Hops[0].Probes)
	assert.Equal(t, []Probe{{Lost: true}, {Addr: addr("198.51.100.1"), RTTMs: 2.25}}, tr.Hops[1].Probes)
}

func TestTextAppendedTraces(t *testing.T) {
	for _, tc := range []struct {
		name, in, format string
		want             []string
	}{
		{"headers", "traceroute to a (192.0.2.9), 30 hops max, 60 byte packets\n 1  192.0.2.1  1.0 ms\n 2  192.0.2.9  2.0 ms\ntraceroute to b (198.51.100.9), 30 hops max, 60 byte packets\n 1  192.0.2.1  1.0 ms\n",
			"linux-traceroute", []string{"1:192.0.2.1x1 2:192.0.2.9x1", "1:192.0.2.1x1"}},
		{"ttl back to 1", " 1  a (192.0.2.1)  1.0 ms\n 2  b (192.0.2.9)  2.0 ms\n 1  a (192.0.2.1)  1.1 ms\n 2  * \n",
			"bsd-traceroute", []string{"1:192.0.2.1x1 2:192.0.2.9x1", "1:192.0.2.1x1 2:*x1"}},
		{"tracert", "Tracing route to 192.0.2.9\n  1     1 ms     1 ms     1 ms  192.0.2.9\nTrace complete.\nTracing route to 192.0.2.9\n  1     2 ms     *        2 ms  192.0.2.9\n",
			"windows-tracert", []string{"1:192.0.2.9x3", "1:192.0.2.9x1,*x1,192.0.2.9x1"}},
		{"mtr report", "Start: 2024-01-01T10:00:00+0000\nHOST: a Loss% Snt Last Avg Best Wrst StDev\n  1.|-- 192.0.2.1 0.0% 1 1.0 1.0 1.0 1.0 0.0\nStart: 2024-01-01T10:05:00+0000\nHOST: a Loss% Snt Last Avg Best Wrst StDev\n  1.|-- 192.0.2.1 0.0% 2 1.0 1.0 1.0 1.0 0.0\n",
			"mtr-report", []string{"1:192.0.2.1=1", "1:192.0.2.1=2"}},
		{"tracepath", " 1?: [LOCALHOST] pmtu 1500\n 1:  192.0.2.1  0.5ms\n 2:  192.0.2.9  1.0ms reached\n 1?: [LOCALHOST] pmtu 1500\n 1:  192.0.2.1  0.6ms\n",
			"tracepath", []string{"1:192.0.2.1x1 2:192.0.2.9x1", "1:192.0.2.1x1"}},
		{"winmtr", "|---|\n|   WinMTR statistics   |\n| 192.0.2.1 - 0 | 1 | 1 | 1 | 1 | 1 | 1 |\n|---|\n|   WinMTR statistics   |\n| 192.0.2.1 - 0 | 2 | 2 | 1 | 1 | 1 | 1 |\n",
			"winmtr", []string{"1:192.0.2.1=1", "1:192.0.2.1=2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			traces, errs := txtReadAll(t, tc.in, ReadOptions{})
			require.Empty(t, errs)
			var got []string
			for _, tr := range traces {
				assert.Equal(t, tc.format, tr.Format)
				got = append(got, txtSummarize(tr))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestTextBadLineIsReportedAndSkipped(t *testing.T) {
	in := "traceroute to a (192.0.2.9), 30 hops max, 60 byte packets\n 1  192.0.2.1  1.0 ms\n 2  192.0.2.2  zz ms\n 3  192.0.2.9  3.0 ms !\"\n 4  192.0.2.9  4.0 ms\n"
	traces, errs := txtReadAll(t, in, ReadOptions{Input: "t.txt"})
	require.Len(t, traces, 1)
	// The bad lines add nothing: no probes, no empty hops.
	assert.Equal(t, "1:192.0.2.1x1 4:192.0.2.9x1", txtSummarize(traces[0]))
	require.Len(t, errs, 2)
	var pe *ParseError
	require.ErrorAs(t, errs[0], &pe)
	assert.Equal(t, 3, pe.Line)
	assert.Equal(t, "linux-traceroute", pe.Format)
	assert.Equal(t, `t.txt:3: linux-traceroute: unit "ms" without a number`, errs[0].Error())
	assert.Equal(t, `t.txt:4: linux-traceroute: bad annotation "!\""`, errs[1].Error())
}

func TestTextBadInputs(t *testing.T) {
	for _, tc := range []struct {
		name, in, format, want string
	}{
		{"empty", "", "", "-:1: input: empty input"},
		{"blank", "\n\n  \n", "", "-:1: input: empty input"},
		{"binary", "\x00\x01\x02ELF", "", "-:1: input: binary data, not traceroute output"},
		{"prose", "hello world\nthis is not a traceroute\n", "", "unrecognised traceroute output"},
		{"forced on prose", "hello world\n", "linux-traceroute", `-:1: linux-traceroute: unexpected line "hello world"`},
		{"forced on nothing", "\n\n", "mtr-raw", "-:2: mtr-raw: no trace found"},
		{"unknown format", "x", "nope", `unknown format "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			traces, errs := txtReadAll(t, tc.in, ReadOptions{Format: tc.format})
			assert.Empty(t, traces)
			require.NotEmpty(t, errs)
			assert.ErrorContains(t, errs[0], tc.want)
			var pe *ParseError
			assert.True(t, errors.As(errs[0], &pe))
		})
	}
}

func TestTextForcedGarbageGivesUp(t *testing.T) {
	in := strings.Repeat("garbage line\n", 1000)
	traces, errs := txtReadAll(t, in, ReadOptions{Format: "cisco"})
	assert.Empty(t, traces)
	require.Len(t, errs, maxBadLines+1)
	assert.ErrorContains(t, errs[maxBadLines], "bad lines in a row, giving up")
}

func TestTextHugeLine(t *testing.T) {
	in := "traceroute to a (192.0.2.9), 30 hops max, 60 byte packets\n 1  192.0.2.1  1.0 ms\n 2  " + strings.Repeat("x", 200<<10) + "\n 3  192.0.2.9  3.0 ms\n"
	traces, errs := txtReadAll(t, in, ReadOptions{})
	require.Len(t, traces, 1)
	assert.Equal(t, "1:192.0.2.1x1 3:192.0.2.9x1", txtSummarize(traces[0]))
	require.Len(t, errs, 1)
	assert.ErrorContains(t, errs[0], "-:3: linux-traceroute: line longer than 65536 bytes")
}

func TestTextTruncated(t *testing.T) {
	full := "traceroute to a (192.0.2.9), 30 hops max, 60 byte packets\n 1  gw (192.0.2.1)  1.0 ms  1.1 ms\n 2  192.0.2.9 (192.0.2.9)  2.0 ms  2.1 ms\n"
	for n := 1; n < len(full); n++ {
		// Any prefix gives traces and/or errors, never a panic or a hang.
		traces, errs := txtReadAll(t, full[:n], ReadOptions{Format: "linux-traceroute"})
		assert.NotEmpty(t, append(traces, nil), n)
		_ = errs
	}
	// Cut inside the last line: the good lines are read, the cut one is
	// reported.
	traces, errs := txtReadAll(t, full[:len(full)-12], ReadOptions{Input: "cut"})
	require.Len(t, errs, 1)
	assert.EqualError(t, errs[0], `cut:3: linux-traceroute: number "2.0" without a unit`)
	require.Len(t, traces, 1)
	assert.Equal(t, "1:192.0.2.1x2", txtSummarize(traces[0]))
}

func TestTextStopEarly(t *testing.T) {
	in := strings.Repeat("traceroute to a (192.0.2.9), 30 hops max, 60 byte packets\n 1  192.0.2.1  1.0 ms\n", 10)
	n := 0
	for range Read(strings.NewReader(in), ReadOptions{}) {
		n++
		if n == 3 {
			break
		}
	}
	assert.Equal(t, 3, n)
}

func TestTextDetection(t *testing.T) {
	for _, tc := range []struct{ in, format string }{
		{"Mtr_Version,Start_Time,Status,Host,Hop,Ip,Loss%,Snt, ,Last,Avg,Best,Wrst,StDev,\n", "mtr-csv"},
		{"x 0 33000\nh 0 192.0.2.1\n", "mtr-raw"},
		{"HOST: vm Loss% Snt Last Avg Best Wrst StDev\n", "mtr-report"},
		{"                My traceroute  [v0.93]\n", "mtr-screen"},
		{"Tracing route to 192.0.2.9 over a maximum of 30 hops\n", "windows-tracert"},
		{" 1?: [LOCALHOST]  pmtu 1500\n", "tracepath"},
		{"Tracing the route to 192.0.2.9\n", "cisco"},
		{"traceroute to a (192.0.2.9), 64 hops max, 52 byte packets\n", "bsd-traceroute"},
		{"traceroute to a (192.0.2.9), 30 hops max, 60 byte packets\n", "linux-traceroute"},
		{" 1  192.0.2.1 (192.0.2.1)  1.0 ms 192.0.2.2 (192.0.2.2)  1.2 ms\n", "linux-traceroute"},
		{" 1  gw (192.0.2.1)  1.0 ms  1.2 ms\n", "bsd-traceroute"},
	} {
		traces, errs := txtReadAll(t, tc.in, ReadOptions{})
		if len(traces) > 0 {
			assert.Equal(t, tc.format, traces[0].Format, tc.in)
		}
		for _, err := range errs {
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.format, pe.Format, tc.in)
		}
	}
}

func TestTextLinesReader(t *testing.T) {
	r := bufio.NewReaderSize(strings.NewReader("a\r\nb  \n"+strings.Repeat("z", 40)+"\nc"), 16)
	l := textLines{r: r}
	var got []string
	for {
		s, long, ok := l.next()
		if !ok {
			break
		}
		if long {
			s = "<long>"
		}
		got = append(got, s)
	}
	assert.Equal(t, []string{"a", "b", "<long>", "c"}, got)
	assert.Equal(t, 4, l.n)
	assert.NoError(t, l.err)
}

func TestTextUTF16Tracert(t *testing.T) {
	text := "Tracing route to example.org [192.0.2.9]\r\nover a maximum of 30 hops:\r\n\r\n  1    <1 ms    <1 ms    <1 ms  192.0.2.1\r\n  2     3 ms     2 ms     2 ms  r\u00e9seau.example [192.0.2.9]\r\n\r\nTrace complete.\r\n"
	for _, be := range []bool{false, true} {
		var b []byte
		if be {
			b = append(b, 0xfe, 0xff)
		} else {
			b = append(b, 0xff, 0xfe)
		}
		for _, c := range utf16.Encode([]rune(text)) {
			if be {
				b = append(b, byte(c>>8), byte(c))
			} else {
				b = append(b, byte(c), byte(c>>8))
			}
		}
		tr := txtOne(t, string(b), "windows-tracert")
		assert.Equal(t, "1:192.0.2.1x3 2:192.0.2.9x3", txtSummarize(tr))
		assert.Equal(t, "r\u00e9seau.example", tr.Hops[1].Probes[0].Name)
	}
}

func TestTextUTF16ReaderSurrogates(t *testing.T) {
	// U+1F600 as a surrogate pair split across reads, then a lone surrogate.
	in := []byte{0x3d, 0xd8, 0x00, 0xde, 'a', 0, 0x00, 0xd8}
	u := &utf16Reader{r: iotest.OneByteReader(bytes.NewReader(in))}
	out, err := io.ReadAll(u)
	require.NoError(t, err)
	assert.Equal(t, "\U0001F600a\uFFFD", string(out))
}

func TestTextJunosForced(t *testing.T) {
	in := `traceroute to 203.0.113.9 (203.0.113.9), 30 hops max, 40 byte packets
 1  192.0.2.1 (192.0.2.1)  0.617 ms  0.448 ms  0.437 ms
     MPLS Label=299808 CoS=0 TTL=1 S=1
 2  203.0.113.9 (203.0.113.9)  1.1 ms  0.9 ms  0.9 ms
`
	traces, errs := txtReadAll(t, in, ReadOptions{Format: "junos"})
	require.Empty(t, errs)
	require.Len(t, traces, 1)
	assert.Equal(t, "junos", traces[0].Format)
	assert.Equal(t, []MPLSLabel{{Label: 299808, S: true, TTL: 1}}, traces[0].Hops[0].Probes[2].MPLS)
	detected, errs := txtReadAll(t, in, ReadOptions{})
	require.Empty(t, errs)
	assert.Equal(t, "bsd-traceroute", detected[0].Format)
}

func TestTextMTRColumnOrder(t *testing.T) {
	tr := txtOne(t, `HOST: vm                          Loss%   Snt   Rcv Drop   Last  Best   Avg  Wrst  Jttr Javg Jmax Jint
  1.|-- gw.example (192.0.2.1)    10.0%    10     9    1    1.5   1.1   2.2   3.3   0.1  0.2  0.3  0.4
`, "mtr-report")
	assert.Equal(t, []Stats{{Addr: addr("192.0.2.1"), Name: "gw.example", LossPct: 10, Sent: 10, LastMs: 1.5, MinMs: 1.1, AvgMs: 2.2, MaxMs: 3.3}}, tr.Hops[0].Stats)

	csv := txtOne(t, "Mtr_Version,Start_Time,Status,Host,Hop,Ip,Asn,Loss%,Snt, ,Last,Avg,Best,Wrst,StDev,\nMTR.0.95,1700000000,OK,example.org,1,gw.example (192.0.2.1),AS64500,25.00,4,0,1.50,2.20,1.10,3.30,0.40\n", "mtr-csv")
	assert.Equal(t, time.Unix(1700000000, 0).UTC(), csv.Started)
	assert.Equal(t, Endpoint{Name: "example.org"}, csv.Destination)
	assert.Equal(t, []Stats{{Addr: addr("192.0.2.1"), Name: "gw.example", ASN: 64500, LossPct: 25, Sent: 4, LastMs: 1.5, AvgMs: 2.2, MinMs: 1.1, MaxMs: 3.3, StdevMs: 0.4}}, csv.Hops[0].Stats)
}

func TestTextProtocolOfSingleProtocolTools(t *testing.T) {
	for _, tc := range []struct{ in, format, proto string }{
		{"Tracing route to 192.0.2.9\n  1     1 ms     1 ms     1 ms  192.0.2.9\n", "windows-tracert", "icmp"},
		{" 1?: [LOCALHOST] pmtu 1500\n 1:  192.0.2.1  0.5ms\n", "tracepath", "udp"},
		{"|   WinMTR statistics   |\n| 192.0.2.1 - 0 | 1 | 1 | 1 | 1 | 1 | 1 |\n", "winmtr", "icmp"},
		{"traceroute to a (192.0.2.9), 30 hops max, 60 byte packets\n 1  192.0.2.1  1.0 ms\n", "linux-traceroute", ""},
	} {
		assert.Equal(t, tc.proto, txtOne(t, tc.in, tc.format).Protocol, tc.format)
	}
}

func TestTextBadLinesAddNothing(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"tracert", "Tracing route to 192.0.2.9\n  1     1 ms     1 ms     1 ms  192.0.2.1\n  2     1 ms     1 ms     1 ms\n  3     2 ms     2 ms     2 ms  192.0.2.9\n", "1:192.0.2.1x3 3:192.0.2.9x3"},
		{"ttl 1 again, bad", " 1  192.0.2.1  1.0 ms\n 2  192.0.2.9  2.0 ms\n 1  what?\n", "1:192.0.2.1x1 2:192.0.2.9x1"},
		{"tracert earlier hop", "Tracing route to 192.0.2.9\n  1     1 ms     1 ms     1 ms  192.0.2.1\n  2     2 ms     2 ms     2 ms  192.0.2.2\n  3     3 ms     3 ms     3 ms  192.0.2.9\n  2     1 ms     1 ms     1 ms\n", "1:192.0.2.1x3 2:192.0.2.2x3 3:192.0.2.9x3"},
		{"tracert same hop", "Tracing route to 192.0.2.9\n  1     1 ms     1 ms     1 ms  192.0.2.1\n  1     1 ms     1 ms     1 ms  bad!host\n", "1:192.0.2.1x3"},
		{"tracepath", " 1?: [LOCALHOST] pmtu 1500\n 1:  192.0.2.1  0.5ms\n 2:  192.0.2.2  zz\n 3:  192.0.2.9  1.0ms reached\n", "1:192.0.2.1x1 3:192.0.2.9x1"},
		{"mtr", "HOST: a Loss% Snt Last Avg Best Wrst StDev\n  1.|-- 192.0.2.1 0.0% 1 1.0 1.0 1.0 1.0 0.0\n  2.|-- 192.0.2.2 x% 1 1.0 1.0 1.0 1.0 0.0\n", "1:192.0.2.1=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			traces, errs := txtReadAll(t, tc.in, ReadOptions{})
			require.Len(t, errs, 1)
			require.Len(t, traces, 1)
			assert.Equal(t, tc.want, txtSummarize(traces[0]))
		})
	}
}

// TestTextHopNumberOutOfRange: a TTL is an 8-bit field, so a hop number
// above 255 is a bad line (one error naming it), never a hop.
func TestTextHopNumberOutOfRange(t *testing.T) {
	for _, tc := range []struct{ name, format, in, want string }{
		{"bsd fuzz find", "bsd-traceroute", "700 A0 0ms\n", "in:1: bsd-traceroute: hop number 700 out of range 1..255"},
		{"linux", "linux-traceroute", "traceroute to a (192.0.2.9), 30 hops max, 60 byte packets\n256  192.0.2.9  1.0 ms\n", "in:2: linux-traceroute: hop number 256 out of range 1..255"},
		{"cisco", "cisco", "Tracing the route to 192.0.2.9\n\n  1000 192.0.2.9 1 msec 1 msec 1 msec\n", "in:3: cisco: hop number 1000 out of range 1..255"},
		{"tracert", "windows-tracert", "Tracing route to 192.0.2.9\n300     1 ms     1 ms     1 ms  192.0.2.9\n", "in:2: windows-tracert: hop number 300 out of range 1..255"},
		{"tracepath", "tracepath", " 1?: [LOCALHOST] pmtu 1500\n256:  192.0.2.9  1.0ms reached\n", "in:2: tracepath: hop number 256 out of range 1..255"},
		{"mtr-report", "mtr-report", "HOST: a Loss% Snt Last Avg Best Wrst StDev\n256.|-- 192.0.2.1 0.0% 1 1.0 1.0 1.0 1.0 0.0\n", "in:2: mtr-report: hop number 256 out of range 1..255"},
		{"mtr-csv from 1", "mtr-csv", "Mtr_Version,Start_Time,Status,Host,Hop,Ip,Loss%,Snt, ,Last,Avg,Best,Wrst,StDev,\nMTR.0.95,1612703466,OK,dns.google,256,192.0.2.1,0.00,2,0,3.79,4.00,3.79,4.21,0.30\n", "in:2: mtr-csv: hop number 256 out of range 1..255"},
		{"mtr-csv from 0", "mtr-csv", "Mtr_Version,Start_Time,Status,Host,Hop,Ip,Loss%,Snt, ,Last,Avg,Best,Wrst,StDev,\nMTR.0.95,1612703466,OK,dns.google,0,192.0.2.1,0.00,2,0,3.79,4.00,3.79,4.21,0.30\nMTR.0.95,1612703466,OK,dns.google,255,192.0.2.1,0.00,2,0,3.79,4.00,3.79,4.21,0.30\n", "in:3: mtr-csv: hop number 256 out of range 1..255"},
		{"mtr-raw", "mtr-raw", "h 255 192.0.2.1\n", "in:1: mtr-raw: hop index 255 out of range 0..254"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			traces, errs := txtReadAll(t, tc.in, ReadOptions{Format: tc.format, Input: "in"})
			require.NotEmpty(t, errs)
			assert.EqualError(t, errs[0], tc.want)
			for _, tr := range traces {
				for _, h := range tr.Hops {
					assert.LessOrEqual(t, h.TTL, maxTTL)
				}
			}
		})
	}
	// 255 itself is a hop.
	tr := txtOne(t, "traceroute to a (192.0.2.9), 255 hops max, 60 byte packets\n255  192.0.2.9  1.0 ms\n", "linux-traceroute")
	assert.Equal(t, "255:192.0.2.9x1", txtSummarize(tr))
}

// TestTextMTRStartedUTC: mtr's "Start:" time is read into UTC, whatever
// the offset printed and the machine's zone, so that it survives the
// interchange (which keeps the instant, not the zone) deep-equal.
func TestTextMTRStartedUTC(t *testing.T) {
	for _, start := range []string{"2024-01-01T11:00:00+0100", "2024-01-01T10:00:00+0000", "2024-01-01T10:00:00Z", "Mon Jan  1 10:00:00 2024"} {
		t.Run(start, func(t *testing.T) {
			tr := txtOne(t, "Start: "+start+"\nHOST: vm Loss% Snt Last Avg Best Wrst StDev\n  1.|-- 192.0.2.1 0.0% 10 0.5 0.6 0.4 0.9 0.1\n", "mtr-report")
			assert.Equal(t, time.UTC, tr.Started.Location())
			assert.True(t, tr.Started.Equal(time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)))
			var buf bytes.Buffer
			enc := NewEncoder(&buf)
			require.NoError(t, enc.Encode(tr))
			require.NoError(t, enc.Flush())
			back, errs := txtReadAll(t, buf.String(), ReadOptions{})
			require.Empty(t, errs)
			require.Len(t, back, 1)
			assert.Equal(t, tr, back[0])
		})
	}
}
