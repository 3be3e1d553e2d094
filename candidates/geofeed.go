package candidates

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// PlaceResolver finds a place's coordinates from a geofeed's city name, its
// region (the ISO 3166-2 subdivision code without the country, "CA" for
// "US-CA", or "") and country (ISO 3166-1 alpha-2).
type PlaceResolver func(city, region, country string) (lat, lon float64, ok bool)

// DefaultGeofeedRadiusKm is the radius of a geofeed entry whose city was
// found: the network's operator vouches for the city, so the radius is the
// city's extent.
const DefaultGeofeedRadiusKm = 25

// GeofeedOptions configure OpenGeofeed. The zero value resolves cities
// through RDNSPlaces.
type GeofeedOptions struct {
	// Places resolves city names to coordinates; nil means RDNSPlaces.
	Places PlaceResolver
	// NoPlaces leaves every entry at country level.
	NoPlaces bool
	// Name overrides the source name ("geofeed-<file name>").
	Name string
	// Logger receives one debug line per unresolved city; nil is silent.
	Logger *slog.Logger
}

// Geofeed is a Source over an RFC 8805 geofeed: CSV lines
// "prefix,country,region,city,postal" that a network publishes about its own
// prefixes. The most specific prefix holding an address answers. Entries
// whose city resolves become KindGeofeed candidates; the rest become
// country-level candidates; entries with no country say "do not geolocate"
// and give none.
//
// A bad line (a prefix or country that does not parse, a broken quote, a
// line over the reader's buffer) is skipped, as RFC 8805 §3 asks of a
// consumer, and counted: see Skipped and SkipSummary. A feed with no good
// entry and some bad line is refused, naming its first bad line.
type Geofeed struct {
	name    string
	path    string
	entries map[netip.Prefix]Candidate
	lens4   []int // prefix lengths present, longest first
	lens6   []int
	n       int
	nSkip   int
	skips   []GeofeedSkip
}

// MaxGeofeedSkipsKept is how many skipped lines a Geofeed remembers (the
// first ones); Skipped counts them all.
const MaxGeofeedSkipsKept = 100

// GeofeedSkip is a line of a geofeed that the reader skipped.
type GeofeedSkip struct {
	File   string // the name the feed was read under
	Line   int    // 1-based
	Reason string // "bad prefix \"x\"", "bad country \"DEU\"", "line too long", ...
}

// String is "FILE:LINE: reason".
func (s GeofeedSkip) String() string { return fmt.Sprintf("%s:%d: %s", s.File, s.Line, s.Reason) }

