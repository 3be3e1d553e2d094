package traceroute

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hand-made inputs for cases the corpus does not cover. Each is shaped on
// the tool's documented output.

func TestJSONAtlasCases(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, tr *Trace)
		err   string
	}{
		{name: "name resolution failed (sagan test_missing_dst_addr)",
			in: `{"af":4,"dst_name":"syndication.exoclick.com","from":"89.216.30.6","fw":4720,"prb_id":22586,"proto":"ICMP","result":[{"error":"name resolution failed: non-recoverable failure in name resolution (1)"}],"timestamp":1446563590,"type":"traceroute"}`,
			check: func(t *testing.T, tr *Trace) {
				assert.False(t, tr.Destination.Addr.IsValid())
				assert.Equal(t, "syndication.exoclick.com", tr.Destination.Name)
				assert.Equal(t, "name resolution failed: non-recoverable failure in name resolution (1)", tr.Error)
				assert.Empty(t, tr.Hops)
			}},
		{name: "error codes, TCP, option and unknown fields",
			in: `{"type":"traceroute","prb_id":1,"dst_addr":"2001:db8::9","proto":"TCP","result":[{"hop":1,"result":[
{"from":"2001:db8::1","rtt":1,"ttl":64,"err":"N"},{"from":"2001:db8::1","rtt":2,"err":"A"},{"from":"2001:db8::1","rtt":3,"err":"h"},
{"from":"2001:db8::1","rtt":4,"err":"p"},{"from":"2001:db8::1","rtt":5,"err":13},{"from":"2001:db8::9","rtt":6,"flags":"SA","hdropts":[{"mss":1400}],"dup":true}]}]}`,
			check: func(t *testing.T, tr *Trace) {
				assert.Equal(t, "tcp", tr.Protocol)
				require.Len(t, tr.Hops, 1)
				var flags []string
				for _, p := range tr.Hops[0].Probes {
					flags = append(flags, strings.Join(p.Flags, ","))
				}
				assert.Equal(t, []string{"!N", "!X", "!S", "!p", "!13", ""}, flags)
				assert.Equal(t, 64, tr.Hops[0].Probes[0].ReplyTTL)
			}},
		{name: "MPLS stack of two labels, newer icmpext",
			in: `{"type":"traceroute","result":[{"hop":3,"result":[{"from":"192.0.2.3","rtt":7.5,"icmpext":{"version":2,"rfc4884":1,"obj":[{"class":1,"type":1,"mpls":[{"label":16010,"exp":0,"s":0,"ttl":254},{"label":24005,"exp":5,"s":1,"ttl":1}]},{"class":2,"type":1}]}}]}]}`,
			check: func(t *testing.T, tr *Trace) {
				assert.Equal(t, []MPLSLabel{{Label: 16010, TTL: 254}, {Label: 24005, TC: 5, S: true, TTL: 1}}, tr.Hops[0].Probes[0].MPLS)
			}},
		{name: "single object spread over lines, null fields",
			in: "{\n \"type\": \"traceroute\",\n \"dst_addr\": null,\n \"from\": null,\n \"src_addr\": \"192.0.2.7\",\n \"result\": [ {\"hop\": 1, \"result\": [ {\"x\": \"*\"} ] } ]\n}\n",
			check: func(t *testing.T, tr *Trace) {
				assert.Equal(t, "192.0.2.7", tr.Source.Addr.String())
				assert.True(t, tr.Hops[0].Probes[0].Lost)
			}},
		{name: "dst_name is another address than dst_addr", in: `{"type":"traceroute","dst_addr":"192.0.2.9","dst_name":"192.0.2.10","result":[]}`,
			check: func(t *testing.T, tr *Trace) { assert.Equal(t, "192.0.2.10", tr.Destination.Name) }},
		{name: "empty object", in: `[{"type":"traceroute","result":[]},{}]`, err: `in:1: ripe-atlas: not a RIPE Atlas traceroute result`},
		{name: "not a traceroute", in: `[{"type":"traceroute","result":[]},{"type":"dns","prb_id":1,"result":{"rt":1}}]`, err: `in:1: ripe-atlas: not a traceroute result (type "dns")`},
		{name: "bad address", in: `{"type":"traceroute","result":[{"hop":1,"result":[{"from":"192.0.2.300","rtt":1}]}]}`, err: `in:1: ripe-atlas: column 59: packet from "192.0.2.300"`},
		{name: "hop out of range", in: `{"type":"traceroute","result":[{"hop":256,"result":[]}]}`, err: "hop 256 out of range"},
		{name: "MPLS label too large", in: `{"type":"traceroute","result":[{"hop":1,"result":[{"from":"192.0.2.1","rtt":1,"icmpext":{"obj":[{"class":1,"type":1,"mpls":[{"label":1048576}]}]}}]}]}`, err: "MPLS label 1048576 out of range"},
		{name: "timestamp beyond year 9999", in: `{"type":"traceroute","timestamp":253402300800,"result":[]}`, err: "timestamp 253402300800 out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			traces, errs := jsReadAll(t, []byte(tc.in), ReadOptions{Input: "in"})
			if tc.err != "" {
				require.Len(t, errs, 1)
				assert.Contains(t, errs[0].Error(), tc.err)
				assert.LessOrEqual(t, len(traces), 1)
				return
			}
			require.Empty(t, errs)
			require.Len(t, traces, 1)
			assert.Equal(t, FormatRIPEAtlas, traces[0].Format)
			tc.check(t, traces[0])
		})
	}
}

