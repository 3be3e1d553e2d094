package cli

import (
	"flag"
)

func cmdRegeo() *command {
	return &command{
		name:    "regeo",
		summary: "locate every router of saved traceroutes, any format; write maps",
		help: `Usage: geoloc regeo [FLAGS] FILE...|-

Reads saved traceroute output of any format 'geoloc parse' reads, locates
every responding router (names, databases, speed of light), and writes the
results: JSON Lines on stdout (a table on a terminal), and maps with -o.
--fuse reads everything twice so that an address seen from many vantage
points is constrained by all of them.

Examples:
  geoloc regeo traceroute.txt -o route.kml
  geoloc regeo --from osl mtr-report.txt
  geoloc regeo atlas-results.json.bz2 --fuse -o atlas.geojson -o atlas.html > results.jsonl`,
		run: runRegeo,
	}
}

type regeoFlags struct {
	common
	fuse bool
}

func runRegeo(a *app, args []string) error {
	var f regeoFlags
	fs := flag.NewFlagSet("regeo", flag.ContinueOnError)
	f.addDB(fs)
	f.addFrom(fs)
	f.addOutput(fs)
	f.addInputFormat(fs)
	f.addDNS(fs)
	f.addQuietLog(fs)
	fs.BoolVar(&f.fuse, "fuse", false, "two passes: constrain each address by every trace and vantage point that saw it")
	files, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkInputFormat(f.inputFormat); err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("no input: name one or more FILEs, or - for standard input")
	}
	return notAvailable("geoloc regeo", "geoloc (the engine)")
}
