package rdns

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
)

// Reading codes no dictionary knows. Operators abbreviate the names of the
// cities their routers stand in ("ipls" Indianapolis, "omha" Omaha, "tky"
// Tokyo, "zgb" Zagreb, "win" Wien), in a handful of styles: the start of
// the name, the first letter and the consonants (CLLI codes are made this
// way), the first letters of the words, the same closed by the name's last
// letters, or letters of the name in order with some left out. A code read
// this way fits many places in the world; it means something only where
// physics already narrows the choice, so these readings are given only for
// places a caller's feasible region allows ([Reader.Expand]).

const (
	// abbrevMinPop: routers stand in towns; places smaller than this are
	// not offered as what a code abbreviates.
	abbrevMinPop = 5000
	// abbrevMaxCost is the worst alignment kept (see abbrevCost).
	abbrevMaxCost = 3.5
	// abbrevPerCode bounds the places kept per code, the most plausible
	// (by abbreviation and population) first; abbrevCacheCodes bounds the
	// codes a Reader keeps, so a Reader's cache stays under about 12 MB.
	abbrevPerCode    = 512
	abbrevCacheCodes = 1024
	// maxAbbrevLen: the longest name spelling considered, in letters.
	maxAbbrevLen = 40
)

// Abbreviation styles, for explanations.
const (
	styleStart    uint8 = iota // prag = Praha
	styleWords                 // slp = San Luis Potosí
	styleSkeleton              // tky = Tokyo
	styleEnding                // omha = Omaha
	styleLetters               // ipls = Indianapolis
	styleCLLI                  // iplsin = Indianapolis, IN
)

// abbrevCand is one place a code may abbreviate.
type abbrevCand struct {
	id      int32
	prior   float32 // plausibility × √population: the ranking
	plaus   float32 // in (0,1]: how usual the abbreviation is
	style   uint8
	skipped uint8  // consonants left out
	spell   string // the spelling matched, when not the English name
}

// letterIndex builds d.byLetter.
func (d *dict) letterIndex() *[26][]int32 {
	var idx [26][]int32
	for id := range d.places {
		p := &d.places[id]
		if p.pop < abbrevMinPop {
			continue
		}
		var seen [26]bool
		for _, s := range append(strings.Fields(p.spells), p.words) {
			if s != "" && s[0] >= 'a' && s[0] <= 'z' && !seen[s[0]-'a'] {
				seen[s[0]-'a'] = true
				idx[s[0]-'a'] = append(idx[s[0]-'a'], int32(id))
			}
		}
	}
	for i := range idx {
		slices.SortStableFunc(idx[i], func(a, b int32) int { return d.places[b].pop - d.places[a].pop })
	}
	return &idx
}

// abbrevCache holds the candidate places of codes, per Reader.
type abbrevCache struct {
	mu    sync.Mutex
	max   int
	codes map[string][]abbrevCand
}

func newAbbrevCache(max int) *abbrevCache {
	return &abbrevCache{max: max, codes: map[string][]abbrevCand{}}
}

// candidates returns the places code may abbreviate, best first.
func (r *Reader) candidates(code string) []abbrevCand {
	c := r.abbrev
	c.mu.Lock()
	cs, ok := c.codes[code]
	c.mu.Unlock()
	if ok {
		return cs
	}
	cs = r.dict().abbrevCandidates(code)
	c.mu.Lock()
	if len(c.codes) >= c.max {
		// Forget an arbitrary code: a bound, not a policy; codes come back
		// at the cost of one scan.
		for k := range c.codes {
			delete(c.codes, k)
			break
		}
	}
	c.codes[code] = cs
	c.mu.Unlock()
	return cs
}

// abbrevCandidates scans the places whose spellings start with code's
// first letter.
func (d *dict) abbrevCandidates(code string) []abbrevCand {
	if len(code) < 2 || len(code) > 8 || !isAlpha(code) {
		return nil
	}
	var out []abbrevCand
	var al aligner
	for _, id := range d.byLetter()[code[0]-'a'] {
		p := &d.places[id]
		best := abbrevCand{id: id}
		try := func(words, spell string, clli bool, abbr string) {
			if !isSubsequence(abbr, words) {
				return
			}
			res, ok := al.align(abbr, words)
			if !ok {
				return
			}
			plaus := float32(res.plaus)
			style := res.style
			if clli {
				plaus *= 0.95
				style = styleCLLI
			}
			if plaus > best.plaus {
				best.plaus, best.style, best.skipped, best.spell = plaus, style, uint8(res.skipped), spell
			}
		}
		english := squeezeSpaces(p.words)
		try(p.words, "", false, code)
		for s := range strings.FieldsSeq(p.spells) {
			// Local names (wien, praha, koln), not the districts and
			// airports UN/LOCODE also gives (mainzkastel, hanedaapttokyo).
			// A local name is about as long as the English one (Wien,
			// Praha, Kobenhavn); a much longer spelling is a district or a
			// port (minarashidport for Dubai).
			if s != english && !strings.Contains(s, "apt") && !strings.Contains(s, english) && len(s) <= len(english)+3 && len(s) <= maxAbbrevLen {
				try(s, s, false, code)
			}
		}
		// CLLI-like: the last two letters name the state, province or
		// country ("iplsin", "frnkge").
		if len(code) >= 5 && clliAreaOf(code[len(code)-2:], p) {
			try(p.words, "", true, code[:len(code)-2])
		}
		if best.plaus > 0 {
			best.prior = best.plaus * float32(math.Sqrt(float64(p.pop)))
			out = append(out, best)
		}
	}
	slices.SortStableFunc(out, func(a, b abbrevCand) int { return cmp.Compare(b.prior, a.prior) })
	if len(out) > abbrevPerCode {
		out = out[:abbrevPerCode]
	}
	return slices.Clip(out)
}

