package cli

import (
	"flag"
)

func cmdDB() *command {
	return &command{
		name:    "db",
		summary: "download GeoIP/ASN databases (fetch) and show what is installed (list)",
		help: `Usage: geoloc db fetch [FLAGS] [NAME...]
       geoloc db list [FLAGS]

fetch downloads free databases into the cache directory (--dir to choose):
replaced atomically, integrity checked, with version, date, licence and
attribution recorded in a manifest. list shows what is installed, its age,
licence and attribution, and every other database geoloc would use.

Examples:
  geoloc db fetch
  geoloc db fetch dbip-city asn --dir /var/lib/geoloc
  geoloc db list`,
		run: runDB,
	}
}

func runDB(a *app, args []string) error {
	var c common
	fs := flag.NewFlagSet("db", flag.ContinueOnError)
	c.addQuietLog(fs)
	dir := fs.String("dir", "", "cache `DIR` for databases (default: GEOLOC_CACHE_DIR, else the user cache dir)/geoloc")
	pos, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	_ = dir
	if len(pos) == 0 {
		return usagef("which one: geoloc db fetch [NAME...] or geoloc db list")
	}
	switch pos[0] {
	case "fetch":
		return notAvailable("geoloc db fetch", "internal/dbfetch")
	case "list":
		return notAvailable("geoloc db list", "internal/dbfetch")
	}
	return usagef("unknown db command %q: want fetch or list", pos[0])
}
