// Package e2e holds end-to-end tests of the geoloc command: TestMain builds
// the binary once into a temporary directory, and the tests drive it as a
// user would — files, standard input, flags, exit codes, output files — and
// check what comes out with the tools people open it in (xmllint, GDAL's
// ogrinfo, Graphviz) where they are installed.
//
// Every run is bounded by a timeout, must not panic, must exit 0, 1 or 2 as
// `geoloc --help` documents, and runs with an empty database cache, no
// GEOLOC_DB and no PTR lookups, so that nothing here depends on the machine
// or sends a packet anywhere.
package e2e
