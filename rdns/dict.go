package rdns

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
)

//go:generate go run ../internal/dictgen -data ../../shared/data -out dictdata

// dictFS holds the dictionaries written by internal/dictgen. See that
// command's doc comment for the file formats and README.md for attribution.
//
//go:embed dictdata/*.tsv.gz
var dictFS embed.FS

type placeRec struct {
	name, cc, region string
	words            string // ASCII words of the name ("san jose"), for CLLI matching
	// spells are the place's spellings, space-separated ("vienna wien"),
	// with the local names UN/LOCODE gives: abbreviations are read
	// against them.
	spells   string
	lat, lon float64
	pop      int
}

type airportRec struct {
	iata, icao, name, cc, region string
	lat, lon                     float64
	rank, pop                    int
}

type locodeRec struct {
	code, name, region string
	lat, lon           float64
	pop                int
}

// dict is the parsed, read-only set of dictionaries.
type dict struct {
	countries map[string]string            // "DE" → "Germany"
	regions   map[string]map[string]string // "US" → "NY" → "New York"
	places    []placeRec
	spell     map[string][]int32 // ASCII spelling → places, most populous first
	// byFirst indexes places for CLLI-like matching: country (or
	// "US-NY" style region) + first letter → places, most populous first.
	byFirst  map[string][]int32
	airports map[string]*airportRec // by IATA code
	icao     map[string]*airportRec // by ICAO code
	metros   map[string]*airportRec // IATA metropolitan codes (lon, nyc)
	// locodes ("defra") load on first use: most names never need them.
	locodes func() map[string]*locodeRec
	// prefixes maps the first 4 and 5 letters of the names of cities of a
	// million people or more to the city, -1 where two cities share them.
	prefixes  map[string]int32
	stop      map[string]bool
	poolWords map[string]bool
	// ifaceWords: interface names; the numbers after them are ports.
	ifaceWords map[string]bool
	roleWords  map[string]bool // router roles (core, agg, gw)
	// byLetter indexes places of abbrevMinPop people or more by the first
	// letter of each spelling, most populous first, for reading
	// abbreviations; built on first use.
	byLetter func() *[26][]int32
}

// loadDict parses the embedded dictionaries once, on first use.
var loadDict = sync.OnceValue(func() *dict {
	d, err := parseDict()
	if err != nil {
		// The embedded data is generated and tested; failing to read it is
		// a build defect, not a run-time condition.
		panic("rdns: embedded dictionaries: " + err.Error())
	}
	return d
})

