package traceroute

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// Router formats, as network automation tools (NAPALM, ncclient, NX-API
// clients) save them:
//
//   - junos-xml: the RPC reply of Junos "traceroute ... | display xml"
//     (<traceroute-results>, RTTs in microseconds). Junos writes one <hop>
//     element per answering address, so several elements share a
//     <ttl-value>; they are merged into one hop.
//   - iosxr-xml: the NETCONF reply of the Cisco-IOS-XR-traceroute-act
//     "traceroute" action (<traceroute-response>, <delta-time> in ms). A
//     probe whose <result> is "*" is lost (NAPALM reports it as an RTT equal
//     to the timeout, which would place the router impossibly far away).
//   - nxos-json: an NX-API JSON response (ins_api "outputs" or JSON-RPC
//     "result"). NX-OS has no structured form of traceroute; the reply's body
//     holds the CLI text, which is read with the text parsers.
//
// XML is streamed token by token with encoding/xml, one trace at a time;
// several replies concatenated give several traces.

func xmlHead(head []byte) bool { return len(head) > 0 && head[0] == '<' }

func detectJunosXML(head []byte) bool {
	return xmlHead(head) && bytes.Contains(head, []byte("<traceroute-results"))
}

func detectIOSXRXML(head []byte) bool {
	return xmlHead(head) && bytes.Contains(head, []byte("<traceroute-response"))
}

// xmlText collects the character data of the innermost element.
type xmlWalker struct {
	d     *xml.Decoder
	input string
	name  string
	text  []byte
	depth int  // elements open now
	seen  bool // a result element was opened: an input without one is an error
	in    *xmlNodeCap
	// probes counts the probes of the trace being read, against MaxProbes.
	probes int
}

// maxXMLNode bounds one XML token (a text run, a comment, a tag with its
// attributes). encoding/xml holds a whole token in memory before returning
// it, so a 300 MB comment would cost a gigabyte; the router replies read
// here have tokens of a few dozen bytes.
const maxXMLNode = 1 << 20

// errXMLNode is the error the decoder gets when a token grows past
// maxXMLNode.
var errXMLNode = fmt.Errorf("XML node larger than %d MiB: giving up", maxXMLNode>>20)

// xmlNodeCap feeds the XML decoder byte by byte (it then does no buffering
// of its own) and fails once the token being read passes maxXMLNode bytes.
type xmlNodeCap struct {
	br *bufio.Reader
	n  int // bytes read since the decoder last returned a token
}

func (c *xmlNodeCap) ReadByte() (byte, error) {
	if c.n++; c.n > maxXMLNode {
		return 0, errXMLNode
	}
	return c.br.ReadByte()
}

func (c *xmlNodeCap) Read(p []byte) (int, error) {
	if c.n >= maxXMLNode {
		return 0, errXMLNode
	}
	n, err := c.br.Read(p[:min(len(p), maxXMLNode-c.n)])
	c.n += n
	return n, err
}

// maxXMLDepth bounds element nesting: the router replies nest a handful of
// levels, and a hostile file nested millions deep would cost seconds and
// hundreds of MB before failing anyway.
const maxXMLDepth = 64

func newXMLWalker(br *bufio.Reader, input, name string) *xmlWalker {
	in := &xmlNodeCap{br: br}
	d := xml.NewDecoder(in)
	d.CharsetReader = func(charset string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(charset) {
		case "utf-8", "us-ascii", "ascii", "iso-8859-1", "latin1":
			return r, nil // the elements we read are ASCII
		}
		return nil, fmt.Errorf("unsupported charset %q", charset)
	}
	return &xmlWalker{d: d, input: input, name: name, in: in}
}

func (w *xmlWalker) line() int {
	l, _ := w.d.InputPos()
	return l
}

func (w *xmlWalker) errorf(format string, args ...any) *ParseError {
	return &ParseError{Input: w.input, Line: w.line(), Format: w.name, Err: fmt.Errorf(format, args...)}
}

func (w *xmlWalker) tokenErr(err error) *ParseError {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &ParseError{Input: w.input, Line: se.Line, Format: w.name, Err: errors.New(se.Msg)}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return w.errorf("unexpected end of input inside XML")
	}
	return &ParseError{Input: w.input, Line: w.line(), Format: w.name, Err: err}
}

