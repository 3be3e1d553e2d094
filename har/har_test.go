package har

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The real HARs in testdata/har (see testdata/SOURCES.md for their origin).
func TestHostsRealHARs(t *testing.T) {
	tests := []struct {
		file                         string
		entries, hosts, ipv6, noAddr int // ipv6 counts (host, address) pairs
		first                        string
		firstAddr                    string
	}{
		// Firebug 1.12 on Firefox 25, HAR 1.1: serverIPAddress on every entry.
		{"cnn.com-firebug-firefox25-2015.har", 145, 42, 6, 0, "cnn.com", "157.166.226.25"},
		// chrome-har on HeadlessChrome 80, HAR 1.2, IPv6 unbracketed.
		{"thegreenwebfoundation.org-chrome-har-2020.har", 51, 11, 6, 0, "thegreenwebfoundation.org", "85.17.184.227"},
		// chrome-har on Chrome 66 with redirects.
		{"www.etat.lu-chrome-har-2018.har", 22, 3, 0, 0, "www.etat.lu", "194.154.200.74"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("..", "testdata", "har", tt.file))
			require.NoError(t, err)
			defer f.Close()
			s, err := Hosts(f, Options{Input: tt.file})
			require.NoError(t, err)
			assert.Equal(t, tt.entries, s.Entries)
			assert.Equal(t, tt.noAddr, s.MissingAddr)
			assert.Len(t, s.Hosts, tt.hosts)
			v6 := 0
			reqs := 0
			for _, h := range s.Hosts {
				reqs += h.Requests
				for _, a := range h.Addrs {
					if a.Is6() {
						v6++
					}
				}
			}
			assert.Equal(t, tt.ipv6, v6, "distinct (host, IPv6 address) pairs")
			assert.Equal(t, tt.entries-s.Skipped, reqs, "every entry with a host is counted once")
			require.NotEmpty(t, s.Hosts)
			assert.Equal(t, tt.first, s.Hosts[0].Name)
			if tt.firstAddr != "" {
				assert.Contains(t, s.Hosts[0].Addrs, netip.MustParseAddr(tt.firstAddr))
			}
		})
	}
}