func TestJSONScamperCases(t *testing.T) {
	in := `{"type":"cycle-start","list_name":"default","id":1,"hostname":"vp","start_time":1700000000}
{"type":"trace","version":"0.1","method":"udp-paris","src":"192.0.2.7","dst":"203.0.113.9","start":{"sec":1700000000,"usec":5},"hop_count":4,"firsthop":2,
 "hops":[{"addr":"198.51.100.2","probe_ttl":2,"rtt":1.5,"reply_ttl":254,"icmp_type":11,"icmp_code":0,
   "icmpext":[{"ie_cn":1,"ie_ct":1,"ie_dl":4,"mpls_ext":[{"mpls_ttl":1,"mpls_s":1,"mpls_exp":0,"mpls_label":24001}]}]},
  {"addr":"198.51.100.4","probe_ttl":4,"rtt":9.25,"icmp_type":3,"icmp_code":13}]}
{"type":"ping","src":"192.0.2.7","dst":"203.0.113.9"}
{"type":"cycle-stop","list_name":"default","id":1,"hostname":"vp","stop_time":1700000100}
{"type":"trace","method":"tcp","dst":"2001:db8::9","hops":[{"addr":"2001:db8::1","probe_ttl":1,"rtt":"fast"}]}
`
	traces, errs := jsReadAll(t, []byte(in), ReadOptions{Input: "sc.jsonl"})
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "sc.jsonl:8: scamper-json: column ")
	assert.Contains(t, errs[0].Error(), "field hops.rtt: JSON string where a number is expected")
	require.Len(t, traces, 1)
	tr := traces[0]
	assert.Equal(t, "udp", tr.Protocol)
	assert.Equal(t, 5000, tr.Started.Nanosecond())
	require.Len(t, tr.Hops, 3, "TTLs 2..4 from firsthop to hop_count")
	assert.Equal(t, []int{2, 3, 4}, []int{tr.Hops[0].TTL, tr.Hops[1].TTL, tr.Hops[2].TTL})
	assert.Equal(t, []MPLSLabel{{Label: 24001, S: true, TTL: 1}}, tr.Hops[0].Probes[0].MPLS)
	assert.Empty(t, tr.Hops[1].Probes)
	assert.Equal(t, []string{"!X"}, tr.Hops[2].Probes[0].Flags)
}

