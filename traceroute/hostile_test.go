package traceroute

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oneLineRecords returns n one-line records of a JSON format, each telling
// itself apart from the others (its index is in a timestamp, address or
// name), joined by newlines.
func oneLineRecords(t *testing.T, format string, n int) []string {
	t.Helper()
	lines := make([]string, n)
	switch format {
	case FormatRIPEAtlas:
		g := newAtlasGen(1<<40, false)
		for i := range lines {
			lines[i] = string(g.record(nil))
		}
	case FormatGeoloc:
		g := newAtlasGen(1<<40, false)
		var d atlasDecoder
		for i := range lines {
			tr, err := d.decode(g.record(nil))
			require.NoError(t, err)
			var b bytes.Buffer
			enc := NewEncoder(&b)
			require.NoError(t, enc.Encode(tr))
			require.NoError(t, enc.Flush())
			lines[i] = strings.TrimSuffix(b.String(), "\n")
		}
	case FormatScamperJSON:
		for i := range lines {
			lines[i] = fmt.Sprintf(`{"type":"trace","version":"0.1","method":"udp-paris","src":"192.0.2.7","dst":"203.0.113.9","start":{"sec":%d,"usec":5},"hop_count":2,"firsthop":1,"hops":[{"addr":"198.51.100.2","probe_ttl":1,"rtt":1.5},{"addr":"198.51.100.%d","probe_ttl":2,"rtt":9.25,"icmp_type":11,"icmp_code":0}]}`, 1700000000+i, i%250+1)
		}
	case FormatMtrJSON:
		for i := range lines {
			lines[i] = fmt.Sprintf(`{"report":{"mtr":{"src":"probe.example","dst":"192.0.2.%d","tos":0,"tests":10,"psize":"64","bitpattern":"0x00"},"hubs":[{"count":1,"host":"198.51.100.%d","Loss%%":0.0,"Snt":10,"Last":0.4,"Avg":0.5,"Best":0.3,"Wrst":0.9,"StDev":0.1}]}}`, i%250+1, i%200+1)
		}
	case FormatNXOSJSON:
		for i := range lines {
			lines[i] = fmt.Sprintf(`{"jsonrpc":"2.0","result":{"msg":"traceroute to 203.0.113.%d (203.0.113.%d), 30 hops max, 40 byte packets\n 1  192.0.2.1 (192.0.2.1)  0.743 ms  0.838 ms  0.876 ms\n 2  198.51.100.%d (198.51.100.%d)  %d.5 ms  1.32 ms  1.289 ms\n"},"id":%d}`, i%250+1, i%250+1, i%200+1, i%200+1, i%90+2, i+1)
		}
	case FormatGlobalping, FormatRIPEAtlasPing:
		// Real results, made one line each and numbered apart by their
		// measurement id.
		path := map[string]string{FormatGlobalping: "testdata/json/globalping/traceroute.json", FormatRIPEAtlasPing: "testdata/json/ripe-atlas-ping/msm41688561.jsonl"}[format]
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		b, _, _ = bytes.Cut(bytes.TrimSpace(b), []byte("\n{")) // the first record
		var c bytes.Buffer
		require.NoError(t, json.Compact(&c, b))
		for i := range lines {
			lines[i] = strings.Replace(c.String(), `"id":"`, fmt.Sprintf(`"id":"%d-`, i), 1)
			lines[i] = strings.Replace(lines[i], `"msm_id":`, fmt.Sprintf(`"msm_id":%d`, i+1), 1)
		}
	default:
		t.Fatalf("no one-line records for %s", format)
	}
	return lines
}

// jsonFormat reports whether format is one of the JSON formats.
func jsonFormat(format string) bool {
	switch format {
	case FormatRIPEAtlas, FormatRIPEAtlasPing, FormatGlobalping, FormatScamperJSON, FormatMtrJSON, FormatNXOSJSON, FormatGeoloc:
		return true
	}
	return false
}

// readAllOf reads data as format and returns the traces in interchange
// JSON (comparable) and the error messages.
func readAllOf(t *testing.T, data []byte, format string) ([]string, []string) {
	t.Helper()
	var traces, errs []string
	for tr, err := range Read(bytes.NewReader(data), ReadOptions{Format: format, Input: "in"}) {
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		var b bytes.Buffer
		enc := NewEncoder(&b)
		require.NoError(t, enc.Encode(tr))
		require.NoError(t, enc.Flush())
		traces = append(traces, b.String())
	}
	return traces, errs
}

