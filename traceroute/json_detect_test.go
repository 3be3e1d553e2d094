package traceroute

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJSONDetect: every structured fixture is recognised as its format
// without --input-format, and JSON that is not a traceroute is refused.
func TestJSONDetect(t *testing.T) {
	files := []struct{ path, format string }{
		{"testdata/json/mlab-scamper/scamper1/valid-complex", FormatScamperJSON},
		{"testdata/json/mlab-scamper/scamper2/valid-simple-json", FormatScamperJSON},
		{"testdata/json/mlab-scamper/scamper1/invalid-metadata", FormatScamperJSON},
		{"testdata/json/mtr-json/mtr_json_1.json", FormatMtrJSON},
		{"testdata/json/mtr-json/mtr_json_2.json", FormatMtrJSON},
		{"testdata/json/mtr-json/mtr_json_flat.json", FormatMtrJSON},
		{"testdata/json/mtr-json/mtr_json_flat_asn.json", FormatMtrJSON},
		{"testdata/json/napalm/junos/traceroute.xml", FormatJunosXML},
		{"testdata/json/napalm/iosxr_netconf/traceroute-act_traceroute.xml", FormatIOSXRXML},
		{"testdata/json/interchange/golden.jsonl", FormatGeoloc},
	}
	for _, f := range files {
		t.Run(f.path, func(t *testing.T) {
			data, err := os.ReadFile(f.path)
			require.NoError(t, err)
			assert.Equal(t, f.format, jsDetect(data))
		})
	}
	inline := []struct{ name, in, format string }{
		{"atlas object", `{"fw":4790,"lts":12,"dst_addr":"192.0.2.9","result":[{"hop":1,"result":[{"x":"*"}]}],"prb_id":1,"type":"traceroute"}`, FormatRIPEAtlas},
		{"atlas array", ` [ {"type":"traceroute","result":[]} ]`, FormatRIPEAtlas},
		{"atlas, type last and result huge", `{"fw":5080,"result":[` + strings.Repeat(`{"hop":1,"result":[{"x":"*"}]},`, 5000), FormatRIPEAtlas},
		{"scamper from sc_warts2json", `{"type":"cycle-start","list_name":"default","id":1,"hostname":"vp","start_time":1}`, FormatScamperJSON},
		{"scamper trace line", `{"type":"trace","version":"0.1","src":"192.0.2.1","dst":"192.0.2.9","hops":[]}`, FormatScamperJSON},
		{"NX-API", `{"ins_api":{"outputs":{"output":{"body":"x"}}}}`, FormatNXOSJSON},
		{"NX-API JSON-RPC", `{"jsonrpc":"2.0","result":{"msg":"x"},"id":1}`, FormatNXOSJSON},
		{"interchange", `{"format":"geoloc","hops":[]}`, FormatGeoloc},
		{"interchange without format", `{"destination":{"addr":"192.0.2.9"},"hops":[{"ttl":1}]}`, FormatGeoloc},
		// mtr's flat form (issue 13 item 5), and what looks like it.
		{"mtr flat", `{"src":"probe.example","dst":"192.0.2.9","hops":[{"hop":1,"ipaddr":"192.0.2.1","host":"unresolved","best":0.4}]}`, FormatMtrJSON},
		{"mtr flat, pretty", "{\n  \"src\": \"p\",\n  \"dst\": \"192.0.2.9\",\n  \"hops\": [\n    {\n      \"hop\": 1,\n      \"ipaddr\": \"???\"\n    }\n  ]\n}\n", FormatMtrJSON},
		{"mtr flat, no hop yet", `{"src":"p","dst":"192.0.2.9","tos":"0x0","packetsize":64,"bitpattern":"0x00","packets":10,"hops":[]}`, FormatMtrJSON},
		{"mtr flat keys, scamper type", `{"type":"trace","src":"192.0.2.1","dst":"192.0.2.9","hops":[{"hop":1,"ipaddr":"192.0.2.1"}]}`, FormatScamperJSON},
		{"src, dst and hops alone", `{"src":"192.0.2.1","dst":"192.0.2.9","hops":[{"ttl":1}]}`, ""},
		{"interchange with an ipaddr name", `{"format":"geoloc","hops":[{"ttl":1,"probes":[{"addr":"192.0.2.1","name":"ipaddr"}]}]}`, FormatGeoloc},
		// Not ours (or not a traceroute at all).
		{"jc traceroute JSON", `{"destination_ip":"8.8.8.8","destination_name":"8.8.8.8","hops":[{"hop":1,"probes":[]}]}`, ""},
		{"atlas ping", `{"fw":4790,"type":"ping","result":[{"rtt":1}]}`, FormatRIPEAtlasPing},
		{"atlas ping, firmware 1 (no type)", `{"addr":"192.0.2.9","avg":20.1,"dup":0,"from":"198.51.100.1","fw":1,"max":20.3,"min":19.9,"msm_id":1000047,"prb_id":165,"rcvd":3,"sent":3}`, FormatRIPEAtlasPing},
		{"globalping", `{"id":"x","type":"mtr","status":"finished","createdAt":"2023-07-14T18:33:15.039Z","target":"t","probesCount":1,"results":[]}`, FormatGlobalping},
		{"atlas dns", `{"fw":4790,"type":"dns","result":{"rt":1}}`, ""},
		{"empty array", `[]`, ""},
		{"other XML", `<?xml version="1.0"?><kml/>`, ""},
		{"JSON scalar", `"traceroute"`, ""},
	}
	for _, tc := range inline {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.format, jsDetect([]byte(tc.in)))
		})
	}
	// M-Lab annotations next to the traces: no format, one clear error.
	data, err := os.ReadFile("testdata/json/mlab-scamper/annotations-incomplete.json")
	require.NoError(t, err)
	_, errs := jsReadAll(t, data, ReadOptions{Input: "annotations.json"})
	require.Len(t, errs, 1)
	assert.True(t, errors.Is(errs[0], ErrUnknownFormat))
}

// jsDetect returns the name of the structured format whose detector
// accepts data (as Read would see its head), or "".
func jsDetect(data []byte) string {
	head := []byte(strings.TrimLeft(string(data), " \t\r\n"))
	if len(head) > detectSize {
		head = head[:detectSize]
	}
	for _, f := range jsonFormats {
		if f.detect(head) {
			return f.name
		}
	}
	return ""
}