// text returns the trimmed character data collected since the last start tag.
// token returns the next token, or false at the end of the input, having
// yielded the error when the input ended inside the element open (open
// says whether it is) or is not well-formed XML.
func (w *xmlWalker) token(open bool, element string, yield func(*Trace, error) bool) (xml.Token, bool) {
	tok, err := w.d.Token()
	w.in.n = 0
	if errors.Is(err, io.EOF) {
		switch {
		case open:
			yield(nil, w.errorf("unexpected end of input inside <%s>", element))
		case !w.seen:
			yield(nil, w.errorf("no <%s> element in the input", element))
		}
		return nil, false
	}
	if err != nil {
		yield(nil, w.tokenErr(err))
		return nil, false
	}
	switch el := tok.(type) {
	case xml.StartElement:
		if el.Name.Local == element {
			w.seen = true
		}
		if w.depth++; w.depth > maxXMLDepth {
			yield(nil, w.errorf("XML nested deeper than %d elements", maxXMLDepth))
			return nil, false
		}
	case xml.EndElement:
		w.depth--
	}
	return tok, true
}

// emit yields the trace of a finished element, or the error that spoiled
// it, and reports whether to go on.
func (w *xmlWalker) emit(t *Trace, bad error, yield func(*Trace, error) bool) bool {
	if bad == nil {
		bad = checkRTTs(t)
	}
	if bad != nil {
		return yield(nil, w.errorf("%v", bad))
	}
	return yield(t, nil)
}

// full counts one more probe of the trace and reports whether that is one
// too many.
func (w *xmlWalker) full() bool {
	w.probes++
	return w.probes > MaxProbes
}

func (w *xmlWalker) textString() string { return string(bytes.TrimSpace(w.text)) }

func xmlAddr(s string) (netip.Addr, error) {
	if s == "" || s == "*" {
		return netip.Addr{}, nil
	}
	return parseAddrBytes([]byte(s))
}

func xmlNumber(s, what string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("%s: bad number %q", what, s)
	}
	return v, nil
}

func xmlTTL(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 255 {
		return 0, fmt.Errorf("bad TTL %q", s)
	}
	return n, nil
}

// hopFor returns the hop with the given TTL, appending one unless the last
// hop already has it.
func hopFor(t *Trace, ttl int) *Hop {
	if n := len(t.Hops); n > 0 && t.Hops[n-1].TTL == ttl {
		return &t.Hops[n-1]
	}
	for i := range t.Hops {
		if t.Hops[i].TTL == ttl {
			return &t.Hops[i]
		}
	}
	t.Hops = append(t.Hops, Hop{TTL: ttl})
	return &t.Hops[len(t.Hops)-1]
}

func parseJunosXML(br *bufio.Reader, input string, yield func(*Trace, error) bool) {
	w := newXMLWalker(br, input, FormatJunosXML)
	var (
		t        *Trace
		inHop    bool
		hopTTL   = -1
		hopProbe []Probe
		probe    *Probe
		icmpType = -1
		icmpCode = 0
		bad      error
	)
	flushHop := func() {
		if t == nil || bad != nil {
			return
		}
		if hopTTL < 0 {
			bad = errors.New("<hop> without <ttl-value>")
			return
		}
		h := hopFor(t, hopTTL)
		h.Probes = append(h.Probes, hopProbe...)
	}
	for {
		tok, ok := w.token(t != nil, "traceroute-results", yield)
		if !ok {
			return
		}
		var err error // of the element text's parse
		switch el := tok.(type) {
		case xml.StartElement:
			w.text = w.text[:0]
			switch el.Name.Local {
			case "traceroute-results":
				t, bad, w.probes = &Trace{Format: FormatJunosXML}, nil, 0
			case "hop":
				inHop, hopTTL, hopProbe = true, -1, nil
			case "probe-result":
				if inHop && bad == nil && w.full() {
					// The rest of this element may not end: stop here.
					yield(nil, w.errorf("more than %d probes in one trace: giving up", MaxProbes))
					return
				}
				if inHop && bad == nil {
					hopProbe = append(hopProbe, Probe{Lost: true})
					probe = &hopProbe[len(hopProbe)-1]
					icmpType, icmpCode = -1, 0
				}
			case "icmp-type", "icmp-code":
				for _, a := range el.Attr {
					v, err := strconv.Atoi(a.Value)
					if err != nil {
						continue
					}
					switch a.Name.Local {
					case "integer-type-value":
						icmpType = v
					case "integer-code-value":
						icmpCode = v
					}
				}
			}
		case xml.CharData:
			if len(w.text)+len(el) < 1<<16 {
				w.text = append(w.text, el...)
			}
		case xml.EndElement:
			if t == nil || bad != nil {
				if el.Name.Local == "traceroute-results" && bad != nil {
					if !yield(nil, w.errorf("%v", bad)) {
						return
					}
					t = nil
				}
				continue
			}
			txt := w.textString()
			switch el.Name.Local {
			case "target-host":
				if a, err := xmlAddr(txt); err == nil && a.IsValid() {
					if !t.Destination.Addr.IsValid() {
						t.Destination.Addr = a
					}
				} else {
					t.Destination.Name = txt
				}
			case "target-ip":
				a, err := xmlAddr(txt)
				if err != nil {
					bad = fmt.Errorf("target-ip: %w", err)
					continue
				}
				t.Destination.Addr = a
			case "ttl-value":
				if inHop {
					if hopTTL, err = xmlTTL(txt); err != nil {
						bad = err
					}
				}
			case "ip-address":
				if probe != nil {
					if probe.Addr, err = xmlAddr(txt); err != nil {
						bad = fmt.Errorf("ip-address: %w", err)
					}
				}
			case "host-name":
				if probe != nil && txt != probe.Addr.String() {
					probe.Name = txt
				}
			case "rtt":
				if probe != nil {
					us, err := xmlNumber(txt, "rtt")
					if err != nil {
						bad = err
						continue
					}
					probe.RTTMs, probe.Lost = us/1000, false
				}
			case "probe-result":
				if probe != nil && !probe.Lost {
					if f := icmpUnreachFlag(probe.Addr.Is6(), icmpType, icmpCode); f != "" {
						probe.Flags = []string{f}
					}
				}
				if probe != nil && probe.Lost {
					probe.Addr, probe.Name = netip.Addr{}, ""
				}
				probe = nil
			case "hop":
				flushHop()
				inHop = false
			case "traceroute-results":
				if !w.emit(t, bad, yield) {
					return
				}
				t = nil
			}
			w.text = w.text[:0]
		}
	}
}

