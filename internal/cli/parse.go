package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/geoloc-dev/geoloc/output"
	"github.com/geoloc-dev/geoloc/traceroute"
)

func cmdParse() *command {
	return &command{
		name:    "parse",
		summary: "read saved traceroute output of any common tool into interchange JSON Lines",
		help: `Usage: geoloc parse [FLAGS] FILE...|-

Reads saved traceroute output (Linux, BSD/macOS, Windows tracert and pathping,
tcptraceroute, tracepath,
mtr text/JSON/CSV/raw, RIPE Atlas traceroute and ping results, Globalping
measurements, scamper, Cisco/Junos/NX-OS, WinMTR, and geoloc's own
interchange JSON) and writes every trace as one line of
interchange JSON on stdout. The format is detected per file; --input-format
forces one. gzip, bzip2 and zstd files are read as they are.

A bad record is reported on stderr as one line, FILE:LINE: FORMAT: what is
wrong; every good trace is still written. A summary ("N traces read, M
failed") goes to stderr unless -q. -o FILE writes the traces to FILE
instead, replaced whole only when done (and not at all when no trace was
read).

Examples:
  geoloc parse traceroute.txt
  traceroute -n example.org | geoloc parse -
  geoloc parse --input-format ripe-atlas atlas-results.json.bz2 -o traces.jsonl
  geoloc parse --formats`,
		run: runParse,
	}
}

func runParse(a *app, args []string) error {
	var c common
	fs := flag.NewFlagSet("parse", flag.ContinueOnError)
	c.addInputFormat(fs)
	c.addQuietLog(fs)
	formats := fs.Bool("formats", false, "list the input formats and exit")
	outFile := fs.String("o", "-", "write the interchange JSON Lines to `FILE` (- is standard output)")
	files, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if *formats {
		for _, f := range traceroute.Formats() {
			fmt.Fprintln(a.stdout, f)
		}
		return nil
	}
	if err := checkInputFormat(c.inputFormat); err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("no input: name one or more FILEs, or - for standard input")
	}
	if err := parseOutputName(*outFile); err != nil {
		return err
	}
	var read, failed int
	write := func(w io.Writer) error {
		enc := traceroute.NewEncoder(w)
		err := a.readTraces(files, c.inputFormat, func(t *traceroute.Trace) error {
			read++
			return enc.Encode(t)
		}, func(error) { failed++ })
		if ferr := enc.Flush(); err == nil {
			err = ferr
		}
		if err == nil && read == 0 && *outFile != "-" {
			// Replacing a file with nothing would lose what it held.
			return errNothingRead
		}
		return err
	}
	if *outFile == "-" {
		err = write(a.stdout)
	} else {
		err = output.WriteFileAtomic(*outFile, write)
		if errors.Is(err, errNothingRead) {
			fmt.Fprintf(a.stderr, "geoloc parse: no trace read; %s not written\n", *outFile)
			err = nil
		}
	}
	if err != nil {
		return err
	}
	if !c.quiet {
		fmt.Fprintf(a.stderr, "%s read, %d failed\n", plural(read, "trace"), failed)
	}
	if failed > 0 {
		return &partialError{failed: failed}
	}
	return nil
}

var errNothingRead = errors.New("no trace read")

// parseOutputName refuses an -o name whose extension names a map or table:
// parse writes traces, not located results.
func parseOutputName(o string) error {
	switch ext := strings.ToLower(filepath.Ext(o)); ext {
	case "", ".jsonl", ".ndjson", ".json":
		return nil
	default:
		return usagef("-o %s: parse writes traces as interchange JSON Lines (.jsonl); for maps and tables of located routers use 'geoloc regeo %s'", o, "... -o "+o)
	}
}

func checkInputFormat(name string) error {
	if name == "" {
		return nil
	}
	for _, f := range traceroute.Formats() {
		if f == name {
			return nil
		}
	}
	return usagef("--input-format %q: unknown; run 'geoloc parse --formats' for the list", name)
}

// readTraces streams every trace of every named input to each. Bad records
// and unreadable inputs are printed on stderr, one line each, and passed to
// bad; reading goes on. It stops early only when each returns an error (a
// write failed) or the context is cancelled.
func (a *app) readTraces(files []string, format string, each func(*traceroute.Trace) error, bad func(error)) error {
	for _, name := range files {
		if err := a.ctx.Err(); err != nil {
			return err
		}
		rc, err := a.openInput(name)
		if err != nil {
			fmt.Fprintln(a.stderr, err)
			bad(err)
			continue
		}
		err = readOne(a.ctx, rc, name, format, each, func(err error) {
			fmt.Fprintln(a.stderr, err)
			bad(err)
		})
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// readOne is readTraces for one input. A cancelled ctx stops it (between
// records, or in a read, which then fails) with ctx's error.
func readOne(ctx context.Context, r io.Reader, name, format string, each func(*traceroute.Trace) error, bad func(error)) error {
	for t, err := range readTraces(r, traceroute.ReadOptions{Format: format, Input: name}) {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			bad(err)
			continue
		}
		if err := each(t); err != nil {
			return err
		}
	}
	return nil
}
