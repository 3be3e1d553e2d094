package har

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Bounds of what the reader holds at once, whatever the HAR: encoding/json's
// Decoder holds a whole token (and, before a token, every byte of
// whitespace), so capReader cuts what could be longer in front of it, and
// entries are walked token by token, never decoded whole.
const (
	// maxString is the longest string kept: the rest of a longer one
	// (a URL of megabytes) is dropped, and the string ends in truncMark.
	maxString = 1 << 20
	// maxSkipped is the longest value kept of a key the reader skips (all
	// but url and serverIPAddress: embedded responses, headers, cookies),
	// so that what is skipped is never even allocated. (Past 6 times the
	// 32 bytes an error quotes of a string: \u0000 is 6 bytes for 1.)
	maxSkipped = 256
	// maxBare is the longest number or literal kept (the rest of its
	// digits are dropped) and the longest run of whitespace passed on.
	maxBare = 4096
	// maxDepth is the deepest nesting of arrays and objects read.
	maxDepth = 10000
)

// truncMark ends a string capReader cut (decoded, a NUL character, which
// no URL or address holds).
const truncMark = "\x00"

// capReader passes JSON on, cutting strings past maxString (the values of
// keys other than url and serverIPAddress past maxSkipped), ended with the
// escape of truncMark, and numbers, literals and whitespace runs past
// maxBare. It never makes valid JSON invalid, except for a number cut
// right after its '.' or 'e'; line counting stays right except for
// newlines dropped from a whitespace run of over maxBare bytes still ahead
// of the decoder.
type capReader struct {
	r       io.Reader
	buf     []byte
	out     []byte // processed, not yet returned
	inStr   bool
	esc     bool // after a backslash
	hex     int  // \u digits still to come
	drop    bool // dropping the rest of a string
	run     int  // length of the current string, token or whitespace run
	bare    bool // the run is a number or literal (else whitespace)
	limit   int  // the cap of the current string
	prev    byte // the last of {}[],: outside strings
	str     []byte
	long    bool   // the current string is longer than str holds
	key     []byte // the last string, when short
	outBuf  []byte
	readErr error
	// skipCap is maxSkipped (maxString in tests that compare).
	skipCap int
}

func newCapReader(r io.Reader) *capReader {
	return &capReader{r: r, buf: make([]byte, 32<<10), skipCap: maxSkipped}
}

// kept reports whether the value after the last key is read in full (up
// to maxString).
func (c *capReader) kept() bool {
	return string(c.key) == "url" || string(c.key) == "serverIPAddress"
}

func (c *capReader) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		if c.readErr != nil {
			return 0, c.readErr
		}
		n, err := c.r.Read(c.buf)
		c.readErr = err
		c.outBuf = c.process(c.buf[:n], c.outBuf[:0])
		c.out = c.outBuf
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

func (c *capReader) process(in, out []byte) []byte {
	for i := 0; i < len(in); i++ {
		b := in[i]
		if c.inStr && !c.esc && c.hex == 0 && !c.drop {
			// Fast path: plain string bytes up to the next quote or
			// backslash, as far as the cap allows.
			j := bytes.IndexAny(in[i:], "\"\\")
			if j < 0 {
				j = len(in) - i
			}
			j = min(j, c.limit-c.run)
			if j > 0 {
				out = append(out, in[i:i+j]...)
				c.note(in[i : i+j])
				c.run += j
				i += j - 1
				continue
			}
		}
		if c.inStr {
			if !c.esc && c.hex == 0 && b != '"' && !c.drop && c.run >= c.limit {
				// Cut at the start of a character, never inside an
				// escape.
				c.drop = true
				out = append(out, `\u0000`...)
			}
			switch {
			case c.esc:
				c.esc = false
				if b == 'u' {
					c.hex = 4
				}
			case c.hex > 0:
				c.hex--
			case b == '\\':
				c.esc = true
			case b == '"':
				c.inStr = false
				c.key = c.key[:0]
				if !c.long && !c.drop {
					c.key = append(c.key, c.str...)
				}
				if c.drop {
					c.drop = false
					out = append(out, '"')
					continue
				}
			}
			c.run++
			if !c.drop {
				out = append(out, b)
				if c.inStr {
					c.note(in[i : i+1])
				}
			}
			continue
		}
		switch b {
		case '"':
			c.inStr, c.run, c.esc, c.hex = true, 0, false, 0
			c.str, c.long = c.str[:0], false
			c.limit = maxString
			if c.prev == ':' && !c.kept() {
				c.limit = c.skipCap
			}
			out = append(out, b)
			continue
		case '{', '}', '[', ']', ',', ':':
			c.run, c.prev = 0, b
			out = append(out, b)
			continue
		}
		space := b == ' ' || b == '\t' || b == '\r' || b == '\n'
		if c.run == 0 || space == c.bare {
			c.run, c.bare = 0, !space
		}
		c.run++
		if c.run <= maxBare {
			out = append(out, b)
		}
	}
	return out
}