// TestJSONLinesCutRecordKeepsTheRest is issue 16 item 1: a JSON Lines
// record cut off in the middle of its line (not inside a string) used to
// stay open and swallow every following line up to the value cap. Every
// other record must come through, in order, with one error naming the cut
// line.
func TestJSONLinesCutRecordKeepsTheRest(t *testing.T) {
	cuts := []struct {
		name string
		cut  func(rec string) string
	}{
		// The repro: a number cut after its dot.
		{"in a number", func(rec string) string {
			if i := strings.Index(rec, `"rtt":`); i >= 0 {
				return rec[:i+len(`"rtt":1.`)-1] + "."
			}
			return rec[:strings.LastIndex(rec, ":")+2] + "."
		}},
		{"after a comma", func(rec string) string { return rec[:strings.Index(rec, ",")+1] }},
		{"after an opening bracket", func(rec string) string { return rec[:strings.LastIndexAny(rec, "[{")+1] }},
		{"after a closing brace inside", func(rec string) string { return rec[:strings.Index(rec, "}")+1] }},
		{"in a key", func(rec string) string { return rec[:strings.LastIndex(rec, `,"`)+3] + `"` }},
		{"half way", func(rec string) string { return rec[:len(rec)/2] }},
	}
	formats := []string{FormatRIPEAtlas, FormatRIPEAtlasPing, FormatGlobalping, FormatGeoloc, FormatScamperJSON, FormatMtrJSON, FormatNXOSJSON}
	for _, format := range formats {
		n := 200
		if format == FormatRIPEAtlas {
			n = 1000 // the repro: 1,000 results, line 2 cut
		}
		lines := oneLineRecords(t, format, n)
		good := []byte(strings.Join(append(append([]string{}, lines[:1]...), lines[2:]...), "\n") + "\n")
		want, wantErrs := readAllOf(t, good, format)
		require.Empty(t, wantErrs)
		require.Len(t, want, n-1, "%s: every good record is a trace", format)
		for _, tc := range cuts {
			t.Run(format+"/"+tc.name, func(t *testing.T) {
				bad := append([]string{}, lines...)
				bad[1] = tc.cut(lines[1])
				require.NotEqual(t, lines[1], bad[1])
				for _, where := range []string{"middle", "last"} {
					in := bad
					wantLine := 2
					if where == "last" { // the cut record is the last one
						in = append(append([]string{}, lines[:1]...), lines[2:]...)
						in = append(in, bad[1])
						wantLine = n
					}
					got, errs := readAllOf(t, []byte(strings.Join(in, "\n")+"\n"), format)
					require.Len(t, got, n-1, "%s: one trace per good record", where)
					assert.Equal(t, want, got, "%s: the good records, in order", where)
					require.Len(t, errs, 1, "%s: one error for the cut record: %q", where, errs)
					assert.Contains(t, errs[0], fmt.Sprintf("in:%d: %s: ", wantLine, format))
				}
			})
		}
	}
}

// TestJSONWrappedRecordsStillRead: records wrapped by hand (content on the
// first line, continued on the next) are valid JSON and stay whole. Once a
// record was cut off, the input is damaged JSON Lines, read line by line.
func TestJSONWrappedRecordsStillRead(t *testing.T) {
	rec := `{"type":"trace","src":"192.0.2.7","dst":"203.0.113.9","start":{"sec":1700000000,"usec":5},
 "hops":[{"addr":"198.51.100.2","probe_ttl":1,"rtt":1.5},
{"addr":"198.51.100.4","probe_ttl":2,"rtt":9.25}
]}`
	cut := `{"type":"trace","src":"192.0.2.7","dst":"203.0.113.9","hops":[{"addr":"198.51.100.2","probe_ttl":1,"rtt":1.`
	line := strings.ReplaceAll(rec, "\n", "")
	in := rec + "\n" + rec + "\n" + cut + "\n" + line + "\n" + line + "\n"
	got, errs := readAllOf(t, []byte(in), FormatScamperJSON)
	assert.Len(t, got, 4)
	require.Len(t, errs, 1, "%q", errs)
	assert.Contains(t, errs[0], "in:9: scamper-json: record cut off")
}

