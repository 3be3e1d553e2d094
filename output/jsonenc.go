package output

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strconv"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/jsonw"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// AppendJSON appends r as one line of JSON (with a trailing newline) to dst:
// byte for byte what encoding/json's Encoder writes for r (with
// SetEscapeHTML(escapeHTML)), without its reflection, which was a tenth of
// regeo's CPU time. A result holding a NaN or an infinity is the error
// encoding/json gives, a *json.UnsupportedValueError; dst is then returned
// as it was.
func AppendJSON(dst []byte, r *geoloc.TraceResult, escapeHTML bool) ([]byte, error) {
	if r == nil {
		return append(dst, "null\n"...), nil
	}
	e := jsonEnc{b: dst, html: escapeHTML}
	e.result(r)
	if e.err != nil {
		return dst, e.err
	}
	return append(e.b, '\n'), nil
}

type jsonEnc struct {
	b    []byte
	html bool
	err  error
}

func (e *jsonEnc) key(name string) { e.b = jsonw.Key(e.b, name) }

// The fields: key and value; the opt ones are left out when empty or zero
// (omitempty).
func (e *jsonEnc) strField(name, v string)           { e.key(name); e.str(v) }
func (e *jsonEnc) floatField(name string, v float64) { e.key(name); e.float(v) }
func (e *jsonEnc) intField(name string, v int64) {
	e.key(name)
	e.b = strconv.AppendInt(e.b, v, 10)
}

func (e *jsonEnc) boolField(name string, v bool) {
	e.key(name)
	e.b = strconv.AppendBool(e.b, v)
}

func (e *jsonEnc) optStr(name, v string) {
	if v != "" {
		e.strField(name, v)
	}
}

func (e *jsonEnc) optFloat(name string, v float64) {
	if v != 0 {
		e.floatField(name, v)
	}
}

// list writes n elements as a JSON array, elem writing element i.
func (e *jsonEnc) list(n int, elem func(i int)) {
	e.b = append(e.b, '[')
	for i := range n {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		elem(i)
	}
	e.b = append(e.b, ']')
}

func (e *jsonEnc) result(r *geoloc.TraceResult) {
	e.b = append(e.b, '{')
	e.optStr("format", r.Format)
	if !r.Source.IsZero() {
		e.key("source")
		e.endpoint(&r.Source)
	}
	if !r.Destination.IsZero() {
		e.key("destination")
		e.endpoint(&r.Destination)
	}
	e.optStr("protocol", r.Protocol)
	if !r.Started.IsZero() {
		e.key("started")
		t, err := r.Started.MarshalJSON()
		if err != nil {
			e.err = err
			return
		}
		e.b = append(e.b, t...)
	}
	e.key("hops")
	if r.Hops == nil {
		e.b = append(e.b, "null"...)
	} else {
		e.list(len(r.Hops), func(i int) { e.hop(&r.Hops[i]) })
	}
	e.key("countries")
	e.strs(r.Countries)
	if len(r.CountriesUncertain) > 0 {
		e.key("countries_uncertain")
		e.list(len(r.CountriesUncertain), func(i int) {
			u := &r.CountriesUncertain[i]
			e.b = append(e.b, '{')
			e.intField("ttl", int64(u.TTL))
			e.key("addr")
			e.addr(u.Addr)
			e.key("countries")
			e.strs(u.Countries)
			e.b = append(e.b, '}')
		})
	}
	if len(r.Networks) > 0 {
		e.key("networks")
		e.list(len(r.Networks), func(i int) {
			n := &r.Networks[i]
			e.b = append(e.b, '{')
			e.intField("asn", int64(n.ASN))
			e.optStr("org", n.Org)
			e.intField("from_ttl", int64(n.FromTTL))
			e.intField("to_ttl", int64(n.ToTTL))
			e.b = append(e.b, '}')
		})
	}
	if v := r.Vantage; v != nil {
		e.key("vantage")
		e.b = append(e.b, '{')
		e.floatField("lat", v.Lat)
		e.floatField("lon", v.Lon)
		e.optStr("name", v.Name)
		e.optFloat("radius_km", v.RadiusKm)
		if v.Inferred {
			e.boolField("inferred", true)
		}
		e.b = append(e.b, '}')
	}
	e.optStr("error", r.Error)
	if len(r.Warnings) > 0 {
		e.key("warnings")
		e.strs(r.Warnings)
	}
	e.b = append(e.b, '}')
}