func TestJSONNapalmXMLCases(t *testing.T) {
	junos := `<rpc-reply><traceroute-results><target-host>www.example.org</target-host><target-ip>2001:db8::9</target-ip>
<hop><ttl-value>1</ttl-value><probe-result><probe-index>1</probe-index><ip-address>2001:db8::1</ip-address><host-name>2001:db8::1</host-name><rtt>1500</rtt><probe-success/></probe-result>
<probe-result><probe-index>2</probe-index><probe-timeout/></probe-result></hop>
<hop><ttl-value>2</ttl-value><probe-result><probe-index>1</probe-index><ip-address>2001:db8::9</ip-address>
<icmp-type integer-type-value="1"><icmp6-dst-unreach/></icmp-type><icmp-code integer-code-value="1"><icmp6-admin-prohibited/></icmp-code><rtt>2250</rtt></probe-result></hop>
<traceroute-success/></traceroute-results></rpc-reply>
<rpc-reply><traceroute-results><target-ip>192.0.2.9</target-ip><hop><ttl-value>1</ttl-value><probe-result><ip-address>192.0.2.1</ip-address><rtt>100</rtt></probe-result></hop></traceroute-results></rpc-reply>`
	traces, errs := jsReadAll(t, []byte(junos), ReadOptions{Input: "j.xml"})
	require.Empty(t, errs)
	require.Len(t, traces, 2, "appended replies are several traces")
	tr := traces[0]
	assert.Equal(t, "www.example.org", tr.Destination.Name)
	assert.Equal(t, netip.MustParseAddr("2001:db8::9"), tr.Destination.Addr)
	require.Len(t, tr.Hops, 2)
	assert.Equal(t, Probe{Addr: netip.MustParseAddr("2001:db8::1"), RTTMs: 1.5}, tr.Hops[0].Probes[0])
	assert.Equal(t, Probe{Lost: true}, tr.Hops[0].Probes[1])
	assert.Equal(t, []string{"!X"}, tr.Hops[1].Probes[0].Flags)
	assertRTTms(t, 0.1, traces[1].Hops[0].Probes[0].RTTMs)

	_, errs = jsReadAll(t, []byte(`<rpc-reply><traceroute-results><hop><ttl-value>1</ttl-value><probe-result><rtt>abc</rtt></probe-result></hop></traceroute-results></rpc-reply>`), ReadOptions{Input: "j.xml"})
	require.Len(t, errs, 1)
	assert.Equal(t, `j.xml:1: junos-xml: rtt: bad number "abc"`, errs[0].Error())

	_, errs = jsReadAll(t, []byte("<rpc-reply><traceroute-results>\n<hop><ttl-value>1</ttl-value></hop>\n<oops"), ReadOptions{Input: "j.xml"})
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "j.xml:3: junos-xml: ")

	iosxr := `<rpc-reply><traceroute-response xmlns="http://cisco.com/ns/yang/Cisco-IOS-XR-traceroute-act"><ipv6><destination>2001:db8::9</destination><hops>
<hop><hop-index>1</hop-index><hop-address>2001:db8::1</hop-address><probes><probe><probe-index>0</probe-index><delta-time>3</delta-time></probe><probe><probe-index>1</probe-index><result>*</result></probe></probes></hop>
</hops></ipv6></traceroute-response></rpc-reply>`
	traces, errs = jsReadAll(t, []byte(iosxr), ReadOptions{})
	require.Empty(t, errs)
	require.Len(t, traces, 1)
	assert.Equal(t, FormatIOSXRXML, traces[0].Format)
	assert.Equal(t, []Probe{{Addr: netip.MustParseAddr("2001:db8::1"), RTTMs: 3}, {Lost: true}}, traces[0].Hops[0].Probes)
}

func assertRTTms(t *testing.T, want, got float64) {
	t.Helper()
	jsAssertRTT(t, want, got)
}

func TestJSONNXAPICases(t *testing.T) {
	tests := []struct{ name, in, err string }{
		{"NX-API error", `{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params"},"id":1}`, "NX-API error: Invalid params"},
		{"structured body", `{"ins_api":{"outputs":{"output":{"input":"traceroute 1.1.1.1","body":{"TABLE_hop":[]}}}}}`, "NX-OS has no structured traceroute output"},
		{"empty body", `{"ins_api":{"outputs":{"output":{"input":"traceroute 1.1.1.1","msg":"Success","body":""}}}}`, "empty NX-API body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			traces, errs := jsReadAll(t, []byte(tc.in), ReadOptions{Input: "nx.json"})
			assert.Empty(t, traces)
			require.Len(t, errs, 1)
			assert.Contains(t, errs[0].Error(), "nx.json:1: nxos-json: ")
			assert.Contains(t, errs[0].Error(), tc.err)
		})
	}
}

