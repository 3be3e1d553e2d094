// Package geoloc is the engine: for every hop of a trace it gathers candidate
// locations (router-name hints, GeoIP databases, geofeeds), discards those
// that break a physical bound (the speed of light in fibre), scores the rest
// and chooses, returning a location with a radius, a confidence and the
// evidence, including what was ruled out and why.
package geoloc
