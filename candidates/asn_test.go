package candidates_test

import (
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/candidates"
)

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func writeGzip(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	require.NoError(t, err)
	zw := gzip.NewWriter(f)
	_, err = zw.Write([]byte(content))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
	return p
}

const ipLocationDBv4 = `1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."
192.0.2.0,192.0.2.127,64500,Example Transit
192.0.2.128,192.0.2.255,64501,"Quote ""Inc"""
198.51.100.0,198.51.100.255,0,Not routed
`

const ipLocationDBv6 = `2001:db8::,2001:db8:0:ffff:ffff:ffff:ffff:ffff,64502,Example v6
2001:db8:1::,2001:db8:1:ffff:ffff:ffff:ffff:ffff,64503,Other v6
`

// 16777216 = 1.0.0.0
const ipLocationDBNum = `16777216,16777471,13335,"Cloudflare, Inc."
42540766411282592856903984951653826560,42540766411283801782723599580828532735,64502,Example v6
`

const iptoasnTSV = "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n" +
	"1.0.1.0\t1.0.3.255\t0\tNone\tNot routed\n" +
	"192.0.2.0\t192.0.2.255\t64500\tDE\tEXAMPLE-AS Example Transit\n" +
	"2001:db8::\t2001:db8:ffff:ffff:ffff:ffff:ffff:ffff\t64502\tNL\tEXAMPLE6\n"

const ipinfoASNCSV = `start_ip,end_ip,asn,name,domain
1.0.0.0,1.0.0.255,AS13335,"Cloudflare, Inc.",cloudflare.com
192.0.2.0,192.0.2.255,AS64500,Example Transit,example.net
`

const ipinfoCountryASNCSV = `start_ip,end_ip,country,country_name,continent,continent_name,asn,as_name,as_domain
1.0.0.0,1.0.0.255,AU,Australia,OC,Oceania,AS13335,"Cloudflare, Inc.",cloudflare.com
1.0.1.0,1.0.3.255,CN,China,AS,Asia,,,
`

func TestASNTable(t *testing.T) {
	dir := t.TempDir()
	type q struct {
		addr   string
		asn    uint32
		org    string
		prefix string
	}
	tests := []struct {
		name  string
		files []string
		want  []q
	}{
		{
			name: "ip-location-db v4+v6",
			files: []string{
				writeFile(t, dir, "asn-ipv4.csv", ipLocationDBv4),
				writeFile(t, dir, "asn-ipv6.csv", ipLocationDBv6),
			},
			want: []q{
				{"1.0.0.1", 13335, "Cloudflare, Inc.", "1.0.0.0/24"},
				{"192.0.2.1", 64500, "Example Transit", "192.0.2.0/25"},
				{"192.0.2.200", 64501, `Quote "Inc"`, "192.0.2.128/25"},
				{"::ffff:192.0.2.1", 64500, "Example Transit", "192.0.2.0/25"},
				{"198.51.100.1", 0, "", ""}, // AS 0 rows are not answers
				{"203.0.113.1", 0, "", ""},
				{"0.0.0.1", 0, "", ""},
				{"255.255.255.255", 0, "", ""},
				{"2001:db8::1", 64502, "Example v6", "2001:db8::/48"},
				{"2001:db8:1:2::1", 64503, "Other v6", "2001:db8:1::/48"},
				{"2001:db8:2::1", 0, "", ""},
				{"::", 0, "", ""},
			},
		},
		{
			name:  "ip-location-db numeric",
			files: []string{writeFile(t, dir, "asn-ipv4-num.csv", ipLocationDBNum)},
			want: []q{
				{"1.0.0.200", 13335, "Cloudflare, Inc.", "1.0.0.0/24"},
				{"2001:db8::1", 64502, "Example v6", "2001:db8::/48"},
			},
		},
		{
			name:  "iptoasn tsv gz",
			files: []string{writeGzip(t, dir, "ip2asn-combined.tsv.gz", iptoasnTSV)},
			want: []q{
				{"1.0.0.1", 13335, "CLOUDFLARENET", "1.0.0.0/24"},
				{"1.0.2.1", 0, "", ""},
				{"192.0.2.9", 64500, "EXAMPLE-AS Example Transit", "192.0.2.0/24"},
				{"2001:db8:5::1", 64502, "EXAMPLE6", "2001:db8::/32"},
			},
		},
		{
			name:  "ipinfo asn csv",
			files: []string{writeFile(t, dir, "ip_asn.csv", ipinfoASNCSV)},
			want:  []q{{"192.0.2.1", 64500, "Example Transit", "192.0.2.0/24"}},
		},
		{
			name:  "ipinfo country asn csv",
			files: []string{writeFile(t, dir, "ip_country_asn.csv", ipinfoCountryASNCSV)},
			want:  []q{{"1.0.0.1", 13335, "Cloudflare, Inc.", "1.0.0.0/24"}, {"1.0.1.1", 0, "", ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tabs := map[string]candidates.Source{}
			tab, err := candidates.OpenASNTable(tt.files...)
			require.NoError(t, err)
			tabs["OpenASNTable"] = tab
			if len(tt.files) == 1 {
				s, err := candidates.Open(tt.files[0])
				require.NoError(t, err)
				tabs["Open"] = s
			}
			for how, s := range tabs {
				for _, w := range tt.want {
					ans := lookup(t, s, w.addr)
					assert.Empty(t, ans.Candidates)
					if w.asn == 0 {
						assert.Nil(t, ans.AS, "%s %s", how, w.addr)
						continue
					}
					if assert.NotNil(t, ans.AS, "%s %s", how, w.addr) {
						assert.Equal(t, w.asn, ans.AS.Number, w.addr)
						assert.Equal(t, w.org, ans.AS.Org, w.addr)
						assert.Equal(t, w.prefix, ans.AS.Prefix.String(), w.addr)
						assert.Equal(t, s.Name(), ans.AS.Source)
					}
				}
			}
		})
	}
}

func TestASNTableName(t *testing.T) {
	dir := t.TempDir()
	tab, err := candidates.OpenASNTable(writeFile(t, dir, "asn-ipv4.csv", ipLocationDBv4), writeFile(t, dir, "asn-ipv6.csv", ipLocationDBv6))
	require.NoError(t, err)
	assert.Regexp(t, `^asn-\d{4}-\d{2}$`, tab.Name())
	v4, v6 := tab.Len()
	assert.Equal(t, 3, v4)
	assert.Equal(t, 2, v6)
	assert.Equal(t, "asn-ranges", tab.Info().Kind)
}

func TestASNTableErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, content, want string }{
		{"bad address", "1.0.0.0,1.0.0.255,1,x\n1.0.1.0,nope,2,y\n", "bad.csv:2: bad address range"},
		{"reversed", "1.0.0.9,1.0.0.1,1,x\n", "bad.csv:1: range 1.0.0.9-1.0.0.1 ends before it starts"},
		{"mixed families", "1.0.0.0,2001:db8::,1,x\n", "bad.csv:1: range 1.0.0.0-2001:db8:: mixes address families"},
		{"bad asn", "1.0.0.0,1.0.0.255,ASX,x\n", `bad.csv:1: bad AS number "ASX"`},
		{"short", "1.0.0.0,1.0.0.255\n", "bad.csv:1: want at least 3 fields"},
		{"quote", "1.0.0.0,1.0.0.255,1,\"x\n", "bad.csv:1: unterminated quoted field"},
		{"empty", "# nothing\n", "bad.csv: no ASN ranges"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := candidates.OpenASNTable(writeFile(t, dir, "bad.csv", tt.content))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
