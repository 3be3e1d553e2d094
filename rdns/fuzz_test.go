package rdns

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/geoloc-dev/geoloc/latency"
)

func FuzzHints(f *testing.F) {
	for _, l := range readLabelled(f) {
		f.Add(l.name)
	}
	for _, s := range []string{"", ".", "a..b", "xn--mnchen-3ya.de", "ae-1.r01.xxxxxx99.zz.bb.gin.ntt.net",
		strings.Repeat("a-", 120), strings.Repeat("fra1.", 50), "<script>.example", "\x00\xff.example", "bx6-seattle_et-0/0/13_ae1.net.bell.ca", "a/../b.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		hs := Hints(name)
		if len(hs) > maxHints {
			t.Fatalf("%d hints", len(hs))
		}
		norm, okN := normalise(name)
		if len(hs) > 0 && !okN {
			t.Fatalf("hints for a name normalise refuses: %q", name)
		}
		// Hints and CleanName accept the same names, and what they accept
		// holds no character that is unsafe to print or embed in markup.
		clean, okC := CleanName(name)
		if okC != okN || okC && strings.ToLower(clean) != norm {
			t.Fatalf("CleanName %q %v, normalise %q %v for %q", clean, okC, norm, okN, name)
		}
		if okC && strings.ContainsAny(clean, "<>&'\"\\` ;\x00\x1b\x7f") {
			t.Fatalf("unsafe character passed: %q", clean)
		}
		for i, h := range hs {
			if h.Confidence <= 0 || h.Confidence > 1 {
				t.Fatalf("confidence %v", h.Confidence)
			}
			if h.Lat < -90 || h.Lat > 90 || h.Lon < -180 || h.Lon > 180 {
				t.Fatalf("coordinates %v %v", h.Lat, h.Lon)
			}
			if i > 0 && hs[i-1].Confidence < h.Confidence {
				t.Fatalf("not ranked: %+v", hs)
			}
			if h.Code == "" || h.Kind == "" {
				t.Fatalf("empty code or kind: %+v", h)
			}
		}
	})
}

// FuzzPTRResponse feeds arbitrary bytes through the path a DNS reply takes
// in LookupPTR: unpacking, the PTR/CNAME walk and CleanName. Whatever comes
// out must be a clean host name.
func FuzzPTRResponse(f *testing.F) {
	m := new(dns.Msg)
	m.SetQuestion("1.2.0.192.in-addr.arpa.", dns.TypePTR)
	r := new(dns.Msg)
	r.SetReply(m)
	r.Answer = append(r.Answer,
		&dns.CNAME{Hdr: dns.RR_Header{Name: "1.2.0.192.in-addr.arpa.", Rrtype: dns.TypeCNAME, Class: dns.ClassINET}, Target: "1.0/25.2.0.192.in-addr.arpa."},
		&dns.PTR{Hdr: dns.RR_Header{Name: "1.0/25.2.0.192.in-addr.arpa.", Rrtype: dns.TypePTR, Class: dns.ClassINET}, Ptr: "ae-1.fra03.example.net."},
		&dns.PTR{Hdr: dns.RR_Header{Name: "1.2.0.192.in-addr.arpa.", Rrtype: dns.TypePTR, Class: dns.ClassINET}, Ptr: "bad\\007.example."})
	if b, err := r.Pack(); err == nil {
		f.Add(b)
	}
	f.Add([]byte{0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, wire []byte) {
		a, err := parseAnswer(wire)
		if err != nil {
			return
		}
		name := firstPTR(a.answers, "1.2.0.192.in-addr.arpa.")
		if name == "" {
			return
		}
		if clean, ok := CleanName(name); !ok || clean != name {
			t.Fatalf("unclean name passed on: %q", name)
		}
		Hints(name) // and the hint path takes it
	})
}

// FuzzLookup feeds arbitrary names and codes to LookupPlace and LookupCode:
// no panic, and what comes back honours the country asked for.
func FuzzLookup(f *testing.F) {
	for _, s := range []string{"São Paulo", "Muenchen", "new-york", "東京", "äöüäöüäöüß", "FRA", "eddf", "defra", "frnkge", "", "\xff\xfe"} {
		f.Add(s, "DE")
	}
	f.Fuzz(func(t *testing.T, name, country string) {
		if p, ok := LookupPlace(name, "", country); ok {
			if country != "" && p.Country != countryOf(strings.ToLower(strings.TrimSpace(country))) {
				t.Fatalf("%q in %q gave %+v", name, country, p)
			}
			if p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180 {
				t.Fatalf("coordinates %+v", p)
			}
		}
		hs := LookupCode(name)
		for i, h := range hs {
			if h.Confidence <= 0 || h.Confidence > 1 || i > 0 && hs[i-1].Confidence < h.Confidence {
				t.Fatalf("bad ranking %+v", hs)
			}
		}
	})
}