// endless is an input that never ends: head once, then body again and
// again. It counts what was read.
type endless struct {
	head, body []byte
	off        int
	read       int64
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(e.head) > 0 {
			c := copy(p[n:], e.head)
			e.head = e.head[c:]
			n += c
			continue
		}
		c := copy(p[n:], e.body[e.off:])
		e.off = (e.off + c) % len(e.body)
		n += c
	}
	e.read += int64(n)
	return n, nil
}

// binaryJunk is fixed pseudo-random bytes with a newline now and then.
func binaryJunk() []byte {
	b := make([]byte, 1<<16)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// TestHostileReadGivesUpOnEndlessInput is issue 16 item 4: `parse --input-format
// ripe-atlas /dev/zero` spun at full CPU for good, and every other format
// did too. On an input that never ends and cannot be its format, every
// reader stops by itself, having read a bounded amount, and says why.
func TestHostileReadGivesUpOnEndlessInput(t *testing.T) {
	kinds := []struct {
		name       string
		head, body string
	}{
		{"dev zero", "", "\x00"},
		{"one endless line", "", "A"},
		{"junk lines", "", "no hop here, only junk\n"},
		{"binary junk", "", string(binaryJunk())},
		{"open brackets", "", "["},
		{"nested objects", "", `{"a":`},
		{"nested objects a line each", "", "{\"a\":\n"},
		{"endless string", `{"a":"`, "x"},
		{"endless XML comment", "<!--", "comment "},
		{"endless XML trace", "<rpc-reply><traceroute-results><hop><ttl-value>1</ttl-value>",
			"<probe-result><ip-address>192.0.2.1</ip-address><rtt>1000</rtt></probe-result>"},
		{"endless IOS-XR trace", "<rpc-reply><traceroute-response><hop><hop-index>1</hop-index>",
			"<probe><delta-time>1</delta-time></probe>"},
	}
	skipHeavy(t)
	const budget = 100 << 20
	for _, format := range Formats() {
		for _, k := range kinds {
			if strings.HasPrefix(k.name, "endless XML trace") && format != FormatJunosXML ||
				strings.HasPrefix(k.name, "endless IOS-XR") && format != FormatIOSXRXML {
				continue
			}
			t.Run(format+"/"+k.name, func(t *testing.T) {
				in := &endless{head: []byte(k.head), body: []byte(k.body)}
				_, _, last := tally(t, in, format, "in", func(traces, errs int, last error) {
					if in.read > budget {
						t.Fatalf("still reading after %d MiB (%d traces, %d errors, last %v)", in.read>>20, traces, errs, last)
					}
				})
				require.Error(t, last, "the reader says why it stopped")
				assert.Regexp(t, `^in:\d+: `+format+`: `, last.Error())
				if format != FormatJunosXML && format != FormatIOSXRXML {
					// (XML readers also stop at the first syntax error.)
					assert.Regexp(t, `giving up|larger than|bad lines in a row`, last.Error())
				}
			})
		}
	}
}

// skipHeavy skips a test that reads hundreds of megabytes of hostile input
// under the race detector, which makes it ten times slower and measures
// nothing more (the readers run on one goroutine). CI runs these tests
// without -race as well (.ci/run: go test -run Hostile).
func skipHeavy(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("reads hundreds of MB: run without -race (CI does: go test -run Hostile ./...)")
	}
	if testing.Short() {
		t.Skip("reads hundreds of MB: skipped with -short")
	}
}

