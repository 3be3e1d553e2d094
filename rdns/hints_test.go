package rdns

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHintsTop(t *testing.T) {
	cases := []struct {
		name, code string
		kind       HintKind
		place, cc  string
	}{
		{"be3.agr21.fra03.atlas.cogentco.com", "fra", KindIATA, "Frankfurt am Main", "DE"},
		{"ae-5.r21.frnkge13.de.bb.gin.ntt.net", "frnkge", KindCLLI, "Frankfurt", "DE"},
		{"ffm-b4-link.ip.twelve99.net", "ffm", KindOperatorSite, "Frankfurt", "DE"},
		{"100ge1-1.core1.ams1.he.net", "ams", KindIATA, "Amsterdam", "NL"},
		{"xe-0-0-0.cr1.lhr1.uk.level3.net", "lhr", KindIATA, "London", "GB"},
		{"ae-0.a02.nycmny17.us.bb.gin.ntt.net", "nycmny", KindCLLI, "New York", "US"},
		{"ae-4.r22.dllstx09.us.bb.gin.ntt.net", "dllstx", KindCLLI, "Dallas", "US"},
		{"ae-5.r22.lsanca07.us.bb.gin.ntt.net", "lsanca", KindCLLI, "Los Angeles", "US"},
		{"ae-4.r06.plalca01.us.bb.gin.ntt.net", "plalca", KindCLLI, "Palo Alto", "US"},
		{"ae-14.r20.londen12.uk.bb.gin.ntt.net", "londen", KindCLLI, "London", "GB"},
		{"xe-0-5-0-4.r01.asbnva02.us.bb.gin.ntt.net", "asbnva", KindCLLI, "Ashburn", "US"},
		{"ae-1-100.ebr2.NewYork2.Level3.net.", "newyork", KindPlace, "New York", "US"},
		{"tcore0.PDI-Palo-Alto.as6453.net", "paloalto", KindPlace, "Palo Alto", "US"},
		{"216-230-231-141.static.houston.tx.oplink.net", "houston", KindPlace, "Houston", "US"},
		{"ec2-50-18-127-223.us-west-1.compute.amazonaws.com", "us-west-1", KindOperatorSite, "San Jose", "US"},
		{"as15169-10g-sk1.sthix.net", "sthix.net", KindOperatorSite, "Stockholm", "SE"},
		{"et-0-1-4-0-jnb2-pe1.net.tenet.ac.za", "jnb", KindIATA, "Johannesburg", "ZA"},
		{"core1.muenchen.example.net", "muenchen", KindPlace, "Munich", "DE"},
		{"core1.wien.example.net", "wien", KindPlace, "Vienna", "AT"},
		{"xe-1.defra1.example.net", "defra", KindLOCODE, "Frankfurt am Main", "DE"},
		{"ae1.eddf-r1.example.net", "eddf", KindICAO, "Frankfurt am Main", "DE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hs := Hints(c.name)
			require.NotEmpty(t, hs)
			h := hs[0]
			assert.Equal(t, c.code, h.Code)
			assert.Equal(t, c.kind, h.Kind)
			assert.Equal(t, c.place, h.Place)
			assert.Equal(t, c.cc, h.Country)
			assert.Greater(t, h.Confidence, 0.0)
			assert.LessOrEqual(t, h.Confidence, 1.0)
		})
	}
}

func TestHintsNone(t *testing.T) {
	for _, name := range []string{
		"c-73-12-1-2.hsd1.ca.comcast.net",
		"static-1-2-3-4.dsl.example.com",
		"pool-30-42-40-181.telecel.com",
		"ip-91-241-196-1.static.eastnet.online",
		"81.27.252.175.rascom.as20764.net",
		"192.0.2.1",
		"localhost",
		"",
		".",
		"a..b",
		"bad name.example.com",
		"<script>.example.com",
		strings.Repeat("a", 64) + ".example.com",
		strings.Repeat("fra1.", 60) + "com",
		"cloudflare-ic-375100.ip.twelve99-cust.net",
		"unknown.telstraglobal.net",
		"turner-tls.map.fastly.net",
	} {
		assert.Empty(t, Hints(name), "%q", name)
	}
}

// Every example name in the embedded conventions reads as its operator
// says.
func TestOperatorExamples(t *testing.T) {
	var n int
	for _, dm := range EmbeddedConventions().Domains {
		for name, city := range dm.Examples {
			n++
			hs := Hints(name)
			if assert.NotEmpty(t, hs, "%s (%s)", name, dm.Operator) {
				assert.Contains(t, spellingOf(hs[0].Place), spellingOf(city), "%s (%s): %+v", name, dm.Operator, hs[0])
				assert.NotEmpty(t, hs[0].Why)
			}
		}
	}
	require.Greater(t, n, 40)
}