func parseIOSXRXML(br *bufio.Reader, input string, yield func(*Trace, error) bool) {
	w := newXMLWalker(br, input, FormatIOSXRXML)
	var (
		t      *Trace
		hop    *Hop
		addr   netip.Addr
		host   string
		probes []Probe
		inProb bool
		prb    Probe
		bad    error
	)
	for {
		tok, ok := w.token(t != nil, "traceroute-response", yield)
		if !ok {
			return
		}
		var err error // of the element text's parse
		switch el := tok.(type) {
		case xml.StartElement:
			w.text = w.text[:0]
			if t == nil && el.Name.Local != "traceroute-response" {
				continue
			}
			switch el.Name.Local {
			case "traceroute-response":
				t, bad, w.probes = &Trace{Format: FormatIOSXRXML}, nil, 0
			case "hop":
				hop, addr, host, probes = &Hop{TTL: -1}, netip.Addr{}, "", nil
			case "probe":
				inProb, prb = true, Probe{Lost: true}
			}
		case xml.CharData:
			if len(w.text)+len(el) < 1<<16 {
				w.text = append(w.text, el...)
			}
		case xml.EndElement:
			if t == nil {
				continue
			}
			txt := w.textString()
			switch el.Name.Local {
			case "destination":
				if hop == nil && bad == nil {
					if a, err := xmlAddr(txt); err == nil && a.IsValid() {
						t.Destination.Addr = a
					} else {
						t.Destination.Name = txt
					}
				}
			case "hop-index":
				if hop != nil && !inProb {
					if hop.TTL, err = xmlTTL(txt); err != nil && bad == nil {
						bad = err
					}
				}
			case "hop-address":
				if hop != nil {
					if addr, err = xmlAddr(txt); err != nil && bad == nil {
						bad = fmt.Errorf("hop-address: %w", err)
					}
				}
			case "hop-hostname":
				host = txt
			case "delta-time":
				if inProb {
					ms, err := xmlNumber(txt, "delta-time")
					if err != nil {
						if bad == nil {
							bad = err
						}
						continue
					}
					prb.RTTMs, prb.Lost = ms, false
				}
			case "result":
				if inProb && txt == "*" {
					prb.RTTMs, prb.Lost = 0, true
				}
			case "probe":
				if inProb && bad == nil && w.full() {
					// The rest of this element may not end: stop here.
					yield(nil, w.errorf("more than %d probes in one trace: giving up", MaxProbes))
					return
				}
				if inProb && bad == nil {
					probes = append(probes, prb)
				}
				inProb = false
			case "hop":
				if hop != nil && bad == nil {
					if hop.TTL < 0 {
						bad = errors.New("<hop> without <hop-index>")
					} else {
						h := hopFor(t, hop.TTL)
						for _, p := range probes {
							if !p.Lost {
								p.Addr = addr
								if host != addr.String() {
									p.Name = host
								}
							}
							h.Probes = append(h.Probes, p)
						}
					}
				}
				hop = nil
			case "traceroute-response":
				if !w.emit(t, bad, yield) {
					return
				}
				t = nil
			}
			w.text = w.text[:0]
		}
	}
}

func detectNXOS(head []byte) bool {
	f, ok := peekFirstObject(head)
	return ok && (f.has("ins_api") || (f.has("jsonrpc") && f.has("result", "error")))
}