func (e *jsonEnc) endpoint(p *traceroute.Endpoint) {
	e.b = append(e.b, '{')
	if p.Addr.IsValid() {
		e.key("addr")
		e.addr(p.Addr)
	}
	e.optStr("name", p.Name)
	if p.Lat != nil {
		e.floatField("lat", *p.Lat)
	}
	if p.Lon != nil {
		e.floatField("lon", *p.Lon)
	}
	e.optStr("probe_id", p.ProbeID)
	e.b = append(e.b, '}')
}

func (e *jsonEnc) hop(h *geoloc.HopResult) {
	e.b = append(e.b, '{')
	e.intField("ttl", int64(h.TTL))
	e.key("addr")
	e.addr(h.Addr)
	e.optStr("name", h.Name)
	e.optFloat("rtt_ms", h.RTTMs)
	if h.ASN != 0 {
		e.intField("asn", int64(h.ASN))
	}
	e.optStr("as_org", h.ASOrg)
	e.key("location")
	if l := h.Location; l == nil {
		e.b = append(e.b, "null"...)
	} else {
		e.b = append(e.b, '{')
		e.floatField("lat", l.Lat)
		e.floatField("lon", l.Lon)
		e.floatField("radius_km", l.RadiusKm)
		e.optStr("city", l.City)
		e.optStr("region", l.Region)
		e.optStr("country", l.Country)
		e.b = append(e.b, '}')
	}
	e.optStr("why", h.Why)
	e.floatField("confidence", h.Confidence)
	e.optFloat("country_confidence", h.CountryConfidence)
	e.optStr("method", h.Method)
	e.boolField("inferred", h.Inferred)
	e.boolField("anycast", h.Anycast)
	if len(h.Evidence) > 0 {
		e.key("evidence")
		e.list(len(h.Evidence), func(i int) {
			v := &h.Evidence[i]
			e.b = append(e.b, '{')
			e.strField("source", v.Source)
			e.strField("kind", v.Kind)
			e.floatField("lat", v.Lat)
			e.floatField("lon", v.Lon)
			e.optStr("city", v.City)
			e.optStr("country", v.Country)
			e.strField("status", v.Status)
			e.optStr("why", v.Why)
			e.b = append(e.b, '}')
		})
	}
	e.b = append(e.b, '}')
}

// addr writes an address as its text form (netip.Addr.MarshalText: "" for
// the zero Addr).
func (e *jsonEnc) addr(a netip.Addr) {
	switch {
	case !a.IsValid():
		e.b = append(e.b, `""`...)
	case a.Zone() != "":
		e.str(a.String()) // a zone may hold any character
	default:
		e.b = append(e.b, '"')
		e.b = a.AppendTo(e.b) // digits, hex, dots and colons only
		e.b = append(e.b, '"')
	}
}

func (e *jsonEnc) strs(s []string) {
	if s == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.list(len(s), func(i int) { e.str(s[i]) })
}

func (e *jsonEnc) float(f float64) {
	b, ok := jsonw.Float(e.b, f)
	if !ok && e.err == nil {
		e.err = &json.UnsupportedValueError{Value: reflect.ValueOf(f), Str: strconv.FormatFloat(f, 'g', -1, 64)}
	}
	e.b = b
}

func (e *jsonEnc) str(s string) { e.b = jsonw.String(e.b, s, e.html) }
