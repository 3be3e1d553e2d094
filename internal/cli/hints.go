package cli

import (
	"flag"
)

func cmdHints() *command {
	return &command{
		name:    "hints",
		summary: "read location hints from router names (offline)",
		help: `Usage: geoloc hints [FLAGS] NAME...|-

Prints the location hints read from each router name, best first, one JSON
line per name: {"name":"...","hints":[{"code":"fra","kind":"iata",...}]}.
Codes are IATA and ICAO airports, UN/LOCODEs, CLLI-like abbreviations, city
names and operators' own site codes. With -, names are read from standard
input, one a line. Nothing is looked up on the network.

Examples:
  geoloc hints be3.agr21.fra03.atlas.cogentco.com
  geoloc hints ae-5.r21.frnkge13.de.bb.gin.ntt.net ffm-b4-link.ip.twelve99.net
  cut -d' ' -f2 names.txt | geoloc hints -`,
		run: runHints,
	}
}

func runHints(a *app, args []string) error {
	var c common
	fs := flag.NewFlagSet("hints", flag.ContinueOnError)
	c.addQuietLog(fs)
	c.addOutputStdout(fs)
	names, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return usagef("no names: give router names, or - to read them from standard input")
	}
	return notAvailable("geoloc hints", "rdns (rdns.Hints)")
}