// note keeps the start of the current string, to know the key it may be.
func (c *capReader) note(b []byte) {
	const keyMax = 16
	if c.long || len(c.str)+len(b) > keyMax {
		c.long = true
		return
	}
	c.str = append(c.str, b...)
}

// kindOfToken names the JSON kind of a token, for people.
func kindOfToken(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case bool:
		return "true or false"
	case nil:
		return "null"
	}
	return "a number"
}

// token reads the next token, errors made *SyntaxError.
func (d *decoder) token() (json.Token, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return nil, d.wrap(err)
	}
	return tok, nil
}

// skipValue skips the value that starts with tok, token by token.
func (d *decoder) skipValue(tok json.Token) error {
	depth := 0
	for {
		if delim, ok := tok.(json.Delim); ok {
			switch delim {
			case '{', '[':
				depth++
				if depth > maxDepth {
					return d.errorf("arrays and objects nested deeper than %d", maxDepth)
				}
			default:
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
		var err error
		if tok, err = d.token(); err != nil {
			return err
		}
	}
}

// readEntry reads entries[i], keeping only request.url and
// serverIPAddress.
func (d *decoder) readEntry(i int) (url string, addr json.Token, err error) {
	where := fmt.Sprintf("entries[%d]", i)
	tok, err := d.token()
	if err != nil {
		return "", nil, err
	}
	if tok == nil {
		return "", nil, nil // null: an entry with nothing
	}
	if tok != json.Delim('{') {
		return "", nil, d.errorf("%s: expected an object, got %s", where, kindOfToken(tok))
	}
	for d.dec.More() {
		if tok, err = d.token(); err != nil {
			return "", nil, err
		}
		key, _ := tok.(string)
		if tok, err = d.token(); err != nil {
			return "", nil, err
		}
		switch key {
		case "request":
			if tok == nil {
				continue
			}
			if tok != json.Delim('{') {
				return "", nil, d.errorf("%s.request: expected an object, got %s", where, kindOfToken(tok))
			}
			for d.dec.More() {
				if tok, err = d.token(); err != nil {
					return "", nil, err
				}
				key, _ := tok.(string)
				if tok, err = d.token(); err != nil {
					return "", nil, err
				}
				if key != "url" {
					if err := d.skipValue(tok); err != nil {
						return "", nil, err
					}
					continue
				}
				switch v := tok.(type) {
				case string:
					url = v
				case nil:
				default:
					return "", nil, d.errorf("%s.request.url: expected a string, got %s", where, kindOfToken(tok))
				}
			}
			if _, err := d.token(); err != nil { // }
				return "", nil, err
			}
		case "serverIPAddress":
			addr = tok
			if err := d.skipValue(tok); err != nil {
				return "", nil, err
			}
		default:
			if err := d.skipValue(tok); err != nil {
				return "", nil, err
			}
		}
	}
	if _, err := d.token(); err != nil { // }
		return "", nil, err
	}
	return url, addr, nil
}
