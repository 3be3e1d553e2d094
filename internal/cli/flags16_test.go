package cli

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestFlagRangesAtParseTime is issue 16 item 9: --dns values were not
// checked, ranges exited 1 (or not at all: --rate 1e-9 waited for good),
// --rate -1, NaN and --probe-timeout -1s were taken. Every such value is a
// usage error (exit 2) naming the allowed range, before anything runs.
// Every target is 127.0.0.1, so that a check that stopped working would
// trace loopback and nothing else.
func TestFlagRangesAtParseTime(t *testing.T) {
	tests := []struct {
		args string
		want string
	}{
		{"trace --port 70000 127.0.0.1", "--port 70000: want 1..65535"},
		{"trace --port 0 127.0.0.1", "--port 0: want 1..65535"},
		{"trace --flows 70000 127.0.0.1", "--flows 70000: want 1..256"},
		{"trace --queries 100000 127.0.0.1", "--queries 100000: want 1..100 probes per hop"},
		{"trace --max-ttl 255 --queries 100 --flows 10 127.0.0.1", "= 255000 probes per trace: at most 65520"},
		{"trace --rate -1 127.0.0.1", "--rate -1: want 1..100000 probes per second"},
		{"trace --rate NaN 127.0.0.1", "--rate NaN: want 1..100000 probes per second"},
		{"trace --rate 1e-9 127.0.0.1", "--rate 1e-09: want 1..100000 probes per second"},
		{"trace --rate +Inf 127.0.0.1", "--rate +Inf: want 1..100000"},
		{"trace --probe-timeout -1s 127.0.0.1", "--probe-timeout -1s: want 1ms..1m0s"},
		{"trace --probe-timeout 2h 127.0.0.1", "--probe-timeout 2h0m0s: want 1ms..1m0s"},
		{"trace --interval NaN 127.0.0.1", "--interval NaN: want 0.05..3600 seconds"},
		{"trace --max-ttl 300 127.0.0.1", "--max-ttl 300: want 1..255"},
		{"trace --dns 'not a host:xx' 127.0.0.1", `--dns "not a host:xx": "not a host" is neither an IP address nor a host name`},
		{"trace --dns 192.0.2.53:99999 127.0.0.1", `--dns "192.0.2.53:99999": port "99999": want 1..65535`},
		{"trace --dns ns.example: 127.0.0.1", `port "": want 1..65535`},
		{"regeo --dns ns.example:0 -", `port "0": want 1..65535`},
		{"locate 127.0.0.1 --rtt 1e9 --from osl", "--rtt 1e+09: want 0..60000 ms"},
		{"locate 127.0.0.1 --rtt -1 --from osl", "--rtt -1: want 0..60000 ms"},
		{"har --parallel 0 x.har", "--parallel 0: want 1..1024"},
		{"har --timeout -5s x.har", "--timeout -5s: want 1ms..1m0s"},
		{"regeo --ping-above NaN -", "--ping-above NaN: want 0..20038 km"},
		{"regeo --ping-max 0 -", "--ping-max 0: want 1..100000 addresses"},
	}
	for _, tc := range tests {
		t.Run(tc.args, func(t *testing.T) {
			args := splitArgs(tc.args)
			r := run(t, "", nil, args...)
			assert.Equal(t, ExitUsage, r.code, r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.Contains(t, r.stderr, "--help' for usage", "the usage pointer, as for every usage error")
		})
	}
}

// splitArgs splits a command line on blanks, keeping 'quoted' words whole.
func splitArgs(s string) []string {
	var out []string
	for i, part := range strings.Split(s, "'") {
		if i%2 == 1 {
			out = append(out, part)
			continue
		}
		out = append(out, strings.Fields(part)...)
	}
	return out
}

// TestCheckDNS: what --dns accepts.
func TestCheckDNS(t *testing.T) {
	for _, ok := range []string{"", "192.0.2.53", "192.0.2.53:5353", "2001:db8::53", "[2001:db8::53]:53", "ns1.example", "ns1.example.:53", "localhost"} {
		assert.NoError(t, checkDNS(ok), ok)
	}
	for _, bad := range []string{"not a host", "not a host:xx", "192.0.2.53:99999", "ns.example:", "ns.example:-1", "[2001:db8::53]:0", "-ns.example", "ns..example", "a/b", "192.0.2.53:53:53"} {
		assert.Error(t, checkDNS(bad), bad)
	}
}
