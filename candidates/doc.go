// Package candidates turns evidence about an address into candidate
// locations: GeoIP databases of any common schema (MMDB), ASN range tables,
// RFC 8805 geofeeds, and the hints read from router names. Every candidate
// carries its source and kind so that the engine can judge it; this package
// never looks at RTTs.
package candidates
