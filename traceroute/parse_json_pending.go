package traceroute

import (
	"bufio"
	"errors"
)

// jsonFormats are the structured formats (owned by the JSON parsers). Each
// entry here is a placeholder until its parser lands.
var jsonFormats = []format{
	{name: FormatGeoloc, detect: func([]byte) bool { return false }, parse: notYet(FormatGeoloc)},
	{name: "ripe-atlas", detect: func([]byte) bool { return false }, parse: notYet("ripe-atlas")},
	{name: "scamper-json", detect: func([]byte) bool { return false }, parse: notYet("scamper-json")},
	{name: "mtr-json", detect: func([]byte) bool { return false }, parse: notYet("mtr-json")},
	{name: "nxos-json", detect: func([]byte) bool { return false }, parse: notYet("nxos-json")},
	{name: "junos-xml", detect: func([]byte) bool { return false }, parse: notYet("junos-xml")},
	{name: "iosxr-xml", detect: func([]byte) bool { return false }, parse: notYet("iosxr-xml")},
}

func notYet(name string) func(*bufio.Reader, string, func(*Trace, error) bool) {
	return func(_ *bufio.Reader, input string, yield func(*Trace, error) bool) {
		yield(nil, &ParseError{Input: input, Format: name, Err: errors.New("parser not implemented yet")})
	}
}
