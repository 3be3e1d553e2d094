package traceroute

import (
	"bytes"
	"fmt"
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
	default:
		t.Fatalf("no one-line records for %s", format)
	}
	return lines
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
	formats := []string{FormatRIPEAtlas, FormatGeoloc, FormatScamperJSON, FormatMtrJSON, FormatNXOSJSON}
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
// first line, continued on the next) are valid JSON and stay whole, before
// and after a cut-off record.
func TestJSONWrappedRecordsStillRead(t *testing.T) {
	rec := `{"type":"trace","src":"192.0.2.7","dst":"203.0.113.9","start":{"sec":1700000000,"usec":5},
 "hops":[{"addr":"198.51.100.2","probe_ttl":1,"rtt":1.5},
{"addr":"198.51.100.4","probe_ttl":2,"rtt":9.25}
]}`
	cut := `{"type":"trace","src":"192.0.2.7","dst":"203.0.113.9","hops":[{"addr":"198.51.100.2","probe_ttl":1,"rtt":1.`
	in := rec + "\n" + cut + "\n" + rec + "\n" + rec + "\n"
	got, errs := readAllOf(t, []byte(in), FormatScamperJSON)
	assert.Len(t, got, 3)
	require.Len(t, errs, 1, "%q", errs)
	assert.Contains(t, errs[0], "in:5: scamper-json: record cut off")
}
