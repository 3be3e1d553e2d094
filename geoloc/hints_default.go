package geoloc

import "github.com/geoloc-dev/geoloc/rdns"

// defaultHints is used when Options.Hints is nil.
func defaultHints(name string) []rdns.Hint { return rdns.Hints(name) }
