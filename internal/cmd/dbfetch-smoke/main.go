// Command dbfetch-smoke fetches databases for real (by default the three
// ip-location-db packages from the npm registry) into a directory, lists
// them, opens everything there as geoloc would and prints each address's
// candidates as JSON Lines. It is the body of scripts/smoke-dbfetch.sh, not
// part of go test.
//
//	go run ./internal/cmd/dbfetch-smoke -dir /tmp/geoloc-db 8.8.8.8 1.1.1.1
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"time"

	"github.com/geoloc-dev/geoloc/candidates"
	"github.com/geoloc-dev/geoloc/candidates/fetch"
)

func main() {
	dir := flag.String("dir", "", "database directory (default: the user cache dir)")
	names := flag.String("names", "", "comma-separated databases to fetch (default: "+strings.Join(fetch.DefaultNames(), ",")+")")
	noFetch := flag.Bool("no-fetch", false, "only list and look up")
	flag.Parse()
	if err := run(*dir, *names, *noFetch, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "dbfetch-smoke:", err)
		os.Exit(1)
	}
}

func run(dir, names string, noFetch bool, addrs []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if dir == "" {
		d, err := candidates.DefaultDir()
		if err != nil {
			return err
		}
		dir = d
	}
	if !noFetch {
		opts := fetch.Options{Dir: dir, Logger: log}
		if names != "" {
			opts.Names = strings.Split(names, ",")
		}
		start := time.Now()
		var lastPct int64 = -1
		opts.OnDatabase = func(d fetch.Database) {
			lastPct = -1
			fmt.Fprintf(os.Stderr, "fetching %s (%s)\n", d.Name, d.Package)
		}
		opts.Progress = func(done, total int64) {
			if total > 0 && done*10/total != lastPct {
				lastPct = done * 10 / total
				fmt.Fprintf(os.Stderr, "  %3d%% of %.1f MB\n", lastPct*10, float64(total)/1e6)
			}
		}
		if _, err := fetch.Fetch(ctx, opts); err != nil {
			return err
		}
		fmt.Printf("fetched in %s\n", time.Since(start).Round(time.Millisecond))
	}
	list, err := fetch.List(dir)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, d := range list {
		fmt.Printf("installed %-20s version %-16s built %s (%.0f days old) files %s\n  licence: %s\n  attribution: %s\n  integrity: %.40s...\n",
			d.Name, d.Version, d.Built.Format(time.DateOnly), d.Age(now).Hours()/24, strings.Join(d.Files, " "), d.License, d.Attribution, d.Integrity)
	}
	paths, err := candidates.Discover(dir)
	if err != nil {
		return err
	}
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	srcs, err := candidates.OpenAll(paths, candidates.OpenOptions{})
	if err != nil {
		return err
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	fmt.Printf("opened %d sources from %d files in %s (Go heap +%.1f MB)\n", len(srcs), len(paths),
		time.Since(start).Round(time.Millisecond), float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc))/1e6)
	for _, s := range srcs {
		fmt.Printf("  source %s (%s)\n", s.Name(), candidates.SourceInfo(s).Kind)
	}
	enc := json.NewEncoder(os.Stdout)
	for _, a := range addrs {
		addr, err := netip.ParseAddr(a)
		if err != nil {
			return err
		}
		line := struct {
			Addr       string                 `json:"addr"`
			ASN        uint32                 `json:"asn,omitempty"`
			ASOrg      string                 `json:"as_org,omitempty"`
			Prefix     string                 `json:"prefix,omitempty"`
			Candidates []candidates.Candidate `json:"candidates"`
		}{Addr: a, Candidates: []candidates.Candidate{}}
		for _, s := range srcs {
			ans, err := s.Lookup(candidates.Query{Addr: addr})
			if err != nil {
				return err
			}
			line.Candidates = append(line.Candidates, ans.Candidates...)
			if ans.AS != nil && line.ASN == 0 {
				line.ASN, line.ASOrg, line.Prefix = ans.AS.Number, ans.AS.Org, ans.AS.Prefix.String()
			}
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	for _, s := range srcs {
		_ = candidates.CloseSource(s)
	}
	return nil
}
