package traceroute

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// jsFuzzSeeds adds every file matching the globs (under testdata/json) to
// the corpus.
func jsFuzzSeeds(f *testing.F, globs ...string) {
	for _, g := range globs {
		paths, err := filepath.Glob(filepath.Join("testdata/json", g))
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
}

// jsFuzzCheck reads data as format (or detected, for "") and checks what
// must hold for any input: no panic, only *ParseError errors naming the
// input, traces within the model's ranges, and every trace surviving the
// interchange round trip.
func jsFuzzCheck(t *testing.T, data []byte, format string) {
	var traces []*Trace
	for tr, err := range Read(bytes.NewReader(data), ReadOptions{Format: format, Input: "fuzz"}) {
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *ParseError: %v", err)
			}
			if pe.Input != "fuzz" || pe.Line < 0 {
				t.Fatalf("bad error position: %v", err)
			}
			continue
		}
		if tr == nil {
			t.Fatal("nil trace without an error")
		}
		for _, h := range tr.Hops {
			if h.TTL < 0 || h.TTL > 255 {
				t.Fatalf("ttl %d", h.TTL)
			}
			for _, p := range h.Probes {
				if p.Lost && p.RTTMs != 0 {
					t.Fatalf("lost probe with an RTT: %+v", p)
				}
				if math.IsNaN(p.RTTMs) || math.IsInf(p.RTTMs, 0) || p.RTTMs < 0 || p.RTTMs > MaxRTTMs {
					t.Fatalf("bad RTT %v", p.RTTMs)
				}
			}
		}
		traces = append(traces, tr)
	}
	if len(traces) == 0 {
		return
	}
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	for _, tr := range traces {
		if err := enc.Encode(tr); err != nil {
			t.Fatalf("encode: %v", err)
		}
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	i := 0
	for tr, err := range Read(bytes.NewReader(buf.Bytes()), ReadOptions{Format: FormatGeoloc}) {
		if err != nil {
			t.Fatalf("interchange of a parsed trace does not read back: %v\n%s", err, buf.Bytes())
		}
		if i >= len(traces) {
			t.Fatal("more traces read back than written")
		}
		want := traces[i]
		if !tr.Started.Equal(want.Started) {
			t.Fatalf("started %v != %v", tr.Started, want.Started)
		}
		tr.Started = want.Started
		var a, b bytes.Buffer
		_ = NewEncoder(&a).Encode(want)
		_ = NewEncoder(&b).Encode(tr)
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("round trip changed the trace:\n%s\n%s", a.Bytes(), b.Bytes())
		}
		i++
	}
	if i != len(traces) {
		t.Fatalf("%d traces read back, %d written", i, len(traces))
	}
}

func FuzzAtlas(f *testing.F) {
	jsFuzzSeeds(f, "ripe-atlas/*.jsonl")
	f.Add([]byte(`[{"type":"traceroute","result":[{"hop":1,"result":[{"from":"192.0.2.1","rtt":1,"late":2,"icmpext":{"obj":[{"class":1,"type":1,"mpls":[{"label":1,"s":true}]}]}}]}]}]`))
	f.Fuzz(func(t *testing.T, data []byte) { jsFuzzCheck(t, data, FormatRIPEAtlas) })
}

func FuzzScamper(f *testing.F) {
	jsFuzzSeeds(f, "mlab-scamper/scamper1/*", "mlab-scamper/scamper2/*")
	f.Fuzz(func(t *testing.T, data []byte) { jsFuzzCheck(t, data, FormatScamperJSON) })
}

