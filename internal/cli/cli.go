// Package cli is the body of the geoloc command: one file per subcommand,
// all of them runnable in-process through Run, so that tests drive the real
// command line without building a binary. It holds no logic a library user
// would need; that lives in the public packages (traceroute, tracer, rdns,
// candidates, candidates/fetch, geoloc, kml, output, har, vantage) and in
// internal/term.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"syscall"

	"github.com/geoloc-dev/geoloc/internal/term"
)

// Exit codes, the same for every subcommand.
const (
	ExitOK      = 0 // everything worked
	ExitPartial = 1 // some inputs failed (each reported on stderr); every good one was written
	ExitUsage   = 2 // the command line is wrong
	// ExitSignal plus a signal's number is the status of a command a
	// signal stopped (SIGINT 130, SIGTERM 143), as shells report it.
	ExitSignal = 128
)

// Interrupted is the cause a command's context is cancelled with when a
// signal asks it to stop (cmd/geoloc does this for SIGINT and SIGTERM).
// The command stops reading, leaves its output files as they were, and Run
// returns ExitSignal plus the signal's number.
type Interrupted struct{ Signal os.Signal }

func (e *Interrupted) Error() string { return "interrupted by " + e.Signal.String() }

// ExitCode is the status for the signal: 128 + its number.
func (e *Interrupted) ExitCode() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return ExitSignal + int(s)
	}
	return ExitPartial
}

// app is what a subcommand sees of the outside world. Nothing in this package
// touches os.Stdin, os.Stdout, os.Stderr or os.Getenv directly, so tests run
// every command in-process.
type app struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	env    func(string) string
	cmd    *command
}

type command struct {
	name    string
	summary string
	// help is the synopsis, a description and examples; the flag list is
	// appended when printed.
	help string
	run  func(a *app, args []string) error
	// hidden commands are not listed in the overview.
	hidden bool
}

func commands() []*command {
	return []*command{
		cmdTrace(), cmdRegeo(), cmdLocate(), cmdHAR(), cmdParse(), cmdHints(),
		cmdDB(), cmdReport(), cmdLearn(), cmdVersion(),
	}
}

// Run runs the geoloc command line args (without the program name) and
// returns the exit status. env reads environment variables (os.Getenv in the
// real binary); nil means an empty environment.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env func(string) string) int {
	if env == nil {
		env = func(string) string { return "" }
	}
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	a := &app{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, env: env}
	if len(args) == 0 {
		writeOverview(stderr, false)
		return ExitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && name == "help" {
			if c := lookup(args[1]); c != nil {
				a.cmd = c
				a.printHelp(stdout, nil)
				return ExitOK
			}
		}
		writeOverview(stdout, true)
		return ExitOK
	case "-version", "--version":
		name = "version"
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "geoloc: unknown command %q\nRun 'geoloc help' for the list of commands.\n", name)
		return ExitUsage
	}
	a.cmd = c
	return a.exit(c.run(a, args[1:]))
}

func lookup(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// partialError reports that some inputs failed; each failure was already
// printed on stderr, one line each.
type partialError struct{ failed int }

func (e *partialError) Error() string { return fmt.Sprintf("%d inputs failed", e.failed) }

func (a *app) exit(err error) int {
	var ue *usageError
	var pe *partialError
	var in *Interrupted
	if a.ctx.Err() != nil && errors.As(context.Cause(a.ctx), &in) && !errors.As(err, &ue) {
		// Whatever the command made of it, a signal stopped it: say so
		// in the status, as other tools do.
		fmt.Fprintf(a.stderr, "geoloc %s: interrupted\n", a.cmd.name)
		return in.ExitCode()
	}
	switch {
	case err == nil, errors.Is(err, errHelp):
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(a.stderr, "geoloc %s: %s\nRun 'geoloc %s --help' for usage.\n", a.cmd.name, ue.msg, a.cmd.name)
		return ExitUsage
	case errors.As(err, &pe):
		return ExitPartial
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(a.stderr, "geoloc %s: interrupted\n", a.cmd.name)
		return ExitPartial
	default:
		fmt.Fprintf(a.stderr, "geoloc %s: %v\n", a.cmd.name, err)
		return ExitPartial
	}
}

// parse parses the subcommand's flags, printing help on -h/--help.
func (a *app) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := parseFlags(fs, args)
	if errors.Is(err, errHelp) {
		a.printHelp(a.stdout, fs)
	}
	if err != nil {
		return pos, err
	}
	if err := checkRanges(fs); err != nil {
		return nil, err
	}
	if f := fs.Lookup("dns"); f != nil {
		if err := checkDNS(f.Value.String()); err != nil {
			return nil, err
		}
	}
	// --color is checked here, before any output, not when (or whether)
	// a table is drawn.
	if cf := fs.Lookup("color"); cf != nil {
		switch v := cf.Value.String(); v {
		case "auto", "always", "never", "":
		default:
			return nil, usagef("--color %q: want auto, always or never", v)
		}
	}
	return pos, nil
}

func (a *app) printHelp(w io.Writer, fs *flag.FlagSet) {
	if fs == nil {
		// help CMD: the command prints its own help, flags included.
		_ = a.cmd.run(&app{ctx: a.ctx, stdin: strings.NewReader(""), stdout: w, stderr: io.Discard, env: a.env, cmd: a.cmd}, []string{"--help"})
		return
	}
	fmt.Fprintf(w, "%s\n", strings.TrimSpace(a.cmd.help))
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintf(w, "\nFlags:\n")
		printFlags(w, fs)
	}
	fmt.Fprintf(w, "\nExit status: 0 success; 1 some inputs failed (each named on stderr, all good ones written); 2 usage error; 130/143 stopped by SIGINT/SIGTERM.\n")
}

