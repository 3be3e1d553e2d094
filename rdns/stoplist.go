package rdns

import (
	_ "embed"
	"fmt"
	"strings"
)

// stopListTSV lists words that look like location codes but are not; see the
// header of stoplist.tsv for the columns and how each entry is justified.
//
//go:embed stoplist.tsv
var stopListTSV string

type stopEntry struct {
	word, class string
	line        int
}

func stopEntries(tsv string) []stopEntry {
	var out []stopEntry
	for i, line := range strings.Split(tsv, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		out = append(out, stopEntry{word: f[0], class: get(f, 1), line: i + 1})
	}
	return out
}

func get(f []string, i int) string {
	if i < len(f) {
		return f[i]
	}
	return ""
}

// parseStopList returns the stop words and, among them, the pool words
// (class "pool": a name containing one is a customer pool name) and the
// interface words (class "iface": numbers after them are port numbers) and
// the router-role words (class "role").
func parseStopList(tsv string) (stop, pool, iface, role map[string]bool, err error) {
	m := map[string]bool{}
	pool, iface, role = map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, e := range stopEntries(tsv) {
		if e.word == "" || !isAlpha(e.word) && !isAlnum(e.word) {
			return nil, nil, nil, nil, fmt.Errorf("stoplist.tsv:%d: bad word %q", e.line, e.word)
		}
		switch e.class {
		case "iface", "role", "pool", "net", "op", "word":
		default:
			return nil, nil, nil, nil, fmt.Errorf("stoplist.tsv:%d: unknown class %q", e.line, e.class)
		}
		m[e.word] = true
		switch e.class {
		case "pool":
			pool[e.word] = true
		case "iface":
			iface[e.word] = true
		case "role":
			role[e.word] = true
		}
	}
	return m, pool, iface, role, nil
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= '0' && s[i] <= '9') {
			return false
		}
	}
	return s != ""
}