// OpenGeofeed reads a geofeed file (plain or compressed: gzip, bzip2, zstd).
func OpenGeofeed(path string, opts GeofeedOptions) (*Geofeed, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := maybeDecompress(f, path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return readGeofeed(bufio.NewReader(r), path, opts)
}

// ReadGeofeed reads a geofeed from r; name is used in errors and, without
// opts.Name, in the source name.
func ReadGeofeed(r io.Reader, name string, opts GeofeedOptions) (*Geofeed, error) {
	return readGeofeed(bufio.NewReader(r), name, opts)
}

func readGeofeed(br *bufio.Reader, name string, opts GeofeedOptions) (*Geofeed, error) {
	if opts.Places == nil {
		opts.Places = RDNSPlaces
	}
	if opts.NoPlaces {
		opts.Places = nil
	}
	g := &Geofeed{name: opts.Name, path: name, entries: make(map[netip.Prefix]Candidate)}
	if g.name == "" {
		stem := strings.ToLower(filepath.Base(name))
		for _, ext := range []string{".gz", ".csv", ".txt"} {
			stem = strings.TrimSuffix(stem, ext)
		}
		stem = strings.Trim(nonAlnum.ReplaceAllString(stem, "-"), "-")
		if !strings.HasPrefix(stem, "geofeed") {
			stem = "geofeed-" + stem
		}
		g.name = stem
	}
	var fields [][]byte
	lens := map[int]bool{}
	lineNo := 0
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Skip the rest of the line, never holding it.
			lineNo++
			g.skip(name, lineNo, "line too long")
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err == nil {
				continue
			}
			line = nil
		}
		if len(line) > 0 {
			lineNo++
			line = bytes.TrimSpace(line)
			if len(line) > 0 && line[0] != '#' {
				var perr error
				fields, perr = splitFields(line, ',', fields[:0])
				if perr == nil {
					perr = g.add(fields, opts, lens)
				}
				if perr != nil {
					g.skip(name, lineNo, perr.Error())
				}
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
	}
	if g.n == 0 && g.nSkip > 0 {
		return nil, fmt.Errorf("%s (%s, no good entry)", g.skips[0], plural(g.nSkip, "bad line"))
	}
	for l := range lens {
		if l >= 1000 {
			g.lens6 = append(g.lens6, l-1000)
		} else {
			g.lens4 = append(g.lens4, l)
		}
	}
	slices.Sort(g.lens4)
	slices.Reverse(g.lens4)
	slices.Sort(g.lens6)
	slices.Reverse(g.lens6)
	return g, nil
}

func (g *Geofeed) skip(name string, line int, reason string) {
	g.nSkip++
	if len(g.skips) < MaxGeofeedSkipsKept {
		g.skips = append(g.skips, GeofeedSkip{File: name, Line: line, Reason: reason})
	}
}

// Skipped returns how many lines the reader skipped and the first of them
// (at most MaxGeofeedSkipsKept), in file order.
func (g *Geofeed) Skipped() (int, []GeofeedSkip) { return g.nSkip, slices.Clone(g.skips) }

// SkipSummary is one line about the skipped lines, "" when there were none:
// "feed.csv: skipped 3 bad lines (first: feed.csv:7: bad prefix \"x\")".
func (g *Geofeed) SkipSummary() string {
	if g.nSkip == 0 {
		return ""
	}
	return fmt.Sprintf("%s: skipped %s (first: %s)", g.path, plural(g.nSkip, "bad line"), g.skips[0])
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func (g *Geofeed) add(f [][]byte, opts GeofeedOptions, lens map[int]bool) error {
	field := func(i int) string {
		if i < len(f) {
			return strings.TrimSpace(string(f[i]))
		}
		return ""
	}
	p, err := netip.ParsePrefix(field(0))
	if err != nil {
		// RFC 8805 allows a bare address for a single host.
		a, aerr := netip.ParseAddr(field(0))
		if aerr != nil {
			return fmt.Errorf("bad prefix %q", clip(field(0)))
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
	}
	p = p.Masked()
	country := strings.ToUpper(field(1))
	if country != "" && len(country) != 2 {
		return fmt.Errorf("bad country %q", clip(field(1)))
	}
	region := strings.ToUpper(field(2))
	if i := strings.IndexByte(region, '-'); i >= 0 {
		region = region[i+1:]
	}
	city := field(3)
	key := p.Bits()
	if p.Addr().Is6() {
		key += 1000
	}
	lens[key] = true
	g.n++
	if country == "" {
		// An explicit "do not geolocate" entry still shadows shorter
		// prefixes, so it is stored with no candidate.
		g.entries[p] = Candidate{}
		return nil
	}
	if city != "" && opts.Places != nil {
		if lat, lon, ok := opts.Places(city, region, country); ok {
			g.entries[p] = Candidate{
				Lat: lat, Lon: lon, RadiusKm: DefaultGeofeedRadiusKm,
				City: city, Region: region, Country: country,
				Source: g.name, Kind: KindGeofeed,
			}
			return nil
		}
		if opts.Logger != nil {
			opts.Logger.Debug("geofeed: city not found", "feed", g.name, "prefix", p, "city", city, "country", country)
		}
	}
	c, ok := CountryCandidate(g.name, country)
	if !ok {
		g.entries[p] = Candidate{}
		return nil
	}
	c.Region = region
	g.entries[p] = c
	return nil
}

// clip shortens a field quoted in an error.
func clip(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return strings.ToValidUTF8(s[:limit], "") + "..."
}

// Name implements Source.
func (g *Geofeed) Name() string { return g.name }

// Info describes the feed.
func (g *Geofeed) Info() Info { return Info{Name: g.name, Path: g.path, Kind: "geofeed"} }

// Len returns the number of entries.
func (g *Geofeed) Len() int { return g.n }

// Lookup implements Source.
func (g *Geofeed) Lookup(q Query) (Answer, error) {
	a := q.Addr.Unmap().WithZone("")
	if !a.IsValid() {
		return Answer{}, nil
	}
	lens := g.lens4
	if a.Is6() {
		lens = g.lens6
	}
	for _, l := range lens {
		p, err := a.Prefix(l)
		if err != nil {
			continue
		}
		if c, ok := g.entries[p]; ok {
			if c.Source == "" {
				return Answer{}, nil
			}
			return Answer{Candidates: []Candidate{c}}, nil
		}
	}
	return Answer{}, nil
}

// maybeDecompress returns a reader over f's content, decompressed when it
// is compressed (capped as Open caps it). Read errors name the file.
func maybeDecompress(f *os.File, name string) (io.ReadCloser, error) {
	dr, err := newDecompressor(f, name)
	if err != nil {
		return nil, err
	}
	return namedReader{dr, name}, nil
}

// namedReader prefixes its read errors with the file name.
type namedReader struct {
	io.ReadCloser
	name string
}

func (r namedReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("%s: %w", r.name, err)
	}
	return n, err
}
