package term

import (
	"io"
	"strings"
	"unicode/utf8"
)

// Align is a column's alignment.
type Align int

// Alignments.
const (
	Left Align = iota
	Right
)

// Table is a plain aligned table: a header, rows, two spaces between columns.
// Cells are plain text; Style may return an ANSI style for a cell, applied
// only when colour is on.
type Table struct {
	Header []string
	Align  []Align // per column; missing entries mean Left
	Rows   [][]string
	// Style returns the ANSI style of cell (row, col), or "". Row -1 is the
	// header.
	Style func(row, col int) string
	// MaxWidth caps each column's width (cells are cut with "…"); 0 means no cap.
	MaxWidth []int
}

// Write writes the table to w, coloured when color is true. Trailing blanks
// are never written.
func (t *Table) Write(w io.Writer, color bool) error {
	ncol := len(t.Header)
	for _, r := range t.Rows {
		ncol = max(ncol, len(r))
	}
	cell := func(r []string, i int) string {
		if i >= len(r) {
			return ""
		}
		s := sanitize(r[i])
		if i < len(t.MaxWidth) && t.MaxWidth[i] > 0 {
			s = Truncate(s, t.MaxWidth[i])
		}
		return s
	}
	widths := make([]int, ncol)
	all := append([][]string{t.Header}, t.Rows...)
	for _, r := range all {
		for i := range ncol {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell(r, i)))
		}
	}
	// The last column is left-aligned text more often than not; don't pad it.
	var b strings.Builder
	for ri, r := range all {
		if ri == 0 && len(t.Header) == 0 {
			continue
		}
		b.Reset()
		for i := range ncol {
			s := cell(r, i)
			pad := widths[i] - utf8.RuneCountInString(s)
			right := i < len(t.Align) && t.Align[i] == Right
			if i > 0 {
				b.WriteString("  ")
			}
			if right {
				b.WriteString(strings.Repeat(" ", pad))
			}
			style := ""
			if color {
				if ri == 0 {
					style = Bold
				} else if t.Style != nil {
					style = t.Style(ri-1, i)
				}
			}
			if style != "" && s != "" {
				b.WriteString(style + s + Reset)
			} else {
				b.WriteString(s)
			}
			if !right {
				b.WriteString(strings.Repeat(" ", pad))
			}
		}
		line := strings.TrimRight(b.String(), " ")
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// Truncate cuts s to at most n runes, ending with "…" when cut.
func Truncate(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	if n == 1 {
		return "…"
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Sanitize replaces control characters and invalid UTF-8 in s (see
// sanitize): use it for network strings printed outside a Table.
func Sanitize(s string) string { return sanitize(s) }

// sanitize replaces control characters (a hostile PTR name could carry
// escape sequences that rewrite the terminal) and invalid UTF-8 by U+FFFD.
func sanitize(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}
