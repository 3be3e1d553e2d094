// Package kml writes geoloc results as KML 2.2 (and KMZ) for Google Earth,
// Marble, QGIS and GDAL.
//
// [Write] puts every trace in its own folder, named by its destination: one
// placemark per located hop (named "TTL host", with the address, PTR name,
// AS, place, minimum RTT, confidence, method and evidence in its balloon and
// as ExtendedData), the path as a tessellated line, each ECMP alternative as
// a line of its own, and optionally (Options.Circles) the uncertainty radius
// of every hop as a polygon. Hops the engine could not place are listed in
// the folder's description, never drawn at a made-up point. Placemarks are
// styled by AS with a colour derived from the AS number, so an operator has
// the same colour in every map; the document's description is the legend.
//
// [WriteAggregate] draws a big batch aggregated (output.Aggregate): each
// distinct place once and each distinct link between consecutive placed
// hops once, named with the number of traces through it and as wide as its
// logarithm.
//
// Every string that came from the network (PTR names are written by whoever
// controls the reverse zone) is sanitised and, inside descriptions, which
// viewers render as HTML, HTML-escaped before the XML encoder escapes it
// again: a hostile name can neither break the XML nor inject markup.
package kml
