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

func (e *jsonEnc) result(r *geoloc.TraceResult) {
	e.b = append(e.b, '{')
	if r.Format != "" {
		e.key("format")
		e.str(r.Format)
	}
	if !endpointZero(r.Source) {
		e.key("source")
		e.endpoint(&r.Source)
	}
	if !endpointZero(r.Destination) {
		e.key("destination")
		e.endpoint(&r.Destination)
	}
	if r.Protocol != "" {
		e.key("protocol")
		e.str(r.Protocol)
	}
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
		e.b = append(e.b, '[')
		for i := range r.Hops {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.hop(&r.Hops[i])
		}
		e.b = append(e.b, ']')
	}
	e.key("countries")
	e.strs(r.Countries)
	if len(r.CountriesUncertain) > 0 {
		e.key("countries_uncertain")
		e.b = append(e.b, '[')
		for i, u := range r.CountriesUncertain {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.b = append(e.b, `{"ttl":`...)
			e.b = strconv.AppendInt(e.b, int64(u.TTL), 10)
			e.b = append(e.b, `,"addr":`...)
			e.addr(u.Addr)
			e.b = append(e.b, `,"countries":`...)
			e.strs(u.Countries)
			e.b = append(e.b, '}')
		}
		e.b = append(e.b, ']')
	}
	if len(r.Networks) > 0 {
		e.key("networks")
		e.b = append(e.b, '[')
		for i, n := range r.Networks {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.b = append(e.b, `{"asn":`...)
			e.b = strconv.AppendUint(e.b, uint64(n.ASN), 10)
			if n.Org != "" {
				e.b = append(e.b, `,"org":`...)
				e.str(n.Org)
			}
			e.b = append(e.b, `,"from_ttl":`...)
			e.b = strconv.AppendInt(e.b, int64(n.FromTTL), 10)
			e.b = append(e.b, `,"to_ttl":`...)
			e.b = strconv.AppendInt(e.b, int64(n.ToTTL), 10)
			e.b = append(e.b, '}')
		}
		e.b = append(e.b, ']')
	}
	if v := r.Vantage; v != nil {
		e.key("vantage")
		e.b = append(e.b, `{"lat":`...)
		e.float(v.Lat)
		e.b = append(e.b, `,"lon":`...)
		e.float(v.Lon)
		if v.Name != "" {
			e.b = append(e.b, `,"name":`...)
			e.str(v.Name)
		}
		if v.RadiusKm != 0 {
			e.b = append(e.b, `,"radius_km":`...)
			e.float(v.RadiusKm)
		}
		if v.Inferred {
			e.b = append(e.b, `,"inferred":true`...)
		}
		e.b = append(e.b, '}')
	}
	if r.Error != "" {
		e.key("error")
		e.str(r.Error)
	}
	if len(r.Warnings) > 0 {
		e.key("warnings")
		e.strs(r.Warnings)
	}
	e.b = append(e.b, '}')
}

// endpointZero is encoding/json's omitzero test for an Endpoint (it has no
// IsZero method: every field zero).
func endpointZero(p traceroute.Endpoint) bool {
	return !p.Addr.IsValid() && p.Name == "" && p.Lat == nil && p.Lon == nil && p.ProbeID == ""
}

func (e *jsonEnc) endpoint(p *traceroute.Endpoint) {
	e.b = append(e.b, '{')
	if p.Addr.IsValid() {
		e.key("addr")
		e.addr(p.Addr)
	}
	if p.Name != "" {
		e.key("name")
		e.str(p.Name)
	}
	if p.Lat != nil {
		e.key("lat")
		e.float(*p.Lat)
	}
	if p.Lon != nil {
		e.key("lon")
		e.float(*p.Lon)
	}
	if p.ProbeID != "" {
		e.key("probe_id")
		e.str(p.ProbeID)
	}
	e.b = append(e.b, '}')
}

