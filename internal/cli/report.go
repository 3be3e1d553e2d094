package cli

import (
	"flag"
)

func cmdReport() *command {
	return &command{
		name:    "report",
		summary: "summarise saved results: countries crossed, organisations seen",
		help: `Usage: geoloc report [FLAGS] RESULTS.jsonl...|-

Reads results saved by 'geoloc regeo' or 'geoloc trace' (JSON Lines) and
summarises them per destination and overall: the countries the traffic
crossed, the organisations that ran the routers, how many hops were located
and how.

Examples:
  geoloc regeo traces.txt > results.jsonl && geoloc report results.jsonl
  geoloc report --format jsonl results.jsonl`,
		run: runReport,
	}
}

func runReport(a *app, args []string) error {
	var c common
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	c.addQuietLog(fs)
	c.addOutputStdout(fs)
	files, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("no input: name RESULTS.jsonl files, or - for standard input")
	}
	return notAvailable("geoloc report", "internal/report")
}
