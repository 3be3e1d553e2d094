package output

import (
	"math"

	"github.com/geoloc-dev/geoloc/geoloc"
	"github.com/geoloc-dev/geoloc/internal/style"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// finiteResult returns r itself, or, when one of its numbers is NaN or
// infinite, a copy with each such number 0. JSON cannot carry them, and
// one impossible number from a hostile results file or a library caller
// must not fail a whole batch; the caller's result is left untouched.
func finiteResult(r *geoloc.TraceResult) *geoloc.TraceResult {
	if resultFinite(r) {
		return r
	}
	c := *r
	c.Source, c.Destination = finiteEndpoint(r.Source), finiteEndpoint(r.Destination)
	if r.Vantage != nil {
		v := *r.Vantage
		v.Lat, v.Lon, v.RadiusKm = style.Finite(v.Lat), style.Finite(v.Lon), style.Finite(v.RadiusKm)
		c.Vantage = &v
	}
	c.Hops = make([]geoloc.HopResult, len(r.Hops))
	for i, h := range r.Hops {
		h.RTTMs, h.Confidence, h.CountryConfidence = style.Finite(h.RTTMs), style.Finite(h.Confidence), style.Finite(h.CountryConfidence)
		if h.Location != nil {
			l := *h.Location
			l.Lat, l.Lon, l.RadiusKm = style.Finite(l.Lat), style.Finite(l.Lon), style.Finite(l.RadiusKm)
			h.Location = &l
		}
		if h.Evidence != nil {
			ev := make([]geoloc.Evidence, len(h.Evidence))
			for j, e := range h.Evidence {
				e.Lat, e.Lon = style.Finite(e.Lat), style.Finite(e.Lon)
				ev[j] = e
			}
			h.Evidence = ev
		}
		c.Hops[i] = h
	}
	return &c
}

func resultFinite(r *geoloc.TraceResult) bool {
	ok := func(xs ...float64) bool {
		for _, x := range xs {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return false
			}
		}
		return true
	}
	if !endpointFinite(r.Source) || !endpointFinite(r.Destination) ||
		r.Vantage != nil && !ok(r.Vantage.Lat, r.Vantage.Lon, r.Vantage.RadiusKm) {
		return false
	}
	for i := range r.Hops {
		h := &r.Hops[i]
		if !ok(h.RTTMs, h.Confidence, h.CountryConfidence) ||
			h.Location != nil && !ok(h.Location.Lat, h.Location.Lon, h.Location.RadiusKm) {
			return false
		}
		for _, e := range h.Evidence {
			if !ok(e.Lat, e.Lon) {
				return false
			}
		}
	}
	return true
}

func endpointFinite(e traceroute.Endpoint) bool {
	return (e.Lat == nil || style.Finite(*e.Lat) == *e.Lat) && (e.Lon == nil || style.Finite(*e.Lon) == *e.Lon)
}

func finiteEndpoint(e traceroute.Endpoint) traceroute.Endpoint {
	if e.Lat != nil {
		v := style.Finite(*e.Lat)
		e.Lat = &v
	}
	if e.Lon != nil {
		v := style.Finite(*e.Lon)
		e.Lon = &v
	}
	return e
}