// TestReadCapsNamed is issue 16 item 4: a record over one of the readers'
// caps is refused (JSON, XML) or cut (text) with an error naming the cap,
// and the records after it still read.
func TestReadCapsNamed(t *testing.T) {
	atlasOK := `{"type":"traceroute","prb_id":1,"result":[{"hop":1,"result":[{"from":"192.0.2.1","rtt":1}]}]}` + "\n"
	linuxHop := " 1  192.0.2.1  0.5 ms\n"
	tests := []struct {
		name, format, in string
		traces           int
		err              string
	}{
		{"JSON record over the size cap", FormatRIPEAtlas,
			`{"type":"traceroute","result":[],"x":"` + strings.Repeat("y", maxJSONValue+128<<10) + "\"}\n" + atlasOK,
			1, "JSON value larger than 8 MiB"},
		{"JSON record with too many objects", FormatScamperJSON,
			`{"type":"trace","hops":[` + strings.Repeat(`{"probe_ttl":1},`, maxJSONObjects) + "{}]}\n",
			0, "more than 65536 JSON objects"},
		{"Atlas trace with too many probes", FormatRIPEAtlas,
			`{"type":"traceroute","result":[{"hop":1,"result":[` + strings.Repeat(`{"x":"*"},`, MaxProbes) + `{}]}]}` + "\n" + atlasOK,
			1, "more than 32768 probes in one trace"},
		{"Atlas trace with too many hops", FormatRIPEAtlas,
			`{"type":"traceroute","result":[` + strings.Repeat(`{"hop":1},`, MaxHops) + `{"hop":1}]}` + "\n" + atlasOK,
			1, "more than 1024 hops in one trace"},
		{"interchange trace with too many probes", FormatGeoloc,
			`{"format":"geoloc","hops":[{"ttl":1,"probes":[` + strings.Repeat(`{"lost":true},`, MaxProbes) + `{"lost":true}]}]}` + "\n",
			0, "more than 32768 probes in one trace"},
		{"interchange trace with too many hops", FormatGeoloc,
			`{"format":"geoloc","hops":[` + strings.Repeat(`{"ttl":1},`, MaxHops) + `{"ttl":1}]}` + "\n",
			0, "more than 1024 hops in one trace"},
		{"text trace with too many probes", "linux-traceroute",
			"traceroute to 192.0.2.9 (192.0.2.9), 30 hops max\n" + strings.Repeat(linuxHop, MaxProbes+2),
			2, "trace holds more than 32768 probes: it ends here"},
		{"XML node over the cap", FormatJunosXML,
			"<rpc-reply><!--" + strings.Repeat("x", maxXMLNode) + "--></rpc-reply>",
			0, "XML node larger than 1 MiB"},
		{"XML trace with too many probes", FormatIOSXRXML,
			"<rpc-reply><traceroute-response><hop><hop-index>1</hop-index>" + strings.Repeat("<probe><delta-time>1</delta-time></probe>", MaxProbes+1) + "</hop></traceroute-response></rpc-reply>",
			0, "more than 32768 probes in one trace"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			traces, errs := readAllOf(t, []byte(tc.in), tc.format)
			assert.Len(t, traces, tc.traces)
			require.NotEmpty(t, errs)
			assert.Contains(t, strings.Join(errs, "\n"), tc.err)
			assert.Regexp(t, `^in:\d+: `+tc.format+`: `, errs[0])
		})
	}
}

// tally reads r as format and counts what comes out; check, when not nil,
// runs before each trace or error with the counts so far.
func tally(t *testing.T, r io.Reader, format, input string, check func(traces, errs int, last error)) (traces, errs int, last error) {
	t.Helper()
	for tr, err := range Read(r, ReadOptions{Format: format, Input: input}) {
		if check != nil {
			check(traces, errs, last)
		}
		if err != nil {
			errs++
			last = err
			continue
		}
		require.NotNil(t, tr)
		traces++
	}
	return traces, errs, last
}

