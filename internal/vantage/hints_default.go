package vantage

import "github.com/geoloc-dev/geoloc/rdns"

func defaultHints(string) []rdns.Hint { return nil }
