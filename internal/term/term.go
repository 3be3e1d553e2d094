// Package term holds geoloc's terminal output: detection of interactive
// terminals, colour policy (never without a terminal, never with NO_COLOR),
// aligned tables, the mtr-like table of a located trace, and a progress
// line (done, rate, time left) for long work (the live view of `geoloc
// trace` is package liveview). Every string that came from the network is stripped
// of control characters before it reaches the terminal.
package term

import (
	"io"

	xterm "golang.org/x/term"
)

// fder is implemented by *os.File.
type fder interface{ Fd() uintptr }

// IsTerminal reports whether w is an interactive terminal.
func IsTerminal(w any) bool {
	f, ok := w.(fder)
	return ok && xterm.IsTerminal(int(f.Fd()))
}

// ColorEnabled reports whether colour may be written to w: only on a
// terminal, never when NO_COLOR is set to anything (https://no-color.org)
// and never on TERM=dumb. env reads the environment; nil means empty.
func ColorEnabled(w io.Writer, env func(string) string) bool {
	if env != nil && (env("NO_COLOR") != "" || env("TERM") == "dumb") {
		return false
	}
	return IsTerminal(w)
}

// Width returns the terminal width of w in columns, or def when w is no
// terminal or the width is unknown.
func Width(w any, def int) int {
	f, ok := w.(fder)
	if !ok {
		return def
	}
	cols, _, err := xterm.GetSize(int(f.Fd()))
	if err != nil || cols <= 0 {
		return def
	}
	return cols
}

// Height returns the terminal height of w in rows, or def when unknown.
func Height(w any, def int) int {
	f, ok := w.(fder)
	if !ok {
		return def
	}
	_, rows, err := xterm.GetSize(int(f.Fd()))
	if err != nil || rows <= 0 {
		return def
	}
	return rows
}

// ANSI styles used by the tables.
const (
	Reset  = "\x1b[0m"
	Bold   = "\x1b[1m"
	Dim    = "\x1b[2m"
	Red    = "\x1b[31m"
	Green  = "\x1b[32m"
	Yellow = "\x1b[33m"
	Blue   = "\x1b[34m"
	Cyan   = "\x1b[36m"
)
