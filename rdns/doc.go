// Package rdns reads location hints from router names and looks those names
// up. Hints are extracted offline from embedded dictionaries (airports,
// UN/LOCODEs, places, operator conventions); PTR lookups are concurrent,
// cached and time-bounded. The package never decides a location: it returns
// ranked hints and leaves the choice to the engine.
package rdns
