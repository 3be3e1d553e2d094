package output

import (
	"bytes"
	"encoding/json"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/outputtest"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// stdJSON is what encoding/json's Encoder writes for r: the reference
// AppendJSON must equal byte for byte.
func stdJSON(t testing.TB, r *geoloc.TraceResult, html bool) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	err := enc.Encode(r)
	return buf.Bytes(), err
}

func f64(v float64) *float64 { return &v }

// oddResults are results that exercise every branch of the encoder: zero
// and partial endpoints, nil and empty slices, numbers in both notations,
// addresses with zones, strings needing every kind of escape.
func oddResults() map[string]*geoloc.TraceResult {
	nasty := "a\"b\\c\b\f\n\r\t\x01\x1f<>&\u2028\u2029\xff\xfe é 日本"
	return map[string]*geoloc.TraceResult{
		"zero":  {},
		"empty": {Hops: []geoloc.HopResult{}, Countries: []string{}, Warnings: []string{}, CountriesUncertain: []geoloc.UncertainHop{}, Networks: []geoloc.Network{}},
		"endpoints": {
			Source:      traceroute.Endpoint{Lat: f64(59.9139), Lon: f64(-0.0000001), ProbeID: "6012"},
			Destination: traceroute.Endpoint{Addr: netip.MustParseAddr("fe80::1%eth\"0"), Name: nasty},
			Started:     time.Date(2026, 12, 3, 1, 2, 3, 4500, time.FixedZone("x", 3600)),
			Hops: []geoloc.HopResult{
				{TTL: 1, Addr: netip.MustParseAddr("192.0.2.1"), RTTMs: 1e21, Confidence: 1e-7, Location: &geoloc.Location{Lat: -1e-300, Lon: 180, RadiusKm: 0.5}},
				{TTL: 2, Why: nasty, CountryConfidence: 0.123456789, ASN: 4294967295, ASOrg: nasty, Method: "m", Inferred: true, Anycast: true,
					Location: &geoloc.Location{City: nasty, Region: "R", Country: "NO", Lat: 1.5e-6},
					Evidence: []geoloc.Evidence{{Source: nasty, Kind: "", Status: "chosen"}, {Lat: -12345678.9, City: "c", Country: "d", Why: "w"}}},
				{TTL: -3, Addr: netip.MustParseAddr("2001:db8::ffff:1.2.3.4"), Evidence: []geoloc.Evidence{}},
			},
			CountriesUncertain: []geoloc.UncertainHop{{TTL: 4, Addr: netip.MustParseAddr("::"), Countries: nil}, {Countries: []string{"SE", nasty}}},
			Networks:           []geoloc.Network{{ASN: 1, FromTTL: 1, ToTTL: 2}, {Org: nasty}},
			Vantage:            &geoloc.Vantage{Lat: 1, Lon: -2, Name: nasty, RadiusKm: 3e25, Inferred: true},
			Error:              nasty,
			Warnings:           []string{nasty, ""},
			Format:             nasty,
			Protocol:           "udp",
		},
		"vantage-bare": {Vantage: &geoloc.Vantage{}, Countries: []string{"SE"}},
	}
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	cases := oddResults()
	for i, r := range outputtest.Traces() {
		cases["traces-"+string(rune('a'+i))] = r
	}
	for i, r := range outputtest.Hostile() {
		cases["hostile-"+string(rune('a'+i))] = r
	}
	cases["nil"] = nil
	for name, r := range cases {
		for _, html := range []bool{false, true} {
			want, err := stdJSON(t, r, html)
			require.NoError(t, err, name)
			got, err := AppendJSON([]byte("prefix"), r, html)
			require.NoError(t, err, name)
			assert.Equal(t, "prefix"+string(want), string(got), "%s (html %v)", name, html)
		}
	}
}

func TestAppendJSONNonFinite(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		r := &geoloc.TraceResult{Hops: []geoloc.HopResult{{Confidence: v}}}
		_, want := stdJSON(t, r, true)
		require.Error(t, want)
		got, err := AppendJSON([]byte("x"), r, true)
		var ue *json.UnsupportedValueError
		require.ErrorAs(t, err, &ue)
		assert.Equal(t, want.Error(), err.Error())
		assert.Equal(t, "x", string(got), "dst comes back as it was")
	}
}

// FuzzAppendJSON checks AppendJSON against encoding/json on results whose
// strings and numbers the fuzzer chooses.
func FuzzAppendJSON(f *testing.F) {
	f.Add("Oslo", "a\"<\xff\u2028", 1.5, 1e-7, 1e21, uint32(7), -3, true)
	f.Add("", "", 0.0, -0.0, 123456789.0, uint32(0), 0, false)
	f.Fuzz(func(t *testing.T, s1, s2 string, x, y, z float64, asn uint32, ttl int, flag bool) {
		r := &geoloc.TraceResult{
			Format:      s1,
			Source:      traceroute.Endpoint{Name: s2, Lat: &x},
			Destination: traceroute.Endpoint{ProbeID: s1},
			Hops: []geoloc.HopResult{{
				TTL: ttl, Name: s1, RTTMs: x, ASN: asn, ASOrg: s2, Why: s2, Confidence: y, CountryConfidence: z,
				Method: s1, Inferred: flag, Anycast: !flag,
				Location: &geoloc.Location{Lat: x, Lon: y, RadiusKm: z, City: s1, Region: s2, Country: s1},
				Evidence: []geoloc.Evidence{{Source: s1, Kind: s2, Lat: z, Lon: x, City: s2, Country: s1, Status: s2, Why: s1}},
			}},
			Countries: []string{s1, s2},
			Networks:  []geoloc.Network{{ASN: asn, Org: s2, FromTTL: ttl, ToTTL: -ttl}},
			Warnings:  []string{s2},
		}
		if flag {
			r.Vantage = &geoloc.Vantage{Lat: y, Lon: z, Name: s1, RadiusKm: x, Inferred: flag}
		}
		for _, html := range []bool{false, true} {
			want, werr := stdJSON(t, r, html)
			got, err := AppendJSON(nil, r, html)
			if werr != nil {
				require.Error(t, err)
				assert.Equal(t, werr.Error(), err.Error())
				continue
			}
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))
		}
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	rs := outputtest.Traces()
	b.Run("AppendJSON", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			for _, r := range rs {
				buf, _ = AppendJSON(buf[:0], r, false)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		b.ReportAllocs()
		for b.Loop() {
			for _, r := range rs {
				buf.Reset()
				_ = enc.Encode(r)
			}
		}
	})
}
