package cli

import (
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

func cmdVersion() *command {
	return &command{
		name:    "version",
		summary: "print the version and build of geoloc",
		help: `Usage: geoloc version

Prints the module version (or "devel" for a build from a work tree), the VCS
revision and time when known, and the Go version.

Examples:
  geoloc version
  geoloc --version`,
		run: func(a *app, args []string) error {
			fs := flag.NewFlagSet("version", flag.ContinueOnError)
			pos, err := a.parse(fs, args)
			if err != nil {
				return err
			}
			if len(pos) > 0 {
				return usagef("version takes no arguments")
			}
			fmt.Fprintln(a.stdout, versionString())
			return nil
		},
	}
}

func versionString() string {
	v, rev, when, dirty := "devel", "", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	s := "geoloc " + v
	if rev != "" {
		s += " " + rev[:min(12, len(rev))]
		if dirty {
			s += "+dirty"
		}
	}
	if when != "" {
		s += " " + when
	}
	return s + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}
