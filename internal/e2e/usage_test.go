package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUsageErrors: a wrong command line exits 2 with one line that names
// the offending argument, writes nothing, and says where help is.
func TestUsageErrors(t *testing.T) {
	sample := repoPath("testdata/sample/ntt-tokyo-ipv6-traceroute.txt")
	city := repoPath("testdata/mmdb/GeoLite2-City-Test.mmdb")
	cases := []struct {
		name string
		args []string
		says string // the first error line contains this
	}{
		{"no-command", nil, "geoloc"},
		{"unknown-command", []string{"bogus"}, `"bogus"`},
		{"unknown-flag", []string{"parse", "--bogus", sample}, "-bogus"},
		{"parse-no-input", []string{"parse"}, "no input"},
		{"unknown-input-format", []string{"parse", "--input-format", "nope", sample}, `"nope"`},
		{"regeo-unknown-format", []string{"regeo", "--no-db", "--format", "nope", sample}, `"nope"`},
		{"regeo-unknown-place", []string{"regeo", "--no-db", "--from", "nowhere-xyzzy", sample}, "nowhere-xyzzy"},
		{"regeo-from-out-of-range", []string{"regeo", "--no-db", "--from", "91,0", sample}, "91,0"},
		{"regeo-from-nan", []string{"regeo", "--no-db", "--from", "NaN,NaN", sample}, "NaN"},
		{"regeo-bad-log-level", []string{"regeo", "--no-db", "--log-level", "loud", sample}, `"loud"`},
		{"regeo-unknown-output", []string{"regeo", "--no-db", sample, "-o", "x.xyz"}, "x.xyz"},
		{"regeo-o-without-file", []string{"regeo", "--no-db", sample, "-o"}, "-o"},
		{"regeo-no-db-and-db", []string{"regeo", "--no-db", "--db", city, sample}, "--db"},
		{"report-unknown-format", []string{"report", "--format", "nope", sample}, `"nope"`},
		{"hints-no-names", []string{"hints"}, "no names"},
		{"hints-bad-color", []string{"hints", "--color", "nope", "x.fra1.example"}, `"nope"`},
		{"har-no-file", []string{"har", "--list"}, "no HAR file"},
		{"locate-no-address", []string{"locate", "--ptr=false"}, "no address"},
		{"locate-not-an-address", []string{"locate", "--ptr=false", "example.org"}, "example.org"},
		{"locate-negative-rtt", []string{"locate", "--ptr=false", "--no-db", "--from", "fra", "--rtt", "-5", "192.0.2.1"}, "--rtt"},
		{"locate-rtt-not-a-number", []string{"locate", "--ptr=false", "--no-db", "--rtt", "abc", "192.0.2.1"}, "abc"},
		{"locate-rtt-without-from", []string{"locate", "--ptr=false", "--no-db", "--rtt", "3", "192.0.2.1"}, "--from"},
		{"locate-name-with-two", []string{"locate", "--no-db", "--name", "x.fra1.example", "192.0.2.1", "192.0.2.2"}, "--name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			r := run(t, cmdSpec{args: c.args, dir: dir})
			require.Equal(t, 2, r.code, "stderr:\n%s", clip(r.stderr))
			lines := nonEmptyLines(r.stderr)
			require.NotEmpty(t, lines)
			assert.Contains(t, lines[0], c.says)
			assert.LessOrEqual(t, len(lines), 40, "a usage error is short")
			if c.args != nil {
				assert.Empty(t, r.stdout)
				assert.Contains(t, r.stderr, "help", "points to the help")
			}
			assert.Empty(t, leftovers(t, dir), "a usage error writes nothing")
		})
	}
}

// TestHelp: every command's --help exits 0, shows examples and the exit
// statuses the other tests hold the commands to.
func TestHelp(t *testing.T) {
	r := geoloc(t, "--help")
	require.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "Exit status: 0 success; 1 some inputs failed")
	assert.Contains(t, r.stdout, "2 usage error")
	for _, c := range []string{"trace", "regeo", "locate", "har", "parse", "hints", "db", "report", "version"} {
		assert.Contains(t, r.stdout, "  "+c+" ", "command %s in the overview", c)
	}
	for _, c := range []string{"trace", "regeo", "locate", "har", "parse", "hints", "report"} {
		t.Run(c, func(t *testing.T) {
			r := geoloc(t, c, "--help")
			require.Equal(t, 0, r.code, clip(r.stderr))
			help := r.stdout + r.stderr
			assert.Contains(t, help, "Usage: geoloc "+c)
			assert.Contains(t, help, "Examples:")
			assert.Contains(t, help, "Exit status:")
		})
	}
	r = geoloc(t, "version")
	require.Equal(t, 0, r.code)
	assert.True(t, strings.HasPrefix(r.stdout, "geoloc "), r.stdout)
}

