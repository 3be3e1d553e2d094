// Package apihttp is the HTTP plumbing the remote measurement clients
// share: one request with retries (backoff on 5xx and network errors,
// waiting on 429 as Retry-After says), per-attempt timeouts, an idle
// timeout on streamed bodies, and error bodies kept short for messages.
// Credentials are set by a callback on each request and never logged.
package apihttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults of Client's zero fields.
const (
	DefaultRetries     = 4
	DefaultTimeout     = 30 * time.Second
	DefaultIdleTimeout = 60 * time.Second
	DefaultBackoff     = 500 * time.Millisecond
	DefaultMaxWait     = 5 * time.Minute
	maxBackoff         = 30 * time.Second
	maxErrorBody       = 8 << 10
)

// Client sends API requests. The zero value is usable.
type Client struct {
	// HTTP sends the requests; nil means a client of its own (no overall
	// timeout: Timeout and IdleTimeout bound each attempt instead).
	HTTP *http.Client
	// Retries is how many times a request is retried after a 5xx answer,
	// a network error or a 429; 0 means DefaultRetries, negative none.
	Retries int
	// Timeout bounds one attempt of a request whose body is read whole;
	// for a streamed body, only the wait for the response header. 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// IdleTimeout aborts a streamed body that delivers nothing for this
	// long; 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Backoff is the first wait between retries, doubled each time (with
	// jitter, at most 30 s); 0 means DefaultBackoff.
	Backoff time.Duration
	// MaxWait is the longest a 429's Retry-After is waited for; a longer
	// one fails at once with the error (which says when to come back). 0
	// means DefaultMaxWait.
	MaxWait time.Duration
	// Sleep waits d or until ctx is done; nil means a timer. Tests make
	// it instant.
	Sleep func(ctx context.Context, d time.Duration) error
	// UserAgent is sent with every request.
	UserAgent string
	// Auth sets the credentials of a request (an Authorization header). It
	// is called on every attempt; nothing it sets is ever logged.
	Auth func(*http.Request)
	// Logger receives one debug line per attempt (method, URL without
	// query credentials, status, wait); nil means silent.
	Logger *slog.Logger
}

// StatusError is a response with a status the caller did not want, its
// body cut to 8 KiB. The clients turn it into their typed API errors.
type StatusError struct {
	Method, URL string
	Status      int
	Header      http.Header
	Body        []byte
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
}

// RetryAfter is how long the response asks to wait before trying again:
// Retry-After in seconds or as an HTTP date, else X-RateLimit-Reset in
// seconds (Globalping's); 0 when neither says.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 && s < 1e7 {
			return time.Duration(s * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(0, t.Sub(now))
		}
	}
	if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 && s < 1e7 {
			return time.Duration(s * float64(time.Second))
		}
	}
	return 0
}

// Request describes one API call.
type Request struct {
	Method string
	URL    string
	// Body, when not nil, is sent as application/json (re-sent on retry).
	Body []byte
	// Header holds extra request headers (If-None-Match, ...).
	Header http.Header
	// Stream keeps the response body open for the caller: Timeout then
	// bounds only the wait for the header, and IdleTimeout each read.
	Stream bool
	// Idempotent requests are retried on any 5xx and network error;
	// others (creating a measurement) only on 429 and 503, which say the
	// request was not processed, so a retry cannot create a twin.
	Idempotent bool
	// OK lists the statuses that are not errors; nil means any 2xx.
	OK []int
}

// Response is a successful response. Body is the whole body, or nil for
// a streamed request, whose Stream the caller must close.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	Stream io.ReadCloser
}

func (c *Client) retries() int {
	switch {
	case c.Retries < 0:
		return 0
	case c.Retries == 0:
		return DefaultRetries
	}
	return c.Retries
}

func orDur(v, d time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return d
}

