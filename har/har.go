// Package har reads HTTP Archive (HAR 1.1 and 1.2) files, as browsers'
// developer tools save them, and tells which hosts a page visit contacted and
// at which addresses.
//
// It decodes as a stream: the entries array is walked token by token and
// only the request URL and serverIPAddress of each entry are kept; those
// are read up to 1 MiB and every other string up to 256 bytes (the rest of
// an embedded response is dropped unread), and a Summary lists at most
// MaxHosts hosts, so a HAR of any size costs bounded memory (under 100 MB
// on 1 GB of hostile input). It accepts what real browsers write: Chrome,
// Firefox/Firebug and PhantomJS HARs, fractional "time" fields, missing or
// empty serverIPAddress, IPv6 addresses with or without brackets, with a
// zone or a port.
package har

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/netip"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Entry is what geoloc needs of one HAR entry.
type Entry struct {
	// Index is the entry's position in log.entries, from 0.
	Index int
	// URL is the request URL as recorded.
	URL string
	// Host is the URL's host name, lower case, without port or brackets.
	// Empty for URLs without a network host (data:, blob:, about:).
	Host string
	// ServerAddr is the parsed serverIPAddress; invalid when the HAR has none
	// or it does not parse.
	ServerAddr netip.Addr
	// RawServerAddr is serverIPAddress exactly as written.
	RawServerAddr string
	// HostError, when not nil, is a *SyntaxError naming the entry whose URL
	// has a host that is no valid host name (longer than 253 bytes, a label
	// over 63, a character no host name has); Host is then empty. It does
	// not end the sequence: the other entries still count.
	HostError error
}

// SyntaxError is a HAR that is not valid JSON or lacks the HAR structure.
type SyntaxError struct {
	Input string
	Line  int // 1-based; 0 when unknown
	Msg   string
}

func (e *SyntaxError) Error() string {
	in := e.Input
	if in == "" {
		in = "-"
	}
	return fmt.Sprintf("%s:%d: har: %s", in, e.Line, e.Msg)
}

// Options control Entries and Hosts. The zero value is ready to use.
type Options struct {
	// Input names the input in errors, usually a file name.
	Input string
}

// lineCounter counts the newlines read through it, so that errors can name
// a line without holding the input.
type lineCounter struct {
	r     io.Reader
	lines int
	last  byte
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.lines += bytes.Count(p[:n], []byte{'\n'})
	if n > 0 {
		c.last = p[n-1]
	}
	return n, err
}

type newlineCounter int

func (n *newlineCounter) Write(p []byte) (int, error) {
	*n += newlineCounter(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

type decoder struct {
	dec   *json.Decoder
	cr    *capReader // between lc and dec
	lc    *lineCounter
	input string
}

// line is the line the decoder has reached: newlines read minus those still
// buffered ahead of it.
func (d *decoder) line() int {
	var nl newlineCounter
	_, _ = io.Copy(&nl, d.dec.Buffered())
	if d.cr != nil {
		nl += newlineCounter(bytes.Count(d.cr.out, []byte{'\n'}))
	}
	return d.lc.lines - int(nl) + 1
}

func (d *decoder) errorf(format string, args ...any) error {
	return &SyntaxError{Input: d.input, Line: d.line(), Msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) wrap(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		// The problem is where the input stops: its last line.
		line := d.lc.lines
		if d.lc.last != '\n' {
			line++
		}
		return &SyntaxError{Input: d.input, Line: max(line, 1), Msg: "truncated file: unexpected end of input"}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return d.errorf("invalid JSON: %v", se)
	}
	var ue *json.UnmarshalTypeError
	if errors.As(err, &ue) {
		return d.errorf("%s: expected %s, got %s", ue.Field, kindOf(ue.Type), article(ue.Value))
	}
	return d.errorf("%v", err)
}

// kindOf names the JSON kind a Go type decodes from, for people.
func kindOf(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a value"
}

// article puts "a" or "an" before a JSON kind as encoding/json names it
// ("string", "number", "object", "array", "bool").
func article(v string) string {
	switch v {
	case "object", "array":
		return "an " + v
	case "bool":
		return "true or false"
	case "":
		return "something else"
	}
	if strings.HasPrefix(v, "number") {
		return "a number"
	}
	return "a " + v
}

// expectDelim reads the next token and checks it is the delimiter want.
func (d *decoder) expectDelim(want json.Delim, what string) error {
	tok, err := d.dec.Token()
	if err != nil {
		return d.wrap(err)
	}
	if got, ok := tok.(json.Delim); !ok || got != want {
		return d.errorf("%s: want %q, found %v", what, want, describe(tok))
	}
	return nil
}

func describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", string(t))
	case string:
		// Short: a string cut at maxSkipped bytes reads the same.
		if len(t) > 32 {
			return "string " + strconv.Quote(t[:28]) + "..."
		}
		return "string " + strconv.Quote(t)
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%v", t)
	}
}

// findKey advances inside the current object to the value of key. It
// returns false at the end of the object (the closing brace consumed).
func (d *decoder) findKey(key string) (bool, error) {
	for d.dec.More() {
		tok, err := d.dec.Token()
		if err != nil {
			return false, d.wrap(err)
		}
		k, ok := tok.(string)
		if !ok {
			return false, d.errorf("object key expected, found %v", describe(tok))
		}
		if k == key {
			return true, nil
		}
		tok, err = d.token()
		if err != nil {
			return false, err
		}
		if err := d.skipValue(tok); err != nil {
			return false, err
		}
	}
	if _, err := d.dec.Token(); err != nil { // the closing brace
		return false, d.wrap(err)
	}
	return false, nil
}