func (e *jsonEnc) hop(h *geoloc.HopResult) {
	e.b = append(e.b, `{"ttl":`...)
	e.b = strconv.AppendInt(e.b, int64(h.TTL), 10)
	e.b = append(e.b, `,"addr":`...)
	e.addr(h.Addr)
	if h.Name != "" {
		e.b = append(e.b, `,"name":`...)
		e.str(h.Name)
	}
	if h.RTTMs != 0 {
		e.b = append(e.b, `,"rtt_ms":`...)
		e.float(h.RTTMs)
	}
	if h.ASN != 0 {
		e.b = append(e.b, `,"asn":`...)
		e.b = strconv.AppendUint(e.b, uint64(h.ASN), 10)
	}
	if h.ASOrg != "" {
		e.b = append(e.b, `,"as_org":`...)
		e.str(h.ASOrg)
	}
	e.b = append(e.b, `,"location":`...)
	if l := h.Location; l == nil {
		e.b = append(e.b, "null"...)
	} else {
		e.b = append(e.b, `{"lat":`...)
		e.float(l.Lat)
		e.b = append(e.b, `,"lon":`...)
		e.float(l.Lon)
		e.b = append(e.b, `,"radius_km":`...)
		e.float(l.RadiusKm)
		if l.City != "" {
			e.b = append(e.b, `,"city":`...)
			e.str(l.City)
		}
		if l.Region != "" {
			e.b = append(e.b, `,"region":`...)
			e.str(l.Region)
		}
		if l.Country != "" {
			e.b = append(e.b, `,"country":`...)
			e.str(l.Country)
		}
		e.b = append(e.b, '}')
	}
	if h.Why != "" {
		e.b = append(e.b, `,"why":`...)
		e.str(h.Why)
	}
	e.b = append(e.b, `,"confidence":`...)
	e.float(h.Confidence)
	if h.CountryConfidence != 0 {
		e.b = append(e.b, `,"country_confidence":`...)
		e.float(h.CountryConfidence)
	}
	if h.Method != "" {
		e.b = append(e.b, `,"method":`...)
		e.str(h.Method)
	}
	e.b = append(e.b, `,"inferred":`...)
	e.b = strconv.AppendBool(e.b, h.Inferred)
	e.b = append(e.b, `,"anycast":`...)
	e.b = strconv.AppendBool(e.b, h.Anycast)
	if len(h.Evidence) > 0 {
		e.b = append(e.b, `,"evidence":[`...)
		for i := range h.Evidence {
			v := &h.Evidence[i]
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.b = append(e.b, `{"source":`...)
			e.str(v.Source)
			e.b = append(e.b, `,"kind":`...)
			e.str(v.Kind)
			e.b = append(e.b, `,"lat":`...)
			e.float(v.Lat)
			e.b = append(e.b, `,"lon":`...)
			e.float(v.Lon)
			if v.City != "" {
				e.b = append(e.b, `,"city":`...)
				e.str(v.City)
			}
			if v.Country != "" {
				e.b = append(e.b, `,"country":`...)
				e.str(v.Country)
			}
			e.b = append(e.b, `,"status":`...)
			e.str(v.Status)
			if v.Why != "" {
				e.b = append(e.b, `,"why":`...)
				e.str(v.Why)
			}
			e.b = append(e.b, '}')
		}
		e.b = append(e.b, ']')
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
	e.b = append(e.b, '[')
	for i, v := range s {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.str(v)
	}
	e.b = append(e.b, ']')
}

func (e *jsonEnc) float(f float64) {
	b, ok := jsonw.Float(e.b, f)
	if !ok && e.err == nil {
		e.err = &json.UnsupportedValueError{Value: reflect.ValueOf(f), Str: strconv.FormatFloat(f, 'g', -1, 64)}
	}
	e.b = b
}

func (e *jsonEnc) str(s string) { e.b = jsonw.String(e.b, s, e.html) }