// TestJSONMtrFlatCases: the flat form of mtr --json (issue 13 item 5) in
// the cases its fixtures leave out.
func TestJSONMtrFlatCases(t *testing.T) {
	const head = `{"src":"p","dst":"192.0.2.9","packets":10,"hops":[`
	tests := []struct {
		name, hops string
		want       []Stats
		err        string
	}{
		{name: "no sent: the run's packets; loss from received",
			hops: `{"hop":1,"ipaddr":"192.0.2.1","received":8,"best":1.5}`,
			want: []Stats{{Addr: netip.MustParseAddr("192.0.2.1"), Sent: 10, LossPct: 20, MinMs: 1.5}}},
		{name: "host repeats the address; numbers as strings",
			hops: `{"hop":"1","ipaddr":"192.0.2.1","host":"192.0.2.1","sent":"10","losspercent":"0.0","best":"1.5"}`,
			want: []Stats{{Addr: netip.MustParseAddr("192.0.2.1"), Sent: 10, MinMs: 1.5}}},
		{name: "address only in host (mtr -b style)",
			hops: `{"hop":1,"ipaddr":"","host":"r1.example (192.0.2.1)","sent":10,"losspercent":0}`,
			want: []Stats{{Addr: netip.MustParseAddr("192.0.2.1"), Name: "r1.example", Sent: 10}}},
		{name: "two addresses at one hop",
			hops: `{"hop":1,"ipaddr":"192.0.2.1","sent":10,"losspercent":50},{"hop":1,"ipaddr":"192.0.2.2","sent":10,"losspercent":50}`,
			want: []Stats{{Addr: netip.MustParseAddr("192.0.2.1"), Sent: 10, LossPct: 50}, {Addr: netip.MustParseAddr("192.0.2.2"), Sent: 10, LossPct: 50}}},
		{name: "no reply, empty ipaddr", hops: `{"hop":1,"ipaddr":"","host":"","sent":10,"losspercent":100}`,
			want: []Stats{{Sent: 10, LossPct: 100}}},
		{name: "hop 0", hops: `{"hop":0,"ipaddr":"192.0.2.1"}`, err: `in:1: mtr-json: hops[0]: bad hop number 0`},
		{name: "hop missing", hops: `{"ipaddr":"192.0.2.1"}`, err: `in:1: mtr-json: hops[0]: bad hop number 0`},
		{name: "hop 1.5", hops: `{"hop":1.5,"ipaddr":"192.0.2.1"}`, err: `hops[0]: bad hop number 1.5`},
		{name: "loss over 100", hops: `{"hop":1,"ipaddr":"192.0.2.1","losspercent":101}`, err: `hops[0]: loss 101% is impossible`},
		{name: "negative sent", hops: `{"hop":1,"ipaddr":"192.0.2.1","sent":-1}`, err: `hops[0]: impossible packet count -1`},
		{name: "negative time", hops: `{"hop":1,"ipaddr":"192.0.2.1","best":-0.5}`, err: `hops[0]: negative time -0.5 ms`},
		{name: "name in ipaddr", hops: `{"hop":1,"ipaddr":"r1.example"}`, err: `hops[0]: ipaddr "r1.example" is no address`},
		{name: "host and ipaddr disagree", hops: `{"hop":1,"ipaddr":"192.0.2.1","host":"192.0.2.2"}`, err: `hops[0]: host "192.0.2.2" and ipaddr "192.0.2.1" disagree`},
		{name: "hop not a number", hops: `{"hop":"x","ipaddr":"192.0.2.1"}`, err: `in:1: mtr-json: want a number, found "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := head + tc.hops + "]}\n"
			traces, errs := jsReadAll(t, []byte(in), ReadOptions{Input: "in", Format: FormatMtrJSON})
			if tc.err != "" {
				require.Len(t, errs, 1)
				assert.Contains(t, errs[0].Error(), tc.err)
				assert.NotContains(t, errs[0].Error(), "\n")
				assert.Empty(t, traces)
				return
			}
			require.Empty(t, errs)
			require.Len(t, traces, 1)
			require.Len(t, traces[0].Hops, 1)
			assert.Equal(t, tc.want, traces[0].Hops[0].Stats)
		})
	}
}