func FuzzMtrJSON(f *testing.F) {
	jsFuzzSeeds(f, "mtr-json/*.json")
	// The flat form (issue 13 item 5): no reply, a name, ASNs, numbers as strings.
	f.Add([]byte(`{"src":"p","dst":"192.0.2.9","packets":"3","hops":[{"hop":1,"ipaddr":"???","host":"???","asn":"AS???","losspercent":100.0,"sent":3},{"hop":"2","ipaddr":"2001:db8::2","host":"r2.example","asn": "AS64500","received":2,"best":"1.5"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) { jsFuzzCheck(t, data, FormatMtrJSON) })
}

func FuzzNapalmJunosXML(f *testing.F) {
	jsFuzzSeeds(f, "napalm/junos/*.xml")
	f.Fuzz(func(t *testing.T, data []byte) { jsFuzzCheck(t, data, FormatJunosXML) })
}

func FuzzNapalmIOSXRXML(f *testing.F) {
	jsFuzzSeeds(f, "napalm/iosxr_netconf/*.xml")
	f.Fuzz(func(t *testing.T, data []byte) { jsFuzzCheck(t, data, FormatIOSXRXML) })
}

func FuzzNXOSJSON(f *testing.F) {
	f.Add([]byte(`{"ins_api":{"outputs":{"output":{"input":"traceroute 8.8.8.8","msg":"Success","code":"200","body":"traceroute to 8.8.8.8 (8.8.8.8), 30 hops max, 40 byte packets\n 1  192.0.2.1 (192.0.2.1)  0.743 ms  0.838 ms  0.876 ms\n      [Label=450492 E=4 TTL=1 S=1]\n 2  * * *\n"}}}}`))
	f.Add([]byte(`{"jsonrpc":"2.0","result":{"msg":" 1  192.0.2.1 (192.0.2.1)  0.743 ms\n"},"id":1}`))
	f.Fuzz(func(t *testing.T, data []byte) { jsFuzzCheck(t, data, FormatNXOSJSON) })
}

func FuzzInterchange(f *testing.F) {
	jsFuzzSeeds(f, "mtr-json/*.json", "interchange/*.jsonl")
	f.Add([]byte(`{"format":"linux-traceroute","source":{"addr":"192.0.2.7","name":"probe.example","lat":59.91,"lon":10.75,"probe_id":"6001"},"destination":{"name":"www.example.org","addr":"203.0.113.9"},"protocol":"udp","started":"2017-01-09T10:00:00Z","hops":[{"ttl":1,"probes":[{"addr":"192.0.2.1","name":"gw.example","rtt_ms":0.447,"asn":64500,"flags":["!H"],"mpls":[{"label":24001,"tc":0,"s":true,"ttl":1}]},{"lost":true}]},{"ttl":2,"stats":[{"addr":"198.51.100.1","name":"r2.example","sent":10,"loss_pct":20,"min_ms":1.9,"avg_ms":2.7,"max_ms":3.7,"stdev_ms":0.5}]}]}`))
	f.Add([]byte(`{"format":"geoloc","hops":[{"ttl":1,"probes":[{"addr":"192.0.2.1","rtt_ms":1.5,"flow":1},{"lost":true,"flow":2}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		jsFuzzCheck(t, data, FormatGeoloc)
		jsDifferential(t, data)
	})
}

// jsDifferential holds the fast interchange decoder to encoding/json (the
// reference, UnmarshalTrace): whatever the reference reads, written back in
// the canonical form the Encoder produces, both read the same.
func jsDifferential(t *testing.T, data []byte) {
	line := bytes.TrimSpace(data)
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	var d interchangeDecoder
	_, _ = d.decode(line) // must not panic on anything
	ref, err := UnmarshalTrace(line)
	if err != nil {
		return
	}
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	refOut, refErr := jsReferenceEncode(ref)
	if err := enc.Encode(ref); err != nil {
		if refErr == nil {
			t.Fatalf("Encoder fails where encoding/json does not: %v", err)
		}
		return // not representable (huge years)
	}
	_ = enc.Flush()
	if refErr != nil || !bytes.Equal(refOut, buf.Bytes()) {
		t.Fatalf("Encoder and encoding/json differ:\n%s\n%s (%v)", buf.Bytes(), refOut, refErr)
	}
	want, err := UnmarshalTrace(buf.Bytes())
	if err != nil {
		t.Fatalf("reference cannot read its own output: %v\n%s", err, buf.Bytes())
	}
	if ref, err := jsReferenceEncode(want); err != nil || !bytes.Equal(ref, buf.Bytes()) {
		t.Fatalf("Encoder and encoding/json differ:\n%s\n%s", buf.Bytes(), ref)
	}
	got, err := d.decode(bytes.TrimSpace(buf.Bytes()))
	if err != nil {
		t.Fatalf("fast decoder rejects canonical interchange: %v\n%s", err, buf.Bytes())
	}
	if !got.Started.Equal(want.Started) {
		t.Fatalf("started %v != %v", got.Started, want.Started)
	}
	got.Started = want.Started
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("decoders differ on %s:\nencoding/json %+v\nfast          %+v", buf.Bytes(), want, got)
	}
}

// FuzzJSONDetect runs format detection over the structured fixtures.
func FuzzJSONDetect(f *testing.F) {
	jsFuzzSeeds(f, "ripe-atlas/*.jsonl", "mlab-scamper/scamper2/valid-*", "mtr-json/*.json", "napalm/*/*.xml",
		"ripe-atlas-ping/*", "globalping/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { jsFuzzCheck(t, data, "") })
}