func TestEntriesShapes(t *testing.T) {
	tests := []struct {
		name  string
		har   string
		hosts []Host
	}{
		{
			name: "bracketed IPv6, port, fractional time",
			har: `{"log":{"version":"1.2","entries":[
			 {"time":12.345,"request":{"url":"https://a.example/x"},"serverIPAddress":"[2001:db8::1]"},
			 {"time":0.5,"request":{"url":"https://A.Example:8443/y"},"serverIPAddress":"[2001:db8::2]:8443"},
			 {"request":{"url":"http://b.example/"},"serverIPAddress":"192.0.2.7:80"}]}}`,
			hosts: []Host{
				{Name: "a.example", Addrs: addrs("2001:db8::1", "2001:db8::2"), Requests: 2},
				{Name: "b.example", Addrs: addrs("192.0.2.7"), Requests: 1},
			},
		},
		{
			// PhantomJS's netsniff.js writes no serverIPAddress and integer
			// times; the entries still name their hosts.
			name: "no serverIPAddress (PhantomJS shape)",
			har: `{"log":{"version":"1.2","creator":{"name":"PhantomJS","version":"2.1.1"},"pages":[{"id":"p"}],
			 "entries":[{"startedDateTime":"2016-01-01T00:00:00.000Z","time":238,"request":{"method":"GET","url":"http://c.example/"},"response":{"status":200,"content":{"size":10}}},
			            {"time":3,"request":{"url":"data:image/png;base64,AAAA"}},
			            {"time":4,"request":{"url":"http://[2001:db8::9]/x"},"serverIPAddress":""}]}}`,
			hosts: []Host{
				{Name: "c.example", Addrs: addrs(), Requests: 1},
				{Name: "2001:db8::9", Addrs: addrs("2001:db8::9"), Requests: 1},
			},
		},
		{
			name: "entries before log keys, IPv4-mapped address, null serverIPAddress",
			har: `{"other":[1,2,{"x":"y"}],"log":{"entries":[
			 {"request":{"url":"https://d.example/"},"serverIPAddress":"::ffff:198.51.100.3"},
			 {"request":{"url":"https://d.example/2"},"serverIPAddress":null}],"pages":[]}}`,
			hosts: []Host{{Name: "d.example", Addrs: addrs("198.51.100.3"), Requests: 2}},
		},
		{name: "empty entries", har: `{"log":{"entries":[]}}`, hosts: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Hosts(strings.NewReader(tt.har), Options{Input: "t.har"})
			require.NoError(t, err)
			assert.Equal(t, tt.hosts, s.Hosts)
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, har, want string
	}{
		{"empty", ``, "t.har:1: har: truncated file"},
		{"not an object", `[1,2]`, `t.har:1: har: HAR file must be a JSON object`},
		{"no log", `{"x":1}`, `t.har:1: har: no "log" object`},
		{"no entries", "{\"log\":{\n\"pages\":[]}}", `t.har:2: har: "log" has no "entries" array`},
		{"entries not array", `{"log":{"entries":{}}}`, `"entries": want "["`},
		{"truncated entry", "{\"log\":{\"entries\":[\n{\"request\":{\"url\":\"http://a.example/\"}},\n{\"request\":", "t.har:3: har: truncated file"},
		{"bad json", "{\"log\":{\"entries\":[\n{\"request\" 1}]}}", "t.har:2: har: invalid JSON"},
		{"bad url type", `{"log":{"entries":[{"request":{"url":5}}]}}`, "t.har:1: har: entries[0].request.url: expected a string, got a number"},
		{"request is a string", `{"log":{"entries":[{"request":{"url":"http://a/"}},{},{},{"request":"x"}]}}`, "t.har:1: har: entries[3].request: expected an object, got a string"},
		{"entries of strings", `{"log":{"entries":["x"]}}`, "t.har:1: har: entries[0]: expected an object, got a string"},
		{"request is an array", `{"log":{"entries":[{"request":[]}]}}`, "entries[0].request: expected an object, got an array"},
		{"url is a bool", `{"log":{"entries":[{"request":{"url":true}}]}}`, "entries[0].request.url: expected a string, got true or false"},
		{"bad addr type", `{"log":{"entries":[{"request":{"url":"http://a/"},"serverIPAddress":5}]}}`, "entry 0: serverIPAddress is 5, not a string"},
		{"binary", "\x00\x01\x02", "t.har:1: har: invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Hosts(strings.NewReader(tt.har), Options{Input: "t.har"})
			require.Error(t, err)
			var se *SyntaxError
			require.True(t, errors.As(err, &se), "error type %T", err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "\n", "one-line error")
			assert.NotContains(t, err.Error(), "struct", "no Go types in messages")
		})
	}
}

// An entry whose URL has an invalid host name is reported with its
// position and skipped; the other entries still count.
func TestInvalidHosts(t *testing.T) {
	long := strings.Repeat("a", 60) + "."
	tests := []struct {
		name, host string
		want       string // "" = valid
	}{
		{"ordinary", "www.example.org", ""},
		{"underscore", "_dmarc.example.org", ""},
		{"ip4", "192.0.2.1", ""},
		{"ip6", "[2001:db8::1]", ""},
		{"idn", "bücher.example", ""},
		{"punycode", "xn--bcher-kva.example", ""},
		{"253", strings.Repeat(long, 4) + strings.Repeat("b", 9), ""},
		{"254", strings.Repeat(long, 4) + strings.Repeat("b", 10), "host name of 254 bytes: longer than 253"},
		{"50MB", strings.Repeat("a", 50<<20), "host name of over 1048568 bytes: longer than 253"}, // the URL is read up to maxString
		{"label-64", strings.Repeat("c", 64) + ".example", "a label of 64 bytes, longer than 63"},
		{"empty-label", "a..example", "empty label"},
		{"bad-char", "a!b.example", `'!' is no host-name character`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := `{"log":{"entries":[{"request":{"url":"http://ok.example/"}},` + "\n" +
				`{"request":{"url":"https://` + tt.host + `/x"}},{"request":{"url":"http://ok2.example/"}}]}}`
			s, err := Hosts(strings.NewReader(in), Options{Input: "t.har"})
			require.NoError(t, err)
			assert.Equal(t, 3, s.Entries)
			names := []string{}
			for _, h := range s.Hosts {
				names = append(names, h.Name)
			}
			if tt.want == "" {
				assert.Empty(t, s.Invalid)
				assert.Len(t, names, 3)
				return
			}
			assert.Equal(t, []string{"ok.example", "ok2.example"}, names)
			require.Len(t, s.Invalid, 1)
			msg := s.Invalid[0].Error()
			assert.True(t, strings.HasPrefix(msg, "t.har:2: har: entries[1].request.url: "), msg)
			assert.Contains(t, msg, tt.want)
			assert.Less(t, len(msg), 300, "the host is clipped in the message")
			var se *SyntaxError
			assert.ErrorAs(t, s.Invalid[0], &se)
		})
	}
}