// TestAbsurdRTTRefused is issue 16 item 5, readers: an RTT past the
// physical maximum (1e308 in a hostile file, a minute and more in any)
// is refused with the line it came from; the records around it read.
func TestAbsurdRTTRefused(t *testing.T) {
	atlas := func(rtt string) string {
		return `{"type":"traceroute","prb_id":1,"from":"192.0.2.7","dst_addr":"203.0.113.9","result":[{"hop":1,"result":[{"from":"192.0.2.1","rtt":1.5}]},{"hop":2,"result":[{"from":"203.0.113.9","rtt":` + rtt + `}]}]}` + "\n"
	}
	geo := func(rtt string) string {
		return `{"format":"geoloc","hops":[{"ttl":1,"probes":[{"addr":"192.0.2.1","rtt_ms":` + rtt + `}]}]}` + "\n"
	}
	scamper := func(rtt string) string {
		return `{"type":"trace","src":"192.0.2.7","dst":"203.0.113.9","hops":[{"addr":"198.51.100.2","probe_ttl":1,"rtt":` + rtt + `}]}` + "\n"
	}
	mtr := func(avg string) string {
		return `{"report":{"mtr":{"src":"p","dst":"192.0.2.9"},"hubs":[{"count":1,"host":"192.0.2.1","Loss%":0.0,"Snt":10,"Last":0.4,"Avg":` + avg + `,"Best":0.3,"Wrst":0.9,"StDev":0.1}]}}` + "\n"
	}
	mtrFlat := func(avg string) string {
		return `{"src":"p","dst":"192.0.2.9","hops":[{"hop":1,"ipaddr":"192.0.2.1","host":"unresolved","losspercent":0.0,"sent":10,"last":0.4,"avg":` + avg + `,"best":0.3,"worst":0.9,"stddev":0.1}]}` + "\n"
	}
	junos := func(us string) string {
		return `<rpc-reply><traceroute-results><target-ip>203.0.113.9</target-ip><hop><ttl-value>1</ttl-value><probe-result><ip-address>192.0.2.1</ip-address><rtt>` + us + `</rtt></probe-result></hop></traceroute-results></rpc-reply>` + "\n"
	}
	iosxr := func(ms string) string {
		return `<rpc-reply><traceroute-response><destination>203.0.113.9</destination><hops><hop><hop-index>1</hop-index><hop-address>192.0.2.1</hop-address><probes><probe><delta-time>` + ms + `</delta-time></probe></probes></hop></hops></traceroute-response></rpc-reply>` + "\n"
	}
	linux := "traceroute to 203.0.113.9 (203.0.113.9), 30 hops max, 60 byte packets\n 1  192.0.2.1  0.5 ms  0.6 ms  0.7 ms\n 2  198.51.100.1  %s ms  9.1 ms  9.2 ms\n 3  203.0.113.9  10.1 ms  10.2 ms  10.3 ms\n"
	tracert := "\nTracing route to 203.0.113.9 over a maximum of 30 hops\n\n  1    <1 ms    <1 ms    <1 ms  192.0.2.1\n  2    %s ms     9 ms     9 ms  198.51.100.1\n  3    10 ms    10 ms    10 ms  203.0.113.9\n\nTrace complete.\n"
	tests := []struct {
		format, good, bad string
		badLine           int
	}{
		{FormatRIPEAtlas, atlas("9.5"), atlas("1e308"), 2},
		{FormatRIPEAtlas, atlas("9.5"), atlas("60000.001"), 2},
		{FormatGeoloc, geo("9.5"), geo("1e308"), 2},
		{FormatScamperJSON, scamper("9.5"), scamper("1e308"), 2},
		{FormatMtrJSON, mtr("0.5"), mtr("1e308"), 2},
		{FormatMtrJSON, mtrFlat("0.5"), mtrFlat("1e308"), 2},
		{FormatJunosXML, junos("9500"), junos("1e308"), 2},
		{FormatIOSXRXML, iosxr("9.5"), iosxr("1e308"), 2},
	}
	for _, tc := range tests {
		t.Run(tc.format+"/"+tc.bad[len(tc.bad)-40:len(tc.bad)-1], func(t *testing.T) {
			traces, errs := readAllOf(t, []byte(tc.good+tc.bad+tc.good), tc.format)
			assert.Len(t, traces, 2, "the good records around it")
			require.Len(t, errs, 1, "%q", errs)
			assert.Regexp(t, fmt.Sprintf(`^in:%d: %s: .*rtt .* ms beyond the physical maximum of 60000 ms`, tc.badLine, tc.format), errs[0])
		})
	}
	for _, tc := range []struct {
		format, text, rtt string
		line              int
	}{
		{"linux-traceroute", linux, "99999999999999999999.5", 3},
		{"linux-traceroute", linux, "60001", 3},
		{"windows-tracert", tracert, "100000", 5},
	} {
		t.Run(tc.format+"/"+tc.rtt, func(t *testing.T) {
			traces, errs := readAllOf(t, []byte(fmt.Sprintf(tc.text, tc.rtt)), tc.format)
			require.Len(t, traces, 1, "the trace stays, without the absurd figure")
			assert.NotContains(t, traces[0], `"rtt_ms":6`)
			assert.NotContains(t, traces[0], `e+`)
			require.Len(t, errs, 1, "%q", errs)
			assert.Regexp(t, fmt.Sprintf(`^in:%d: %s: hop 2: rtt .* ms beyond the physical maximum of 60000 ms`, tc.line, tc.format), errs[0])
		})
	}
}