type nxapiReply struct {
	InsAPI *struct {
		Outputs struct {
			Output json.RawMessage `json:"output"`
		} `json:"outputs"`
	} `json:"ins_api"`
	Result *struct {
		Msg  *string         `json:"msg"`
		Body json.RawMessage `json:"body"`
	} `json:"result"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

type nxapiOutput struct {
	Input string          `json:"input"`
	Msg   string          `json:"msg"`
	Code  json.RawMessage `json:"code"`
	Body  json.RawMessage `json:"body"`
}

func parseNXOS(br *bufio.Reader, input string, yield func(*Trace, error) bool) {
	js := newJSONStream(br)
	for {
		val, line, err := js.next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			if !yield(nil, &ParseError{Input: input, Line: line, Format: FormatNXOSJSON, Err: err}) || stops(err) {
				return
			}
			continue
		}
		var bodies []string
		if err = tooManyObjects(val); err == nil {
			bodies, err = nxapiBodies(val)
		}
		if err != nil {
			err = js.rejected(line, err)
			if !yield(nil, &ParseError{Input: input, Line: line, Format: FormatNXOSJSON, Err: err}) {
				return
			}
			continue
		}
		for _, body := range bodies {
			if !nxosBody(body, input, line, yield) {
				return
			}
		}
	}
}

// nxapiBodies extracts the CLI text of every command output in a reply.
func nxapiBodies(val []byte) ([]string, error) {
	var r nxapiReply
	if err := json.Unmarshal(val, &r); err != nil {
		return nil, jsonErr(err)
	}
	var raws []json.RawMessage
	switch {
	case r.Error != nil:
		return nil, fmt.Errorf("NX-API error: %s", r.Error.Message)
	case r.InsAPI != nil:
		out := bytes.TrimSpace(r.InsAPI.Outputs.Output)
		var outs []nxapiOutput
		if len(out) > 0 && out[0] == '[' {
			if err := json.Unmarshal(out, &outs); err != nil {
				return nil, jsonErr(err)
			}
		} else if len(out) > 0 {
			var o nxapiOutput
			if err := json.Unmarshal(out, &o); err != nil {
				return nil, jsonErr(err)
			}
			outs = append(outs, o)
		}
		for _, o := range outs {
			if o.Input != "" && !strings.Contains(o.Input, "traceroute") {
				continue
			}
			if len(o.Body) == 0 {
				return nil, fmt.Errorf("NX-API output without a body (msg %q)", o.Msg)
			}
			raws = append(raws, o.Body)
		}
	case r.Result != nil:
		if r.Result.Msg != nil {
			return []string{*r.Result.Msg}, nil
		}
		raws = append(raws, r.Result.Body)
	default:
		return nil, errors.New("NX-API reply without outputs")
	}
	var bodies []string
	for _, raw := range raws {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errors.New("NX-API body is structured, not CLI text: NX-OS has no structured traceroute output")
		}
		bodies = append(bodies, s)
	}
	return bodies, nil
}

// nxosBody reads the CLI text of one command output with the text parsers.
func nxosBody(body, input string, line int, yield func(*Trace, error) bool) bool {
	trimmed := strings.TrimSpace(body)
	if trimmed == "" {
		return yield(nil, &ParseError{Input: input, Line: line, Format: FormatNXOSJSON, Err: errors.New("empty NX-API body")})
	}
	if trimmed[0] == '{' || trimmed[0] == '[' || trimmed[0] == '<' {
		return yield(nil, &ParseError{Input: input, Line: line, Format: FormatNXOSJSON, Err: errors.New("NX-API body is not CLI text")})
	}
	for t, err := range readCLIText(body, input) {
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				err = fmt.Errorf("body line %d: %s: %w", pe.Line, pe.Format, pe.Err)
			}
			if !yield(nil, &ParseError{Input: input, Line: line, Format: FormatNXOSJSON, Err: err}) {
				return false
			}
			continue
		}
		if err := validateTrace(t); err != nil {
			if !yield(nil, &ParseError{Input: input, Line: line, Format: FormatNXOSJSON, Err: fmt.Errorf("body: %w", err)}) {
				return false
			}
			continue
		}
		t.Format = FormatNXOSJSON
		if !yield(t, nil) {
			return false
		}
	}
	return true
}

// readCLIText reads router CLI text with the text formats. It cannot call
// Read: the format table refers to this parser, and Go forbids the
// initialisation cycle.
func readCLIText(body, input string) iter.Seq2[*Trace, error] {
	return func(yield func(*Trace, error) bool) {
		head := []byte(strings.TrimLeft(body, " \t\r\n"))
		if len(head) > detectSize {
			head = head[:detectSize]
		}
		for i := range textFormats {
			if textFormats[i].detect(head) {
				textFormats[i].parse(bufio.NewReaderSize(strings.NewReader(body), detectSize), input, yield)
				return
			}
		}
		yield(nil, &ParseError{Input: input, Line: 1, Err: ErrUnknownFormat})
	}
}
