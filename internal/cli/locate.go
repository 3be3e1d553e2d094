package cli

import (
	"flag"
)

func cmdLocate() *command {
	return &command{
		name:    "locate",
		summary: "explain where one address is, with every candidate and why",
		help: `Usage: geoloc locate [FLAGS] ADDR...

Locates single addresses and explains the choice: every candidate from every
database and from the PTR name's hints, which were ruled out by the RTT and
why. --rtt gives an RTT measured from --from (a vantage point), which rules
out candidates farther than light in fibre could travel.

--candidates prints, per address, every source's raw candidates and AS data
as one JSON line, without the engine's choice.

Examples:
  geoloc locate 62.115.116.17 --name ffm-b4-link.ip.twelve99.net
  geoloc locate 62.115.116.17 --rtt 1.7 --from fra
  geoloc locate --candidates --db dbip-city.mmdb --db asn-ipv4.csv 8.8.8.8 1.1.1.1`,
		run: runLocate,
	}
}

type locateFlags struct {
	common
	candidates bool
	rttMs      float64
	name       string
	noPTR      bool
}

func runLocate(a *app, args []string) error {
	var f locateFlags
	fs := flag.NewFlagSet("locate", flag.ContinueOnError)
	f.addDB(fs)
	f.addFrom(fs)
	f.addDNS(fs)
	f.addQuietLog(fs)
	f.addOutputStdout(fs)
	fs.BoolVar(&f.candidates, "candidates", false, "print every source's candidates as JSON Lines, without choosing")
	fs.Float64Var(&f.rttMs, "rtt", 0, "RTT in `MS` measured from --from to the address")
	fs.StringVar(&f.name, "name", "", "the address's router `NAME` (skips the PTR lookup; one address only)")
	fs.BoolVar(&f.noPTR, "no-ptr", false, "do not look up PTR names")
	addrs, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if _, err := parseAddrs(addrs); err != nil {
		return err
	}
	if f.rttMs < 0 {
		return usagef("--rtt %v: want a positive number of milliseconds", f.rttMs)
	}
	if f.rttMs > 0 && f.from == "" {
		return usagef("--rtt needs --from: an RTT bounds the distance from a known vantage point")
	}
	if f.name != "" && len(addrs) != 1 {
		return usagef("--name goes with exactly one address")
	}
	if f.candidates {
		return notAvailable("geoloc locate --candidates", "candidates (candidates.Open and its sources)")
	}
	return notAvailable("geoloc locate", "geoloc (the engine)")
}