// TestBrokenDatabases: damaged MMDBs (MaxMind's deliberately broken test
// databases, a truncated and a bit-flipped copy of a good one), damaged CSV
// tables: the run stops before any work with one line naming the file and
// what is wrong, exit 1, no output file.
func TestBrokenDatabases(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(repoPath("candidates/testdata/maxmind/GeoIP2-City-Test.mmdb"))
	require.NoError(t, err)
	flipped := append([]byte(nil), good...)
	for i, b := range garbage(400) {
		flipped[(i*7919)%(len(flipped)-200)] ^= b | 1
	}
	dbs := map[string]string{
		"broken-double":      repoPath("candidates/testdata/maxmind/GeoIP2-City-Test-Broken-Double-Format.mmdb"),
		"invalid-node-count": repoPath("candidates/testdata/maxmind/GeoIP2-City-Test-Invalid-Node-Count.mmdb"),
		"truncated-10%":      writeInput(t, dir, "trunc10.mmdb", good[:len(good)/10]),
		"truncated-99%":      writeInput(t, dir, "trunc99.mmdb", good[:len(good)*99/100]),
		"bit-flipped":        writeInput(t, dir, "flipped.mmdb", flipped),
		"asn-bad-number":     writeInput(t, dir, "asn.csv", []byte("1.0.0.0,1.0.0.255,13335,Cloudflare\n1.0.1.0,1.0.3.255,not-a-number,X\n")),
		"asn-backwards":      writeInput(t, dir, "asn-back.csv", []byte("1.0.0.0,1.0.0.255,13335,A\n1.0.4.0,1.0.3.255,38803,B\n")),
		// A geofeed with no good entry; one with some is read (below).
		"geofeed-no-good-entry": writeInput(t, dir, "feed-bad.csv", []byte("203.0.113.0/33,XX,,Nowhere,\n192.0.2.0/99,NO,,,\n")),
	}
	sample := repoPath("testdata/sample/ntt-tokyo-ipv6-traceroute.txt")
	for name, db := range dbs {
		for _, cmd := range [][]string{
			{"locate", "--ptr=false", "81.2.69.142", "2.125.160.216", "--db", db},
			{"locate", "--candidates", "81.2.69.142", "2.125.160.216", "--db", db},
			{"regeo", sample, "--db", db, "-o", "out.kml"},
		} {
			t.Run(name+"/"+cmd[0]+map[bool]string{true: "-candidates"}[cmd[1] == "--candidates"], func(t *testing.T) {
				work := t.TempDir()
				r := run(t, cmdSpec{args: cmd, dir: work})
				require.Equal(t, 1, r.code, "stderr:\n%s\nstdout:\n%s", clip(r.stderr), clip(r.stdout))
				lines := errorLines(r.stderr)
				require.Len(t, lines, 1, clip(r.stderr))
				assert.Contains(t, lines[0], "--db "+db)
				assert.Empty(t, r.stdout)
				assert.Empty(t, leftovers(t, work))
			})
		}
	}

	// A geofeed's bad line is skipped with one warning, as RFC 8805 asks
	// (issue 16 item 10): the good entries are used, the run succeeds.
	feed := writeInput(t, dir, "feed.csv", []byte("192.0.2.0/24,NO,NO-03,Oslo,\n203.0.113.0/33,XX,,Nowhere,\n"))
	work := t.TempDir()
	r := run(t, cmdSpec{args: []string{"regeo", sample, "--db", feed, "-o", "out.kml"}, dir: work})
	require.Equal(t, 0, r.code, clip(r.stderr))
	assert.True(t, strings.HasPrefix(r.stderr, feed+": skipped 1 bad line (first: "+feed+`:2: bad prefix "203.0.113.0/33")`+"\n"), r.stderr)
	assert.FileExists(t, filepath.Join(work, "out.kml"))

	// The good database and the ASN table of the README work together.
	r = geoloc(t, "locate", "--candidates", "--db", repoPath("testdata/mmdb/GeoLite2-City-Test.mmdb"),
		"--db", repoPath("testdata/mmdb/GeoLite2-ASN-Test.mmdb"), "81.2.69.142", "1.128.0.1")
	require.Equal(t, 0, r.code, clip(r.stderr))
	assert.Contains(t, r.stdout, `"city":"London"`)
	assert.Contains(t, r.stdout, `"asn":1221`)
}
