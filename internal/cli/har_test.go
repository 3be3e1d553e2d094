package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/har"
)

// geoloc har --list on the real HARs of two browsers (Firefox/Firebug and
// Chrome), compared with golden transcripts.
func TestGoldenHARList(t *testing.T) {
	chdirRoot(t)
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"har-list-firefox", []string{"har", "--list", "testdata/har/cnn.com-firebug-firefox25-2015.har"}, ExitOK},
		{"har-list-chrome", []string{"har", "testdata/har/thegreenwebfoundation.org-chrome-har-2020.har", "--list"}, ExitOK},
		{"har-list-table", []string{"har", "--list", "--format", "table", "testdata/har/www.etat.lu-chrome-har-2018.har"}, ExitOK},
		{"har-list-two-files-one-missing", []string{"har", "--list", "testdata/har/www.etat.lu-chrome-har-2018.har", "testdata/har/missing.har"}, ExitPartial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", nil, tt.args...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			golden(t, tt.name, tt.args, r)
		})
	}
}

// Every line of --list is the documented JSON shape, and the hosts and
// request counts add up to the HAR's entries.
func TestHARListShape(t *testing.T) {
	chdirRoot(t)
	r := run(t, "", nil, "har", "--list", "-q", "testdata/har/thegreenwebfoundation.org-chrome-har-2020.har")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Empty(t, r.stderr, "-q prints no summary")
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	hosts, reqs := 0, 0
	for sc.Scan() {
		var line struct {
			Host     string   `json:"host"`
			Addrs    []string `json:"addrs"`
			Requests int      `json:"requests"`
		}
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&line), sc.Text())
		require.NotEmpty(t, line.Host)
		require.NotNil(t, line.Addrs, "addrs is [] rather than null")
		for _, a := range line.Addrs {
			_, err := netip.ParseAddr(a)
			require.NoError(t, err)
		}
		hosts++
		reqs += line.Requests
	}
	assert.Equal(t, 11, hosts)
	assert.Equal(t, 51, reqs)
}

func TestHARBroken(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cut.har")
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "har", "www.etat.lu-chrome-har-2018.har"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, b[:len(b)/2], 0o644))
	r := run(t, "", nil, "har", "--list", p)
	assert.Equal(t, ExitPartial, r.code)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	require.Len(t, lines, 2, r.stderr)
	assert.Regexp(t, `^/\S+/cut\.har:\d+: har: truncated file`, lines[0])
	assert.NotEmpty(t, r.stdout, "hosts before the cut are still written")

	r = run(t, "not a har", nil, "har", "--list", "-")
	assert.Equal(t, ExitPartial, r.code)
	assert.Contains(t, r.stderr, "-:1: har: invalid JSON")
}

// --resolve asks a DNS server the test runs on loopback, never the system's.
func TestHARListResolve(t *testing.T) {
	addr := startDNS(t, map[string][]string{
		"www.etat.lu.":        {"192.0.2.10", "2001:db8::10"},
		"www.etat.public.lu.": {"194.154.200.74"},
		// cdn.public.lu is missing: NXDOMAIN.
	})
	chdirRoot(t)
	r := run(t, "", nil, "har", "--list", "--resolve", "--dns", addr, "testdata/har/www.etat.lu-chrome-har-2018.har")
	require.Equal(t, ExitOK, r.code, r.stderr)
	assert.Equal(t, `{"host":"www.etat.lu","addrs":["194.154.200.74","192.0.2.10","2001:db8::10"],"requests":1,"resolved":["192.0.2.10","2001:db8::10"]}
{"host":"www.etat.public.lu","addrs":["194.154.200.74"],"requests":14,"resolved":["194.154.200.74"]}
{"host":"cdn.public.lu","addrs":["185.106.24.23"],"requests":7,"dns_error":"no such host"}
`, r.stdout)
	assert.Contains(t, r.stderr, "3 hosts, 22 requests, 4 distinct addresses from the HAR's serverIPAddress and DNS A/AAAA records")
}

// startDNS serves A, AAAA and PTR records on 127.0.0.1 (UDP) for the test;
// a PTR zone entry ("1.100.51.198.in-addr.arpa.") maps to names.
func startDNS(t *testing.T, zone map[string][]string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		addrs, ok := zone[strings.ToLower(q.Name)]
		if !ok {
			m.Rcode = dns.RcodeNameError
		}
		if q.Qtype == dns.TypePTR {
			for _, s := range addrs {
				m.Answer = append(m.Answer, &dns.PTR{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 60}, Ptr: s})
			}
			_ = w.WriteMsg(m)
			return
		}
		for _, s := range addrs {
			a := netip.MustParseAddr(s)
			hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 60}
			switch {
			case q.Qtype == dns.TypeA && a.Is4():
				hdr.Rrtype = dns.TypeA
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: a.AsSlice()})
			case q.Qtype == dns.TypeAAAA && a.Is6():
				hdr.Rrtype = dns.TypeAAAA
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: a.AsSlice()})
			}
		}
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

// A HAR past the Summary's bounds (issue 16: nothing unbounded) lists the
// first hosts, says how many entries it skipped, and exits 1.
func TestHARPastBounds(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"log":{"entries":[`)
	for i := range har.MaxHosts + 5 {
		fmt.Fprintf(&b, `{"request":{"url":"https://h%d.example/"},"serverIPAddress":"192.0.2.1"},`, i)
	}
	for i := range har.MaxInvalidListed + 3 {
		fmt.Fprintf(&b, `{"request":{"url":"https://bad!%d.example/"}},`, i)
	}
	b.WriteString(`{}]}}`)
	r := run(t, b.String(), nil, "har", "--list", "-q", "-")
	assert.Equal(t, ExitPartial, r.code)
	assert.Equal(t, har.MaxHosts, strings.Count(r.stdout, "\n"), "one line per listed host")
	assert.Equal(t, har.MaxInvalidListed, strings.Count(r.stderr, "(entry skipped)"))
	assert.Contains(t, r.stderr, "-: 3 more entries with an invalid host name skipped\n")
	assert.Contains(t, r.stderr, fmt.Sprintf("-: 5 entries of hosts past the first %d skipped", har.MaxHosts))
}