func TestEntriesBeforeErrorAreKept(t *testing.T) {
	har := `{"log":{"entries":[{"request":{"url":"http://a.example/"},"serverIPAddress":"192.0.2.1"},{"request":`
	var got []string
	var gotErr error
	for e, err := range Entries(strings.NewReader(har), Options{}) {
		if err != nil {
			gotErr = err
			break
		}
		got = append(got, e.Host)
	}
	assert.Equal(t, []string{"a.example"}, got)
	require.Error(t, gotErr)
	assert.Contains(t, gotErr.Error(), "-:1: har:")
}

func TestParseServerAddr(t *testing.T) {
	tests := map[string]string{
		"192.0.2.1":          "192.0.2.1",
		" 192.0.2.1 ":        "192.0.2.1",
		"2001:db8::1":        "2001:db8::1",
		"[2001:db8::1]":      "2001:db8::1",
		"[2001:db8::1]:443":  "2001:db8::1",
		"192.0.2.1:443":      "192.0.2.1",
		"::ffff:192.0.2.1":   "192.0.2.1",
		"fe80::1%eth0":       "fe80::1%eth0",
		"":                   "invalid IP",
		"example.com":        "invalid IP",
		"[not-an-address]":   "invalid IP",
		"300.1.1.1":          "invalid IP",
		"[2001:db8::1":       "invalid IP",
		"2001:db8::1]":       "invalid IP",
		"<script>":           "invalid IP",
		"192.0.2.1:notaport": "192.0.2.1",
	}
	for in, want := range tests {
		assert.Equal(t, want, ParseServerAddr(in).String(), in)
	}
}

// A large HAR (big embedded responses) streams: the test only checks that
// every entry comes out; the benchmark below reports the throughput.
func TestLargeHAR(t *testing.T) {
	data := bigHAR(2000, 4096)
	s, err := Hosts(bytes.NewReader(data), Options{})
	require.NoError(t, err)
	assert.Equal(t, 2000, s.Entries)
	assert.Len(t, s.Hosts, 52)
}

func BenchmarkHosts(b *testing.B) {
	data := bigHAR(5000, 8192)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := Hosts(bytes.NewReader(data), Options{})
		if err != nil || s.Entries != 5000 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(5000*b.N)/b.Elapsed().Seconds(), "entries/s")
}

func bigHAR(n, contentBytes int) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"log":{"version":"1.2","creator":{"name":"bench"},"entries":[`)
	body := strings.Repeat("x", contentBytes)
	for i := range n {
		if i > 0 {
			buf.WriteString(",\n")
		}
		host := "h" + string(rune('a'+i%26)) + string(rune('a'+(i/26)%2)) + ".example"
		buf.WriteString(`{"startedDateTime":"2020-01-01T00:00:00.000Z","time":12.5,"request":{"method":"GET","url":"https://` + host + `/p","headers":[{"name":"a","value":"b"}]},"response":{"status":200,"content":{"size":1,"text":"` + body + `"}},"serverIPAddress":"192.0.2.` + string(rune('1'+i%9)) + `","timings":{"wait":1.25}}`)
	}
	buf.WriteString(`]}}`)
	return buf.Bytes()
}

func addrs(ss ...string) []netip.Addr {
	out := []netip.Addr{}
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// An error deep in a large HAR names its line, however much the reader
// has read ahead.
func TestErrorLineFarIn(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"log":{"entries":[` + "\n")
	for i := range 5000 {
		fmt.Fprintf(&b, `{"request":{"url":"https://h%d.example/"},"serverIPAddress":"192.0.2.1"},`+"\n", i)
	}
	b.WriteString(`{"request":5},` + "\n" + strings.Repeat(`{"request":{"url":"https://x.example/"}},`+"\n", 2000) + `{}]}}`)
	_, err := Hosts(strings.NewReader(b.String()), Options{Input: "t.har"})
	require.Error(t, err)
	assert.Equal(t, "t.har:5002: har: entries[5000].request: expected an object, got a number", err.Error())
}