// Entries yields every entry of the HAR in r, in file order. A structural
// error yields (Entry{}, *SyntaxError) and ends the sequence; entries before
// it have been yielded.
func Entries(r io.Reader, opts Options) iter.Seq2[Entry, error] {
	return entries(r, opts, maxSkipped)
}

// entries is Entries with the cap of skipped values (tests compare with
// maxString, which skips nothing a HAR under it holds).
func entries(r io.Reader, opts Options, skipCap int) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		lc := &lineCounter{r: bufio.NewReaderSize(r, 64<<10)}
		cr := newCapReader(lc)
		cr.skipCap = skipCap
		d := &decoder{dec: json.NewDecoder(cr), cr: cr, lc: lc, input: opts.Input}
		d.dec.UseNumber()
		fail := func(err error) { yield(Entry{}, err) }
		if err := d.expectDelim('{', "HAR file must be a JSON object"); err != nil {
			fail(err)
			return
		}
		ok, err := d.findKey("log")
		if err != nil {
			fail(err)
			return
		}
		if !ok {
			fail(d.errorf(`no "log" object: not a HAR file`))
			return
		}
		if err := d.expectDelim('{', `"log"`); err != nil {
			fail(err)
			return
		}
		ok, err = d.findKey("entries")
		if err != nil {
			fail(err)
			return
		}
		if !ok {
			fail(d.errorf(`"log" has no "entries" array: not a HAR file`))
			return
		}
		if err := d.expectDelim('[', `"entries"`); err != nil {
			fail(err)
			return
		}
		for i := 0; d.dec.More(); i++ {
			url, addr, err := d.readEntry(i)
			if err != nil {
				fail(err)
				return
			}
			e, err := entryOf(i, url, addr)
			if err != nil {
				fail(d.errorf("entry %d: %v", i, err))
				return
			}
			if e.HostError != nil {
				e.HostError = d.errorf("entries[%d].request.url: %v", i, e.HostError)
			}
			if !yield(e, nil) {
				return
			}
		}
		if _, err := d.dec.Token(); err != nil { // "]"
			fail(d.wrap(err))
		}
		// What follows the entries (the rest of "log") is not needed and is
		// not read: a HAR cut after its entries still gives every entry.
	}
}

func entryOf(i int, url string, addr json.Token) (Entry, error) {
	e := Entry{Index: i, URL: strings.TrimSuffix(url, truncMark)}
	switch a := addr.(type) {
	case nil:
	case string:
		e.RawServerAddr = a
		e.ServerAddr = ParseServerAddr(a)
	case json.Number:
		n := a.String()
		if len(n) > 64 {
			n = n[:60] + "..."
		}
		return e, fmt.Errorf("serverIPAddress is %s, not a string", n)
	case bool:
		return e, fmt.Errorf("serverIPAddress is %t, not a string", a)
	default:
		return e, fmt.Errorf("serverIPAddress is %s, not a string", kindOfToken(addr))
	}
	e.Host = hostOf(e.URL)
	if _, rest, ok := strings.Cut(e.URL, "//"); ok && strings.HasSuffix(url, truncMark) && !strings.ContainsAny(rest, "/?#") {
		// The URL was cut (past maxString) inside its host name.
		e.Host, e.HostError = "", fmt.Errorf("host name of over %d bytes: longer than %d", len(rest), maxHostLen)
		return e, nil
	}
	if err := checkHost(e.Host); err != nil {
		e.Host, e.HostError = "", err
	}
	return e, nil
}

// hostOf returns the network host of a request URL, lower case, or "" for
// URLs that name no host.
func hostOf(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "ws", "wss", "ftp":
	default:
		return ""
	}
	return strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
}

// maxHostLen is the longest DNS name (RFC 1035: 255 bytes on the wire,
// 253 written out); maxLabelLen the longest label.
const (
	maxHostLen  = 253
	maxLabelLen = 63
)

// checkHost reports why host is no host name a browser could have
// contacted: too long, an empty or over-long label, or a character no
// host name has. IP literals and "" (no host) are fine. Internationalised
// names are accepted as written (browsers record them either way); "_"
// is accepted because real hosts use it.
func checkHost(host string) error {
	if host == "" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if len(host) > maxHostLen {
		return fmt.Errorf("host name of %d bytes: longer than %d", len(host), maxHostLen)
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" {
			return fmt.Errorf("host %s: empty label", clip(host))
		}
		if len(label) > maxLabelLen {
			return fmt.Errorf("host %s: a label of %d bytes, longer than %d", clip(host), len(label), maxLabelLen)
		}
		for _, r := range label {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			case r >= 0x80 && r != utf8.RuneError && unicode.IsPrint(r) && !unicode.IsSpace(r):
			default:
				return fmt.Errorf("host %s: %q is no host-name character", clip(host), r)
			}
		}
	}
	return nil
}

// clip quotes s for an error message, shortened to a readable length.
func clip(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:60]) + "..."
	}
	return strconv.Quote(s)
}

// ParseServerAddr parses a HAR serverIPAddress: "192.0.2.1",
// "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:443", "192.0.2.1:443",
// "fe80::1%eth0". It returns the zero Addr for anything else (empty, "::"
// placeholders are kept as they are: the caller decides).
func ParseServerAddr(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}