// readTable decompresses one embedded table and calls fn for each line with
// its tab-separated fields. The fields are substrings of one string holding
// the whole table, so parsing allocates little; fn may keep them.
func readTable(name string, fields int, fn func(f []string) error) error {
	raw, err := dictFS.ReadFile("dictdata/" + name)
	if err != nil {
		return err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	// The gzip trailer holds the uncompressed size (mod 2^32): read into
	// a buffer of that size instead of growing one.
	size := 0
	if len(raw) >= 4 {
		size = int(binary.LittleEndian.Uint32(raw[len(raw)-4:]))
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+1))
	if _, err := io.Copy(buf, zr); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	data := buf.Bytes()
	text := string(data)
	f := make([]string, 0, fields)
	for line := 1; text != ""; line++ {
		row := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			row, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		f = f[:0]
		for {
			i := strings.IndexByte(row, '\t')
			if i < 0 {
				f = append(f, row)
				break
			}
			f = append(f, row[:i])
			row = row[i+1:]
		}
		if len(f) != fields {
			return fmt.Errorf("%s:%d: %d fields, want %d", name, line, len(f), fields)
		}
		if err := fn(f); err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	return nil
}

// latLonPop parses the three columns from i on that every place-like table
// has: latitude, longitude (degrees) and population.
func latLonPop(f []string, i int) (lat, lon float64, pop int, err error) {
	if lat, lon, err = parseFloats(f[i], f[i+1]); err != nil {
		return 0, 0, 0, err
	}
	pop, err = strconv.Atoi(f[i+2])
	return lat, lon, pop, err
}

func parseFloats(a, b string) (float64, float64, error) {
	x, err := strconv.ParseFloat(a, 64)
	if err != nil {
		return 0, 0, err
	}
	y, err := strconv.ParseFloat(b, 64)
	return x, y, err
}

func parseDict() (*dict, error) {
	d := &dict{
		countries: map[string]string{},
		regions:   map[string]map[string]string{},
		airports:  make(map[string]*airportRec, 9000),
		icao:      make(map[string]*airportRec, 9000),
		metros:    map[string]*airportRec{},
	}
	if err := readTable("countries.tsv.gz", 2, func(f []string) error {
		d.countries[f[0]] = f[1]
		return nil
	}); err != nil {
		return nil, err
	}
	if err := readTable("regions.tsv.gz", 3, func(f []string) error {
		if d.regions[f[0]] == nil {
			d.regions[f[0]] = map[string]string{}
		}
		d.regions[f[0]][f[1]] = f[2]
		return nil
	}); err != nil {
		return nil, err
	}
	// Index keys are collected as (key, place) pairs and grouped once, so
	// that every key's list is a window of one shared slice rather than a
	// slice of its own.
	var spellPairs, firstPairs []keyID
	d.places = make([]placeRec, 0, 45000)
	if err := readTable("places.tsv.gz", 8, func(f []string) error {
		lat, lon, pop, err := latLonPop(f, 3)
		if err != nil {
			return err
		}
		id := int32(len(d.places))
		d.places = append(d.places, placeRec{name: f[0], cc: f[1], region: f[2], words: f[7], spells: f[6], lat: lat, lon: lon, pop: pop})
		first := ""
		for s := range strings.FieldsSeq(f[6]) {
			spellPairs = append(spellPairs, keyID{s, id})
			if first == "" {
				first = s
			}
		}
		if first != "" {
			// CLLI-style matching looks places up by country (or
			// country-region) and first letter.
			firstPairs = append(firstPairs, keyID{f[1] + first[:1], id})
			if f[2] != "" {
				firstPairs = append(firstPairs, keyID{f[1] + "-" + f[2] + first[:1], id})
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	d.spell = d.group(spellPairs)
	d.byFirst = d.group(firstPairs)
	d.prefixes = map[string]int32{}
	for id := range d.places {
		p := &d.places[id]
		if p.pop < 1000000 {
			continue
		}
		sq := strings.ReplaceAll(p.words, " ", "")
		for n := 4; n <= 5 && n <= len(sq); n++ {
			k := sq[:n]
			if old, ok := d.prefixes[k]; ok && old != int32(id) {
				d.prefixes[k] = -1
			} else {
				d.prefixes[k] = int32(id)
			}
		}
	}
	if err := readTable("airports.tsv.gz", 9, func(f []string) error {
		lat, lon, err := parseFloats(f[5], f[6])
		if err != nil {
			return err
		}
		rank, err1 := strconv.Atoi(f[7])
		pop, err2 := strconv.Atoi(f[8])
		if err1 != nil || err2 != nil {
			return fmt.Errorf("bad rank or population")
		}
		a := &airportRec{iata: f[0], icao: f[1], name: f[2], cc: f[3], region: f[4], lat: lat, lon: lon, rank: rank, pop: pop}
		d.airports[a.iata] = a
		if a.icao != "" {
			d.icao[a.icao] = a
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := readTable("metros.tsv.gz", 6, func(f []string) error {
		lat, lon, pop, err := latLonPop(f, 3)
		if err != nil {
			return err
		}
		d.metros[f[0]] = &airportRec{iata: f[0], name: f[1], cc: f[2], lat: lat, lon: lon, rank: 3, pop: pop}
		return nil
	}); err != nil {
		return nil, err
	}
	d.locodes = sync.OnceValue(func() map[string]*locodeRec {
		m, err := parseLocodes()
		if err != nil {
			panic("rdns: embedded dictionaries: " + err.Error())
		}
		return m
	})
	stop, pool, iface, role, err := parseStopList(stopListTSV)
	if err != nil {
		return nil, err
	}
	d.stop, d.poolWords, d.ifaceWords, d.roleWords = stop, pool, iface, role
	d.byLetter = sync.OnceValue(d.letterIndex)
	return d, nil
}

func parseLocodes() (map[string]*locodeRec, error) {
	m := make(map[string]*locodeRec, 45000)
	err := readTable("locodes.tsv.gz", 6, func(f []string) error {
		lat, lon, pop, err := latLonPop(f, 3)
		if err != nil {
			return err
		}
		m[f[0]] = &locodeRec{code: f[0], name: f[1], region: f[2], lat: lat, lon: lon, pop: pop}
		return nil
	})
	return m, err
}

type keyID struct {
	key string
	id  int32
}

// group turns (key, place) pairs into key → places, most populous first.
func (d *dict) group(pairs []keyID) map[string][]int32 {
	slices.SortFunc(pairs, func(a, b keyID) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		if pa, pb := d.places[a.id].pop, d.places[b.id].pop; pa != pb {
			return pb - pa
		}
		return int(a.id - b.id)
	})
	ids := make([]int32, len(pairs))
	n := 0
	for i := 1; i <= len(pairs); i++ {
		if i == len(pairs) || pairs[i].key != pairs[i-1].key {
			n++
		}
	}
	m := make(map[string][]int32, n)
	start := 0
	for i := range pairs {
		ids[i] = pairs[i].id
		if i+1 == len(pairs) || pairs[i+1].key != pairs[i].key {
			m[pairs[i].key] = ids[start : i+1 : i+1]
			start = i + 1
		}
	}
	return m
}

// bestPlace returns the most populous place spelled s, preferring country cc
// (and region) when given; ok is false when no place has that spelling.
func (d *dict) bestPlace(s, cc, region string) (int32, bool) {
	ids := d.spell[s]
	if len(ids) == 0 {
		return 0, false
	}
	if cc != "" {
		for _, id := range ids {
			p := &d.places[id]
			if p.cc == cc && (region == "" || p.region == region) {
				return id, true
			}
		}
		return 0, false
	}
	return ids[0], true
}