func TestOperatorTable(t *testing.T) {
	c := EmbeddedConventions()
	require.GreaterOrEqual(t, len(c.Domains), 25)
	for _, d := range c.Domains {
		assert.NotEmpty(t, d.Sources, d.Domain)
		assert.NotEmpty(t, d.Operator, d.Domain)
	}
	// Every entry's place is the dictionary's place of that name, or a
	// place too small for the dictionaries given with its coordinates.
	d := loadDict()
	for _, e := range c.Entries {
		if e.Rejected != "" {
			continue
		}
		require.NotNil(t, e.Place, e.Code)
		id, ok := d.bestPlace(spellingOf(e.Place.Name), e.Place.Country, "")
		if !ok {
			assert.Zero(t, e.Place.Population, "%s %s: %s is not in the dictionaries: give it without a population", e.Domain, e.Code, e.Place.Name)
			continue
		}
		p := &d.places[id]
		assert.Less(t, haversineKm(p.lat, p.lon, e.Place.Lat, e.Place.Lon), 1.0, "%s %s: %+v vs dictionary %s", e.Domain, e.Code, e.Place, p.name)
	}
}

func TestNormalise(t *testing.T) {
	for in, want := range map[string]string{
		"AE-1.Paris1.Level3.net.": "ae-1.paris1.level3.net",
		"a.b":                     "a.b",
	} {
		got, ok := normalise(in)
		assert.True(t, ok)
		assert.Equal(t, want, got)
	}
	for _, in := range []string{"", ".", "a..b", "a b", "a\x00b", "é.com", "a<b", strings.Repeat("x", 254)} {
		_, ok := normalise(in)
		assert.False(t, ok, "%q", in)
	}
}

func TestCLLIMatch(t *testing.T) {
	for _, c := range []struct {
		abbr, name string
		want       bool
	}{
		{"chcg", "chicago", true}, {"dlls", "dallas", true}, {"lond", "london", true},
		{"pars", "paris", true}, {"lsan", "los angeles", true}, {"snjs", "san jose", true},
		{"asbn", "ashburn", true}, {"tpka", "topeka", true}, {"zrch", "zurich", true},
		{"plal", "palmdale", false}, {"plal", "palo alto", true}, {"frnk", "berlin", false},
		{"lsan", "lansing", false}, {"abcd", "", false}, {"ab", "a b c", false},
	} {
		assert.Equal(t, c.want, clliMatch(c.abbr, c.name), "%s %s", c.abbr, c.name)
	}
}

func TestCLLIClass(t *testing.T) {
	for _, c := range []struct {
		abbr, name string
		want       int
	}{
		{"lond", "london", 0}, {"pars", "paris", 0}, {"chcg", "chicago", 0}, {"dlls", "dallas", 0},
		{"lsan", "los angeles", 0}, {"plal", "palo alto", 0}, {"frnk", "frankfurt", 0},
		{"sntc", "santa clara", 0}, {"sntc", "santa clarita", 0}, {"sntc", "santa cruz", 0},
		{"hngg", "huanggang", 0}, {"hngg", "hengyang", 1}, {"zhng", "zhengzhou", 0}, {"zhng", "zhanjiang", 1},
		{"tpka", "topeka", 1}, {"snjs", "san jose", 0}, {"mnch", "munich", 0},
	} {
		require.True(t, clliMatch(c.abbr, c.name), "%s %s", c.abbr, c.name)
		assert.Equal(t, c.want, clliClass(c.abbr, c.name), "%s %s", c.abbr, c.name)
	}
}

// TestCLLIPlainFirst: a place whose name gives a CLLI-style code by the
// plain rule outranks a larger one that needs letters skipped.
func TestCLLIPlainFirst(t *testing.T) {
	for name, want := range map[string]string{
		"ae-1.r01.hnggcn01.cn.bb.gin.ntt.net": "Huanggang", // not Hengyang
		"ae-1.r01.zhngcn01.cn.bb.gin.ntt.net": "Zhengzhou", // not Zhanjiang
		"ae-1.r01.frnkde01.de.bb.gin.ntt.net": "Frankfurt",
	} {
		hs := Hints(name)
		require.NotEmpty(t, hs, name)
		assert.Equal(t, want, hs[0].Place, name)
		assert.Equal(t, KindCLLI, hs[0].Kind, name)
	}
}

func TestHintsRanked(t *testing.T) {
	// Several readings: ranked by confidence, each within [0,1].
	hs := Hints("76-220-24-1.lightspeed.sntcca.sbcglobal.net")
	require.GreaterOrEqual(t, len(hs), 2)
	for i := 1; i < len(hs); i++ {
		assert.GreaterOrEqual(t, hs[i-1].Confidence, hs[i].Confidence)
	}
}

func ExampleHints() {
	for _, h := range Hints("be3.agr21.fra03.atlas.cogentco.com") {
		fmt.Printf("%s %s %s %s %.2f\n", h.Code, h.Kind, h.Place, h.Country, h.Confidence)
	}
	for _, h := range Hints("ae-5.r21.frnkge13.de.bb.gin.ntt.net")[:1] {
		fmt.Printf("%s %s %s %s\n", h.Code, h.Kind, h.Place, h.Country)
	}
	fmt.Println(len(Hints("c-73-12-1-2.hsd1.ca.comcast.net")))
	// Output:
	// fra iata Frankfurt am Main DE 0.95
	// frnkge clli-like Frankfurt DE
	// 0
}

// BenchmarkFirstLoad measures what the first Hints call of a program pays:
// parsing the embedded dictionaries (parseDict, which loadDict does once).
func BenchmarkFirstLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseDict(); err != nil {
			b.Fatal(err)
		}
	}
}