// Poll calls check every interval (pausing with Sleep when set) until it
// reports done, fails, or maxWait would pass; it returns how long it waited
// and whether check reported done.
func (c *Client) Poll(ctx context.Context, interval, maxWait time.Duration, check func() (bool, error)) (time.Duration, bool, error) {
	var waited time.Duration
	for {
		done, err := check()
		if err != nil || done {
			return waited, done, err
		}
		if waited+interval > maxWait {
			return waited, false, nil
		}
		if err := c.sleep(ctx, interval); err != nil {
			return waited, false, err
		}
		waited += interval
	}
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// Do sends r, retrying as the Client says, and returns the first
// acceptable response or the last error: a *StatusError for an unwanted
// status, the context's error when ctx ended, or the network error.
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	backoff := orDur(c.Backoff, DefaultBackoff)
	var last error
	for attempt := 0; ; attempt++ {
		resp, err := c.attempt(ctx, r)
		if err == nil {
			return resp, nil
		}
		last = err
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		wait, retry := c.retryable(r, err, backoff)
		if !retry || attempt >= c.retries() {
			return nil, last
		}
		if c.Logger != nil {
			c.Logger.Debug("retrying API request", "method", r.Method, "url", redact(r.URL), "error", err, "wait", wait)
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// retryable decides whether err is worth another attempt and how long to
// wait first.
func (c *Client) retryable(r Request, err error, backoff time.Duration) (time.Duration, bool) {
	jitter := func(d time.Duration) time.Duration { return d/2 + rand.N(d/2+1) }
	var se *StatusError
	if !errors.As(err, &se) {
		// A network error: the request may or may not have arrived.
		return jitter(backoff), r.Idempotent
	}
	after := RetryAfter(se.Header, time.Now())
	switch {
	case se.Status == http.StatusTooManyRequests:
		if after > orDur(c.MaxWait, DefaultMaxWait) {
			return 0, false
		}
		if after == 0 {
			after = jitter(backoff)
		}
		return after, true
	case se.Status == http.StatusServiceUnavailable, se.Status >= 500 && r.Idempotent:
		if after > 0 && after <= orDur(c.MaxWait, DefaultMaxWait) {
			return after, true
		}
		return jitter(backoff), true
	}
	return 0, false
}

func (c *Client) attempt(ctx context.Context, r Request) (*Response, error) {
	actx, cancel := context.WithCancel(ctx)
	timeout := orDur(c.Timeout, DefaultTimeout)
	timer := time.AfterFunc(timeout, cancel)
	var body io.Reader
	if r.Body != nil {
		body = strings.NewReader(string(r.Body))
	}
	req, err := http.NewRequestWithContext(actx, r.Method, r.URL, body)
	if err != nil {
		timer.Stop()
		cancel()
		return nil, err
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Accept", "application/json")
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if c.Auth != nil {
		c.Auth(req)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		timedOut := !timer.Stop() && ctx.Err() == nil
		cancel()
		if timedOut {
			return nil, fmt.Errorf("%s %s: no answer within %v", r.Method, redact(r.URL), timeout)
		}
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ctx.Err() == nil {
			return nil, fmt.Errorf("%s %s: %w", r.Method, redact(r.URL), ue.Unwrap())
		}
		return nil, err
	}
	if c.Logger != nil {
		c.Logger.Debug("API response", "method", r.Method, "url", redact(r.URL), "status", resp.StatusCode)
	}
	if !statusOK(resp.StatusCode, r.OK) {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		timer.Stop()
		cancel()
		return nil, &StatusError{Method: r.Method, URL: redact(r.URL), Status: resp.StatusCode, Header: resp.Header, Body: b}
	}
	if r.Stream {
		// The header came in time; from now on only stalls count.
		timer.Stop()
		return &Response{Status: resp.StatusCode, Header: resp.Header,
			Stream: newIdleReader(resp.Body, orDur(c.IdleTimeout, DefaultIdleTimeout), cancel)}, nil
	}
	defer cancel()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !timer.Stop() && ctx.Err() == nil {
		return nil, fmt.Errorf("%s %s: response not complete within %v", r.Method, redact(r.URL), timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the response: %w", r.Method, redact(r.URL), err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

func statusOK(status int, ok []int) bool {
	if ok == nil {
		return status >= 200 && status < 300
	}
	for _, s := range ok {
		if s == status {
			return true
		}
	}
	return false
}

// redact drops the query's "key" and "token" values from a URL for
// messages and logs: a key passed as a query parameter is a credential.
func redact(u string) string {
	i := strings.IndexByte(u, '?')
	if i < 0 {
		return u
	}
	parts := strings.Split(u[i+1:], "&")
	for j, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		switch strings.ToLower(k) {
		case "key", "token", "api_key":
			parts[j] = k + "=REDACTED"
		}
	}
	return u[:i+1] + strings.Join(parts, "&")
}

// idleReader cancels the request when one read waits too long for data,
// so a stalled stream ends with an error instead of hanging. Only time
// spent waiting inside Read counts: a slow consumer is not a stall.
type idleReader struct {
	rc     io.ReadCloser
	idle   time.Duration
	timer  *time.Timer
	cancel context.CancelFunc
	fired  atomic.Bool
}

func newIdleReader(rc io.ReadCloser, idle time.Duration, cancel context.CancelFunc) *idleReader {
	r := &idleReader{rc: rc, idle: idle, cancel: cancel}
	r.timer = time.AfterFunc(time.Hour, func() {
		r.fired.Store(true)
		cancel()
	})
	r.timer.Stop()
	return r
}

// ErrStalled is wrapped by the error of a streamed read that timed out.
var ErrStalled = errors.New("stream stalled")

func (r *idleReader) Read(p []byte) (int, error) {
	r.timer.Reset(r.idle)
	n, err := r.rc.Read(p)
	r.timer.Stop()
	if err != nil && err != io.EOF && r.fired.Load() {
		return n, fmt.Errorf("%w: nothing received for %v", ErrStalled, r.idle)
	}
	return n, err
}

func (r *idleReader) Close() error {
	r.timer.Stop()
	err := r.rc.Close()
	r.cancel()
	return err
}
