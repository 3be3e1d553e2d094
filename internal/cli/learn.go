package cli

import (
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/geoloc-dev/geoloc/output"
)

func cmdLearn() *command {
	return &command{
		name:    "learn",
		summary: "learn operators' router naming conventions from saved traceroutes",
		help: `Usage: geoloc learn [FLAGS] FILE...

Reads saved traceroutes of any format 'geoloc parse' reads and learns the
naming conventions of the operators whose routers they show, as 'regeo
--fuse' does in its first pass: per domain, which label of a router's name
carries its location and what each code means ("ipls" Indianapolis, "omha"
Omaha). A code is mapped to a place only where that place lies inside the
RTT bound of every observation of the code; codes several places fit keep
them as alternatives, codes no place fits are listed as rejected, with the
reason. The more vantage points, the better: they come from the traces
(RIPE Atlas probes with --vantage-points), from --from, or are inferred
from the RTTs when those place them within 500 km.

The conventions are written as JSON (one entry a line: domain, pattern,
code, place, alternatives, support, conflicts, source) to -o FILE, or to
standard output. Review the file, then use it in any command with
--conventions FILE. Codes the built-in conventions or --conventions files
already map are not learned again. Nothing is looked up on the network
unless --ptr is given.

Examples:
  geoloc learn atlas-*.json.bz2 --vantage-points probes.json -o conventions.json
  geoloc regeo new-traces.txt --conventions conventions.json`,
		run: runLearn,
	}
}

func runLearn(a *app, args []string) error {
	var f engineFlags
	var out string
	fs := flag.NewFlagSet("learn", flag.ContinueOnError)
	f.addDB(fs)
	f.addFrom(fs)
	f.addDNS(fs)
	f.addQuietLog(fs)
	f.addInputFormat(fs)
	f.addConventions(fs)
	fs.StringVar(&out, "o", "", "write the conventions to `FILE` (default: standard output)")
	fs.BoolVar(&f.ptr, "ptr", false, "look up PTR names of addresses the trace shows no name for")
	f.addVantagePoints(fs)
	files, err := a.parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkInputFormat(f.inputFormat); err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("no input: name one or more FILEs")
	}
	if slices.Contains(files, "-") {
		return usagef("learn reads files, not - (standard input): give the files of the batch")
	}
	log, err := a.logger(&f.common)
	if err != nil {
		return err
	}
	f.learn = true
	eng, closeAll, err := a.newEngine(&f, log)
	if err != nil {
		return err
	}
	defer closeAll()
	prog, read := a.inputProgress(&f.common, files, "MB observed")
	failed := 0
	n, err := eng.ObserveAll(a.ctx, a.traceSeq(files, f.inputFormat, read), func(err error) bool {
		prog.Done()
		fmt.Fprintln(a.stderr, err)
		failed++
		return true
	})
	prog.Done()
	if err != nil {
		return err
	}
	conv := eng.Learned()
	if n == 0 {
		return fmt.Errorf("no trace read, nothing learned")
	}
	write := func(w io.Writer) error { return conv.WriteJSON(w) }
	if out == "" || out == "-" {
		err = write(a.stdout)
	} else {
		err = output.WriteFileAtomic(out, write)
	}
	if err != nil {
		return err
	}
	if !f.quiet {
		accepted, rejected := 0, 0
		domains := map[string]bool{}
		for _, e := range conv.Entries {
			if e.Rejected != "" {
				rejected++
				continue
			}
			accepted++
			domains[e.Domain] = true
		}
		fmt.Fprintf(a.stderr, "%s read; learned %s in %s, %s rejected (reasons in the file)\n",
			plural(n, "trace"), plural(accepted, "code"), plural(len(domains), "domain"), plural(rejected, "code"))
	}
	if failed > 0 {
		return &partialError{failed: failed}
	}
	return nil
}