// printFlags lists a flag set the way people type the flags: -o and -q with
// one dash, the long ones with two.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		// The type shown comes from the flag's own value, not the
		// given-once wrapper parseFlags puts around it.
		g := *f
		if o, ok := g.Value.(*onceValue); ok {
			g.Value = o.Value
		}
		arg, usage := flag.UnquoteUsage(&g)
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		head := "  " + dash + f.Name
		if arg != "" {
			head += " " + arg
		}
		switch f.DefValue {
		case "", "0", "false", "[]":
		default:
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n      %s\n", head, usage)
	})
}

// writeOverview writes what geoloc does and its commands; full adds the
// flags, databases, environment, remote measurements, output files and exit
// status ('geoloc help'). Without a command, the usage error gets the
// short form.
func writeOverview(w io.Writer, full bool) {
	fmt.Fprint(w, `geoloc shows where Internet traffic goes: it traces (or reads saved traces of)
the route to a host, locates every router on the way from its name, GeoIP
databases and the speed of light, and draws the result.

Usage: geoloc COMMAND [ARGS] [FLAGS]

Commands:
`)
	for _, c := range commands() {
		if !c.hidden {
			fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
		}
	}
	if !full {
		fmt.Fprint(w, `
Run 'geoloc help' for the flags, databases, environment, output files and
exit status, and 'geoloc COMMAND --help' for a command's flags and examples.
`)
		return
	}
	fmt.Fprint(w, `
Flags mean the same in every command: --db FILE (repeatable), --db-only,
--no-db, --from, -o FILE (repeatable, writer chosen by extension), --format,
--input-format, --dns SERVER, -q, --log-level. Flags may come before or
after the arguments; a flag that takes one value may be given once.

Databases: geoloc uses every database in its cache directory (see 'geoloc db
list'), in /usr/share/GeoIP and /var/lib/GeoIP, and the files listed in
GEOLOC_DB (separated by ':'); --db FILE adds one, --db-only uses the --db
files alone, --no-db none. Without any, it still locates routers from their
names and RTTs.

Environment: GEOLOC_DB (extra databases), GEOLOC_CACHE_DIR (cache directory),
NO_COLOR (no colour, ever); for remote measurements ATLAS_API_KEY,
GLOBALPING_TOKEN, GEOLOC_ATLAS_API and GEOLOC_GLOBALPING_API.

Remote measurements: trace --globalping/--atlas-probes, regeo --atlas and
--ping, locate --ping ask RIPE Atlas or Globalping; a new measurement
publishes its target to that service. Without those flags nothing is sent
to either.

Output files: -o writes a temporary .NAME.geoloc-tmp-PID-RANDOM beside NAME
and renames it into place when complete; one a killed run left is removed by
the next run writing NAME (if yours and its process is gone). New files get
0666 less the umask; a dangling symbolic link is refused, and so is, in a
sticky world-writable directory (/tmp), a link or file of another user's.

Exit status: 0 success; 1 some inputs failed (each named on stderr, all good
ones written); 2 usage error; 130/143 stopped by SIGINT/SIGTERM (-o files
left as they were).

Examples:
  geoloc regeo traceroute.txt -o route.kml
  geoloc trace example.org -o route.html
  geoloc har page.har -o page.kml
  geoloc locate 62.115.116.17 --rtt 1.7 --from fra

Run 'geoloc COMMAND --help' for a command's flags and examples.
`)
}

// logger builds the slog logger the common -q/--log-level flags ask for.
func (a *app) logger(c *common) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", c.logLevel)
	}
	if c.quiet && lvl < slog.LevelError {
		lvl = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: lvl})), nil
}

// stdoutIsTerminal reports whether stdout is an interactive terminal.
func (a *app) stdoutIsTerminal() bool { return term.IsTerminal(a.stdout) }

// color reports whether to colour output written to w.
func (a *app) color(c *common, w io.Writer) (bool, error) {
	switch c.color {
	case "never":
		return false, nil
	case "always":
		return a.env("NO_COLOR") == "", nil
	case "auto", "":
		return term.ColorEnabled(w, a.env), nil
	}
	return false, usagef("--color %q: want auto, always or never", c.color)
}

// progress returns a progress reporter on stderr, or a silent one when
// stderr is no terminal or -q was given.
func (a *app) progress(c *common, what string, total int) *term.Progress {
	if c.quiet || !term.IsTerminal(a.stderr) {
		return nil
	}
	return term.NewProgress(a.stderr, what, total)
}

// openInput opens a named input; "-" is standard input. gzip, bzip2 and zstd
// compressed files are read transparently (RIPE Atlas dumps come that way).
func (a *app) openInput(name string) (io.ReadCloser, error) {
	return a.openInputCounted(name, nil)
}

// openInputCounted is openInput that reports, through read, the bytes read
// from the file itself (compressed bytes for a compressed file), for
// progress against the file's size.
func (a *app) openInputCounted(name string, read func(int)) (io.ReadCloser, error) {
	if name == "-" {
		return decompressed(io.NopCloser(a.interruptible(a.stdin)))
	}
	f, err := os.Open(name)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: cannot open: %w (check the path)", name, err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		// Reading would fail with EISDIR at a position that means
		// nothing; say what is wrong instead.
		f.Close()
		return nil, fmt.Errorf("%s: cannot open: is a directory, not a file", name)
	}
	var src io.ReadCloser = readCloser{a.interruptible(f), f}
	if read != nil {
		src = readCloser{countingReader{src, read}, f}
	}
	rc, err := decompressed(src)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rc, nil
}

type countingReader struct {
	r    io.Reader
	read func(int)
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.read(n)
	}
	return n, err
}
