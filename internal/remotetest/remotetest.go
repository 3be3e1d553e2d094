// Package remotetest holds stand-ins for the remote measurement APIs geoloc
// talks to: the RIPE Atlas REST API v2 and the Globalping API v1. Tests
// start one on loopback (httptest) and point the clients at it, through
// GEOLOC_ATLAS_API and GEOLOC_GLOBALPING_API for the command line. Each
// implements the documented endpoints geoloc uses, answers with recorded
// responses given by the test, and can be told to fail (401, 403, 404,
// 429 with Retry-After, 5xx then success, truncated bodies, stalls) so
// that every error path runs without the Internet.
package remotetest

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Fault makes requests fail before they are served. A fault matches a
// request by method ("" = any) and path prefix (after the API prefix,
// "/measurements/" for example); it fires Times times (0 = always).
type Fault struct {
	Method, Path string
	Times        int
	// Status is the HTTP status to answer (Body as the body, or the API's
	// error object when Body is ""). RetryAfter, when set, is sent as the
	// Retry-After header ("2", or an HTTP date).
	Status     int
	Body       string
	RetryAfter string
	// Header holds extra response headers (X-RateLimit-Reset, ...).
	Header http.Header
	// CutAfter, when positive, serves the request normally but cuts the
	// response body after that many bytes (the connection is closed).
	CutAfter int
	// Stall, when positive, serves the response header and then sends
	// nothing for this long.
	Stall time.Duration

	fired int
}

// Request is what the stand-in received: method, path and query, and
// whether credentials came with it (never their value).
type Request struct {
	Method, Path, Query string
	Authorized          bool
	Body                string
}

// recorder keeps requests and faults, shared by both stand-ins.
type recorder struct {
	mu       sync.Mutex
	faults   []*Fault
	requests []Request
}

// Fail adds a fault; the first matching fault that has not fired out
// applies.
func (r *recorder) Fail(f Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = append(r.faults, &f)
}

// Requests returns what was received so far, in order.
func (r *recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// Count is the number of requests whose path starts with prefix.
func (r *recorder) Count(method, prefix string) int {
	n := 0
	for _, q := range r.Requests() {
		if (method == "" || q.Method == method) && strings.HasPrefix(q.Path, prefix) {
			n++
		}
	}
	return n
}

func (r *recorder) record(req Request) {
	r.mu.Lock()
	r.requests = append(r.requests, req)
	r.mu.Unlock()
}

// fault returns the fault applying to a request, counting it.
func (r *recorder) fault(method, path string) *Fault {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.faults {
		if (f.Method == "" || f.Method == method) && strings.HasPrefix(path, f.Path) && (f.Times == 0 || f.fired < f.Times) {
			f.fired++
			c := *f
			return &c
		}
	}
	return nil
}

// serveFault answers a request with f's status; it reports false for the
// faults that serve the request and disturb its body instead.
func serveFault(w http.ResponseWriter, f *Fault, errBody func(status int) string) bool {
	if f.Status == 0 {
		return false
	}
	for k, vs := range f.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	body := f.Body
	if body == "" {
		body = errBody(f.Status)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(body))
	return true
}

// disturbed wraps w when f cuts or stalls the body.
func disturbed(w http.ResponseWriter, r *http.Request, f *Fault) http.ResponseWriter {
	if f == nil || (f.CutAfter <= 0 && f.Stall <= 0) {
		return w
	}
	return &cutWriter{ResponseWriter: w, done: r.Context().Done(), left: f.CutAfter, cut: f.CutAfter > 0, stall: f.Stall}
}

// cutWriter sends the header, then stalls (until the client gives up) or
// cuts the body after a number of bytes by aborting the connection.
type cutWriter struct {
	http.ResponseWriter
	done    <-chan struct{}
	left    int
	cut     bool
	stall   time.Duration
	stalled bool
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if c.stall > 0 && !c.stalled {
		c.stalled = true
		c.Flush()
		select {
		case <-c.done:
			panic(http.ErrAbortHandler)
		case <-time.After(c.stall):
		}
	}
	if !c.cut || len(p) < c.left {
		c.left -= len(p)
		return c.ResponseWriter.Write(p)
	}
	_, _ = c.ResponseWriter.Write(p[:c.left])
	c.Flush()
	panic(http.ErrAbortHandler) // the client sees the body end early
}

func (c *cutWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Sleeps records the waits a client asks for (its Options.Sleep) and
// returns at once, so that retries and polls take no time in tests.
type Sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

// Sleep records d; it fails only when ctx is done.
func (s *Sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

// All returns the waits asked for so far.
func (s *Sleeps) All() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// repoFile is a file of the repository, found from this source file (the
// stand-ins run in tests, where the sources are at hand).
func repoFile(rel string) string {
	_, me, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(me), "..", "..", filepath.FromSlash(rel))
}

// AtlasTraceroutes are real RIPE Atlas traceroute results to serve: the
// results of ripe.atlas.sagan's tests (traceroute/testdata/json/ORIGIN.md),
// one JSON object each, in file order.
func AtlasTraceroutes() ([]json.RawMessage, error) {
	f, err := os.Open(repoFile("traceroute/testdata/json/ripe-atlas/sagan_traceroute_tests.jsonl"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []json.RawMessage
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var w struct {
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal(sc.Bytes(), &w); err != nil {
			return nil, err
		}
		out = append(out, w.Result)
	}
	return out, sc.Err()
}
