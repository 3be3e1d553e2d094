package main

import (
	"strings"

	"github.com/geoloc-dev/geoloc/internal/fold"
)

// spellings returns the ASCII, lower-case, separator-free spellings of a
// place name, e.g. "München" → muenchen, munchen; "Frankfurt am Main" →
// frankfurtammain, frankfurt; "St. Louis" → stlouis, saintlouis. Names that
// cannot be written in ASCII give nothing.
func spellings(name string) []string {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	// "'s-Gravenhage (Den Haag)": the parts in and out of brackets are names
	// of their own.
	if i := strings.IndexByte(name, '('); i > 0 {
		if j := strings.IndexByte(name[i:], ')'); j > 0 {
			for _, part := range []string{name[:i], name[i+1 : i+j]} {
				for _, s := range spellings(part) {
					if !seen[s] {
						seen[s] = true
						out = append(out, s)
					}
				}
			}
		}
	}
	add := func(s string) {
		if len(s) >= 3 && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, v := range fold.Variants(name) {
		add(squeeze(v))
		words := splitWords(v)
		if len(words) > 1 {
			// "frankfurt am main" → frankfurt; "halle (saale)" → halle;
			// "newcastle upon tyne" → newcastle. Only when the rest is a
			// lower-case qualifier so that "san jose" does not become "san".
			if len(words[0]) >= 5 && isQualifier(words[1]) {
				add(words[0])
			}
			switch words[0] {
			case "st", "st.", "saint", "sankt", "san", "santa", "sao":
				rest := squeeze(strings.Join(words[1:], ""))
				for _, p := range []string{"st", "saint", "sankt"} {
					if words[0] == "st" || words[0] == "st." || words[0] == "saint" || words[0] == "sankt" {
						add(p + rest)
					}
				}
			}
		}
	}
	return out
}

func isQualifier(w string) bool {
	switch w {
	case "am", "an", "im", "in", "upon", "on", "ob", "bei", "sur", "sul", "del", "de", "la", "(saale)":
		return true
	}
	return strings.HasPrefix(w, "(")
}

func splitWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '-' || r == '/' || r == ',' })
}

// squeeze keeps only ASCII letters and digits.
func squeeze(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// nameWords returns the words of a place name in lower-case ASCII, one space
// between them, folding letters to their base (Zürich → zurich): the form
// CLLI-style abbreviations are matched against.
func nameWords(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		base, ok := fold.Base(r)
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case ok:
			b.WriteString(base) // the base letter: the shortest spelling
		default:
			b.WriteByte(' ')
		}
	}
	base := b.String()
	var words []string
	for _, w := range splitWords(strings.NewReplacer(".", " ", "'", " ", "(", " ", ")", " ").Replace(base)) {
		if w = squeeze(w); w != "" && w[0] >= 'a' {
			words = append(words, w)
		}
	}
	return strings.Join(words, " ")
}