// clliAreaOf tells whether st, the two letters closing a CLLI-style code,
// names p's state or province (US, CA) or its country.
func clliAreaOf(st string, p *placeRec) bool {
	up := strings.ToUpper(st)
	if p.cc == "US" || p.cc == "CA" {
		return p.region == up || clliState[st] == p.cc+"-"+p.region
	}
	return up == p.cc || slices.Contains(clliCountry[st], p.cc)
}

func squeezeSpaces(s string) string { return strings.ReplaceAll(s, " ", "") }

// isSubsequence tells whether the letters of a appear in words in order,
// the first one first: the cheap test before an alignment.
func isSubsequence(a, words string) bool {
	if a == "" || words == "" || a[0] != words[0] {
		return false
	}
	j := 1
	for i := 1; i < len(words) && j < len(a); i++ {
		if words[i] == a[j] {
			j++
		}
	}
	return j == len(a)
}

// alignment is the best way a code abbreviates a name.
type alignment struct {
	cost    float64
	plaus   float64
	style   uint8
	skipped int // consonants left out
}

// aligner finds the cheapest alignment of a code with a name; its buffers
// are reused between calls.
type aligner struct {
	letters []byte
	word    []int16 // word number of each letter
	start   []bool  // letter starts a word
	cost    []float64
	from    []int16
}

// Costs of an alignment (see align).
const (
	costConsonant = 1.0  // a consonant left out inside a word
	costJump      = 0.25 // leaving the rest of a word for the next word's start
	costWordStart = 1.5  // a word's first letter left out
	costMidVowel  = 0.75 // a vowel taken from inside a word
	// Closing the code with the name's last letter after leaving out the
	// rest of the word: a half, and a quarter per consonant left out.
	costEndJump      = 0.5
	costEndConsonant = 0.25
)

// align aligns code with words (lower-case ASCII letters, single spaces):
// the code's first letter is the name's, its other letters appear in the
// name in order. The cost counts what is unusual: each consonant left out
// inside a word (a doubled consonant is free: Tallinn → tln), leaving a
// word early for the next word's start (a quarter), a whole word or a
// word's first letter left out (one and a half), a vowel taken from inside
// a word (three quarters) unless it is part of the name's start or of its
// ending (Omaha → omha, Sofia → sfia). Vowels left out are free. ok is
// false when the cost exceeds abbrevMaxCost or the name is too long.
func (al *aligner) align(code, words string) (alignment, bool) {
	al.letters, al.word, al.start = al.letters[:0], al.word[:0], al.start[:0]
	w := int16(0)
	newWord := true
	for i := 0; i < len(words); i++ {
		if words[i] == ' ' {
			w++
			newWord = true
			continue
		}
		al.letters = append(al.letters, words[i])
		al.word = append(al.word, w)
		al.start = append(al.start, newWord)
		newWord = false
	}
	n, m := len(al.letters), len(code)
	if n == 0 || n > maxAbbrevLen || m > n || code[0] != al.letters[0] {
		return alignment{}, false
	}
	prefix := 0
	for prefix < m && code[prefix] == al.letters[prefix] {
		prefix++
	}
	if prefix == m {
		return alignment{plaus: 1, style: styleStart}, true
	}
	best := alignment{cost: math.Inf(1)}
	// The name's ending may close the code: the code's last t letters are
	// the name's last t, the first of them reached like any other letter,
	// the rest taken as they are (Sofia → sf + ia).
	for t := 0; t <= 3 && t < m; t++ {
		if t > 0 && code[m-t:] != string(al.letters[n-t:]) {
			break
		}
		k := m
		if t > 0 {
			k = m - t + 1
		}
		cost, skipped, jumps := al.dp(code[:k], n-max(t-1, 0), t > 0)
		if cost < best.cost {
			best = alignment{cost: cost, skipped: skipped}
			switch {
			case cost > costJump*float64(jumps)+1e-9:
				best.style = styleLetters
			case t > 0:
				best.style = styleEnding
			case jumps > 0:
				best.style = styleWords
			default:
				best.style = styleSkeleton
			}
		}
	}
	if best.cost > abbrevMaxCost {
		return alignment{}, false
	}
	best.plaus = 0.92 * math.Exp(-0.35*best.cost)
	return best, true
}

