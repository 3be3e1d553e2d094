// Package fold turns place names into the ASCII spellings people type in
// router names. It is shared by the dictionary generator (internal/dictgen),
// which writes the spellings of every place, and by package rdns, which folds
// the names callers look up, so that both spell a name the same way.
package fold

import "unicode"

// table maps non-ASCII letters to the ASCII spellings people type in
// router names. Letters with an umlaut or a ligature have two spellings: the
// German-style expansion (ü→ue, ø→oe, å→aa) and the bare base letter (ü→u);
// both are generated. Everything not listed is stripped of its combining marks
// by Variants or, failing that, makes the spelling unusable.
var table = map[rune][]string{
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

// MaxVariants bounds the combinatorial growth of names with many umlauts.
const MaxVariants = 8

// Variants expands each non-ASCII letter of s, which is lower case, into
// its ASCII spellings: "münchen" → "muenchen", "munchen". Spaces,
// punctuation and combining marks become spaces; ASCII is kept as it is. A
// letter of no Latin script makes the whole name unspellable: nil. At most
// MaxVariants variants are made.
func Variants(s string) []string {
	variants := []string{""}
	for _, r := range s {
		var alts []string
		switch {
		case r < 0x80:
			alts = []string{string(r)}
		case table[r] != nil:
			alts = table[r]
		case unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.Is(unicode.Mn, r):
			alts = []string{" "}
		default:
			return nil // not Latin: no ASCII spelling we can trust
		}
		next := make([]string, 0, len(variants)*len(alts))
		for _, v := range variants {
			for _, a := range alts {
				if len(next) < MaxVariants {
					next = append(next, v+a)
				}
			}
		}
		variants = next
	}
	return variants
}

// Base is the shortest ASCII spelling of a non-ASCII letter (ü → u, ß → ss,
// æ → ae); ok is false for letters the table does not know.
func Base(r rune) (s string, ok bool) {
	alts := table[r]
	if alts == nil {
		return "", false
	}
	short := alts[0]
	for _, a := range alts {
		if len(a) < len(short) {
			short = a
		}
	}
	return short, true
}
