// Package kml writes geoloc results as KML 2.2 (and KMZ) for Google Earth,
// Marble and GIS tools.
package kml
