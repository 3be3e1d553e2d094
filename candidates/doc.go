// Package candidates turns evidence about an address into candidate
// locations: GeoIP databases of any common schema (MMDB), ASN range tables,
// RFC 8805 geofeeds, and the hints read from router names. Every candidate
// carries its source and kind so that the engine can judge it; this package
// never looks at RTTs.
//
// Sources:
//   - MMDB (OpenMMDB): MaxMind GeoIP2/GeoLite2 City, Country and ASN; DB-IP
//     Lite City, Country and ASN; IPinfo Lite and IPinfo's other free layouts;
//     ip-location-db's flat schema (one file per address family). The schema
//     is recognised from the metadata's database_type and the record shape;
//     an unknown schema is an *UnknownSchemaError listing the fields found.
//   - ASNTable (OpenASNTable): ip-location-db "start,end,asn,org" CSVs,
//     iptoasn TSVs and IPinfo ASN CSVs compiled into sorted range arrays.
//   - Geofeed (OpenGeofeed): RFC 8805 CSV, cities resolved by a PlaceResolver.
//
// Open recognises any of the file kinds from content. Placements that are
// not cities (no city name, MaxMind accuracy of 500 km or more, a country
// centroid or a vendor's default point such as 37.751,-97.822) become
// KindCountry candidates at the country's centroid with a radius covering
// it, from geoloc's one embedded country table (world-countries, ODbL-1.0,
// and Natural Earth, public domain; see [LookupCountry]).
package candidates