// dp aligns code within the first n letters: cost, consonants left out,
// and the number of steps from a word to a later word's first letter. With
// ending, the code's last letter stands on the n-th letter, the first of
// the name's ending, and costs nothing to take.
func (al *aligner) dp(code string, n int, ending bool) (float64, int, int) {
	m := len(code)
	inf := math.Inf(1)
	al.cost = slices.Grow(al.cost[:0], m*n)[:m*n]
	al.from = slices.Grow(al.from[:0], m*n)[:m*n]
	for k := range al.cost {
		al.cost[k] = inf
	}
	al.cost[0] = 0 // code[0] at letter 0 (align checked it)
	for i := 1; i < m; i++ {
		for j := i; j < n; j++ {
			if al.letters[j] != code[i] {
				continue
			}
			endHere := ending && i == m-1
			if endHere && j != n-1 {
				continue
			}
			take := 0.0
			if isVowel(code[i]) && !al.start[j] && !(j == i && code[:i] == string(al.letters[:i])) && !(ending && i == m-1) {
				take = costMidVowel
			}
			for jp := i - 1; jp < j; jp++ {
				c := al.cost[(i-1)*n+jp]
				if math.IsInf(c, 1) {
					continue
				}
				if endHere && al.word[jp] == al.word[j] && j > jp+1 {
					// Leaving the middle of a word for its last letter is
					// the style itself (Budapest → bpt, Nürnberg → nug):
					// cheaper than consonants left out along the way.
					c += costEndJump + costEndConsonant*float64(al.consonantsBetween(jp, j)) + take
				} else {
					c += al.skipCost(jp, j) + take
				}
				if c < al.cost[i*n+j] {
					al.cost[i*n+j] = c
					al.from[i*n+j] = int16(jp)
				}
			}
		}
	}
	if m == 1 {
		// Only the first letter: nothing to align (an ending that starts
		// on the second letter is the start of the name).
		return 0, 0, 0
	}
	best, bj := inf, -1
	for j := m - 1; j < n; j++ {
		if c := al.cost[(m-1)*n+j]; c < best {
			best, bj = c, j
		}
	}
	if bj < 0 {
		return inf, 0, 0
	}
	skipped, jumps := 0, 0
	for i, j := m-1, bj; i > 0; i-- {
		jp := int(al.from[i*n+j])
		if al.word[jp] != al.word[j] && al.start[j] {
			jumps++
		}
		// Letters left out in the word of j, before j.
		for k := jp + 1; k < j; k++ {
			if al.word[k] == al.word[j] && !isVowel(al.letters[k]) && (al.start[k] || al.letters[k] != al.letters[k-1]) {
				skipped++
			}
		}
		j = jp
	}
	return best, skipped, jumps
}

// consonantsBetween counts the consonants strictly between positions jp
// and j, a doubled one once.
func (al *aligner) consonantsBetween(jp, j int) int {
	n := 0
	for k := jp + 1; k < j; k++ {
		if !isVowel(al.letters[k]) && al.letters[k] != al.letters[k-1] {
			n++
		}
	}
	return n
}

// skipCost is the cost of leaving out the letters between positions jp and
// j (exclusive) when code letters stand at both.
func (al *aligner) skipCost(jp, j int) float64 {
	c := 0.0
	if al.word[jp] == al.word[j] {
		for k := jp + 1; k < j; k++ {
			if !isVowel(al.letters[k]) && al.letters[k] != al.letters[k-1] {
				c += costConsonant
			}
		}
		return c
	}
	c = costJump + costWordStart*float64(al.word[j]-al.word[jp]-1)
	if !al.start[j] {
		c += costWordStart
		k := j - 1
		for ; !al.start[k]; k-- {
		}
		for k++; k < j; k++ {
			if !isVowel(al.letters[k]) && al.letters[k] != al.letters[k-1] {
				c += costConsonant
			}
		}
	}
	return c
}

// why explains an abbreviation reading.
func (d *dict) abbrevWhy(code string, a abbrevCand) string {
	p := &d.places[a.id]
	name := p.name
	if a.spell != "" {
		name = fmt.Sprintf("%s (%s)", localName(a.spell), p.name)
	}
	switch a.style {
	case styleStart:
		return fmt.Sprintf("abbreviation of %s: the start of the name", name)
	case styleWords:
		return fmt.Sprintf("abbreviation of %s: first letters of its words", name)
	case styleSkeleton:
		return fmt.Sprintf("abbreviation of %s: first letter and consonants", name)
	case styleEnding:
		return fmt.Sprintf("abbreviation of %s: first letter, consonants and last letter", name)
	case styleCLLI:
		return fmt.Sprintf("CLLI-like code %s: %s abbreviates %s, %s = %s", code, code[:len(code)-2], name, code[len(code)-2:], areaText(p))
	}
	switch a.skipped {
	case 0:
		return fmt.Sprintf("abbreviation of %s: its letters in order", name)
	case 1:
		return fmt.Sprintf("abbreviation of %s: its letters in order, leaving out a consonant", name)
	}
	return fmt.Sprintf("abbreviation of %s: its letters in order, leaving out %d consonants", name, a.skipped)
}

// localName capitalises a dictionary spelling for display ("wien" → "Wien").
func localName(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
