package main

import (
	"strings"
	"unicode"
)

// foldTable maps non-ASCII letters to the ASCII spellings people type in
// router names. Letters with an umlaut or a ligature have two spellings: the
// German-style expansion (ü→ue, ø→oe, å→aa) and the bare base letter (ü→u);
// both are generated. Everything not listed is stripped of its combining marks
// by foldRune's fallback or, failing that, makes the spelling unusable.
var foldTable = map[rune][]string{
	'ä': {"ae", "a"}, 'ö': {"oe", "o"}, 'ü': {"ue", "u"},
	'å': {"a", "aa"}, 'ø': {"o", "oe"}, 'æ': {"ae"}, 'œ': {"oe"},
	'ß': {"ss"}, 'þ': {"th"}, 'ð': {"d"}, 'đ': {"d"}, 'ł': {"l"}, 'ı': {"i"},
	'à': {"a"}, 'á': {"a"}, 'â': {"a"}, 'ã': {"a"}, 'ā': {"a"}, 'ă': {"a"}, 'ą': {"a"},
	'ç': {"c"}, 'ć': {"c"}, 'č': {"c"}, 'ĉ': {"c"}, 'ċ': {"c"},
	'ď': {"d"},
	'è': {"e"}, 'é': {"e"}, 'ê': {"e"}, 'ë': {"e"}, 'ē': {"e"}, 'ė': {"e"}, 'ę': {"e"}, 'ě': {"e"}, 'ə': {"a"},
	'ğ': {"g"}, 'ģ': {"g"}, 'ġ': {"g"},
	'ħ': {"h"},
	'ì': {"i"}, 'í': {"i"}, 'î': {"i"}, 'ï': {"i"}, 'ī': {"i"}, 'į': {"i"}, 'İ': {"i"},
	'ķ': {"k"},
	'ĺ': {"l"}, 'ļ': {"l"}, 'ľ': {"l"},
	'ñ': {"n"}, 'ń': {"n"}, 'ň': {"n"}, 'ņ': {"n"},
	'ò': {"o"}, 'ó': {"o"}, 'ô': {"o"}, 'õ': {"o"}, 'ō': {"o"}, 'ő': {"o"},
	'ŕ': {"r"}, 'ř': {"r"},
	'ś': {"s"}, 'š': {"s"}, 'ş': {"s"}, 'ș': {"s"},
	'ť': {"t"}, 'ţ': {"t"}, 'ț': {"t"},
	'ù': {"u"}, 'ú': {"u"}, 'û': {"u"}, 'ū': {"u"}, 'ů': {"u"}, 'ű': {"u"}, 'ų': {"u"},
	'ý': {"y"}, 'ÿ': {"y"},
	'ź': {"z"}, 'ż': {"z"}, 'ž': {"z"},
}

// maxSpellings bounds the combinatorial growth of names with many umlauts.
const maxSpellings = 8

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
	for _, v := range foldVariants(name) {
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

// foldVariants expands each non-ASCII letter into its ASCII spellings.
func foldVariants(s string) []string {
	variants := []string{""}
	for _, r := range s {
		var alts []string
		switch {
		case r < 0x80:
			alts = []string{string(r)}
		case foldTable[r] != nil:
			alts = foldTable[r]
		case unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.Is(unicode.Mn, r):
			alts = []string{" "}
		default:
			return nil // not Latin: no ASCII spelling we can trust
		}
		next := make([]string, 0, len(variants)*len(alts))
		for _, v := range variants {
			for _, a := range alts {
				if len(next) < maxSpellings {
					next = append(next, v+a)
				}
			}
		}
		variants = next
	}
	return variants
}

// nameWords returns the words of a place name in lower-case ASCII, one space
// between them, folding letters to their base (Zürich → zurich): the form
// CLLI-style abbreviations are matched against.
func nameWords(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch alts := foldTable[r]; {
		case r < 0x80:
			b.WriteRune(r)
		case alts != nil:
			short := alts[0] // the base letter: the shortest spelling
			for _, a := range alts {
				if len(a) < len(short) {
					short = a
				}
			}
			b.WriteString(short)
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