// FuzzReadConventions: whatever the input, ReadConventions returns a set
// that passes its own checks or an error naming the input and a line, and
// what it accepts survives WriteJSON and a second read unchanged and can be
// given to a Reader.
func FuzzReadConventions(f *testing.F) {
	f.Add([]byte(smallConventions))
	f.Add(conventionsJSON[:min(len(conventionsJSON), 4000)])
	f.Add([]byte(`{"format": "geoloc-conventions/1", "domains": [{"domain": "a.example", "pattern": "(?P<loc>[a-z]+)\\d+"}], "entries": [{"domain": "a.example", "code": "abc", "place": {"name": "X", "country": "US", "lat": 1, "lon": 2}, "source": "s"}]}`))
	f.Add([]byte(`{"format": "geoloc-conventions/1", "entries": [{"domain": "a.example", "code": "x", "source": "s", "rejected": "r"}]}`))
	f.Add([]byte(`{"format": "geoloc-conventions/1", "domains": [{"domain": "a.example", "pattern": "(?P<loc>((a*)*)*)"}]}`))
	f.Add([]byte("{\"format\": \"geoloc-conventions/1\"}\n\x00"))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ReadConventions(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "fuzz.json") || strings.Contains(msg, "\n") {
				t.Fatalf("error without the input's name, or on several lines: %q", msg)
			}
			return
		}
		var buf bytes.Buffer
		if err := c.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		c2, err := ReadConventions(bytes.NewReader(buf.Bytes()), "fuzz.json")
		if err != nil {
			t.Fatalf("written form does not read back: %v\n%s", err, buf.String())
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip changed the set:\n%+v\n%+v", c, c2)
		}
		r := NewReader(c)
		for _, d := range c.Domains {
			r.Hints("abc1-core." + d.Domain)
		}
	})
}

// FuzzCodesExpand: Codes and Expand on any name: no panic, codes are
// letters of the name, and Expand gives only feasible places, ranked, of
// kind abbrev, with an explanation.
func FuzzCodesExpand(f *testing.F) {
	for _, l := range readLabelled(f) {
		f.Add(l.name, 48.0, 10.0, 1500.0)
	}
	for _, s := range []string{"ipls-bb1-link.example.net", "win-bb1-link.example.net", "tky2.example.net", "xyz-b1-link.ip.twelve99.net", "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r.example.net", strings.Repeat("abc1.", 50) + "net"} {
		f.Add(s, 40.0, -86.0, 500.0)
	}
	r := NewReader()
	f.Fuzz(func(t *testing.T, name string, lat, lon, radiusKm float64) {
		feasible := latency.Disc{Center: latency.Point{Lat: lat, Lon: lon}, RadiusKm: radiusKm}
		in := func(la, lo float64) bool { return feasible.Contains(latency.Point{Lat: la, Lon: lo}) }
		codes := r.Codes(name)
		if len(codes) > maxCodeWords {
			t.Fatalf("%d codes", len(codes))
		}
		lower := strings.ToLower(name)
		for _, c := range codes {
			if !strings.Contains(lower, c.Code) || !strings.Contains(c.Label, c.Code) || !isAlpha(c.Code) || len(c.Code) < 3 {
				t.Fatalf("code %+v not of %q", c, name)
			}
			hs := r.Expand(c, in, 3)
			if len(hs) > 3 {
				t.Fatalf("%d hints", len(hs))
			}
			for i, h := range hs {
				if !in(h.Lat, h.Lon) {
					t.Fatalf("infeasible place %+v", h)
				}
				if h.Kind != KindAbbrev || h.Why == "" || h.Code != c.Code || h.Confidence <= 0 || h.Confidence > 0.6 {
					t.Fatalf("bad hint %+v", h)
				}
				if i > 0 && hs[i-1].Confidence < h.Confidence {
					t.Fatalf("not ranked: %+v", hs)
				}
			}
		}
		// Any code, not only those Codes finds.
		if len(name) <= 12 {
			for _, h := range r.Expand(CodeLabel{Code: name}, in, 2) {
				if !in(h.Lat, h.Lon) {
					t.Fatalf("infeasible place %+v", h)
				}
			}
		}
	})
}

// FuzzLearner: names and RTT bounds of any shape never break the learner,
// and what it returns is always a valid conventions file.
func FuzzLearner(f *testing.F) {
	f.Add("ipls-bb1-link.ip.example-carrier.net", "ipls-bb2-link.ip.example-carrier.net", 41.88, -87.63, 4.2, 33.75, -84.39, 9.5)
	f.Add("ae-1.omha2.core.example.net", "ae-2.omha3.core.example.net", 41.88, -87.63, 9.0, 47.61, -122.33, 26.0)
	f.Add("ffm-b1-link.ip.twelve99.net", "xyz-b1-link.ip.twelve99.net", 50.1, 8.7, 1.0, 59.3, 18.1, 30.0)
	f.Add("a.b", "", 0.0, 0.0, -1.0, 91.0, 181.0, 1e300)
	f.Fuzz(func(t *testing.T, n1, n2 string, lat1, lon1, rtt1, lat2, lon2, rtt2 float64) {
		l := NewLearner(LearnOptions{MaxObservations: 64})
		discs := []latency.Disc{
			latency.DiscFromRTT(latency.Point{Lat: lat1, Lon: lon1}, rtt1, 25),
			latency.DiscFromRTT(latency.Point{Lat: lat2, Lon: lon2}, rtt2, 25),
		}
		for range 2 {
			l.Observe(n1, discs)
			l.Observe(n2, discs[:1])
		}
		c := l.Conventions()
		var buf bytes.Buffer
		if err := c.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadConventions(&buf, "learned.json"); err != nil {
			t.Fatalf("learned conventions do not read back: %v\n%s", err, buf.String())
		}
	})
}
