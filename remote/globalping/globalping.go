// Package globalping is a client of the Globalping API v1
// (https://globalping.io/docs/api.globalping.io): it creates ping,
// traceroute and mtr measurements from probes chosen by location, polls
// them until they finish, and lists the connected probes.
//
// Every call takes a context and has timeouts; 5xx answers and network
// errors are retried with exponential backoff (creating a measurement only
// after a 503, which says nothing was created), a 429 waits as Retry-After
// (or X-RateLimit-Reset) says, and failures come back as *APIError (401
// and 403 name GLOBALPING_TOKEN). Polls use the ETag the API sends, as its
// client guidelines ask. A token is optional (it raises the hourly limit);
// it is sent in the Authorization header and never logged.
//
// What leaves the machine: the measurement's type, target and locations.
// Globalping measurements are public: anyone with the id can read them.
//
// A finished measurement's JSON (Measurement.Raw) is what
// traceroute.Read reads as the "globalping" format: each probe's test
// becomes a trace whose source is the probe's position.
package globalping

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/geoloc-dev/geoloc/remote/internal/apihttp"
)

// Where the client goes and what it may use.
const (
	// DefaultBaseURL is the Globalping API v1.
	DefaultBaseURL = "https://api.globalping.io/v1"
	// EnvBaseURL names the environment variable that overrides the base
	// URL (NewFromEnv reads it): tests point it to a local stand-in.
	EnvBaseURL = "GEOLOC_GLOBALPING_API"
	// EnvToken names the environment variable holding an optional API
	// token (higher rate limits).
	EnvToken = "GLOBALPING_TOKEN"
)

// Options configure a Client. The zero value talks to DefaultBaseURL
// without a token, with the default timeouts and retries.
type Options struct {
	// BaseURL of the API, without a trailing slash; "" means
	// DefaultBaseURL.
	BaseURL string
	// Token is a Globalping API token; "" sends none (anonymous limits).
	Token string
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Timeout bounds one attempt of a request; 0 means 30 s.
	Timeout time.Duration
	// Retries after a 5xx, a network error or a 429; 0 means 4, negative
	// none.
	Retries int
	// MaxRetryWait is the longest wait a 429 asks for that is waited out;
	// a longer one fails at once. 0 means 5 minutes.
	MaxRetryWait time.Duration
	// UserAgent is sent with each request (the API's guidelines ask for
	// one); "" means "geoloc".
	UserAgent string
	// Logger receives debug lines per request (never the token); nil
	// means silent.
	Logger *slog.Logger
	// Sleep waits between retries and polls; nil means a real timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client talks to the Globalping API. It is safe for concurrent use.
type Client struct {
	base  string
	hc    apihttp.Client
	token bool

	mu    sync.Mutex
	etags map[string]etagged // last answer per measurement id
}

type etagged struct {
	etag string
	body []byte
}

// New returns a client with opts.
func New(opts Options) *Client {
	base := strings.TrimRight(opts.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = "geoloc"
	}
	c := &Client{base: base, token: opts.Token != "", etags: map[string]etagged{}}
	c.hc = apihttp.Client{
		HTTP: opts.HTTPClient, Retries: opts.Retries, Timeout: opts.Timeout,
		MaxWait: opts.MaxRetryWait, Sleep: opts.Sleep, UserAgent: ua, Logger: opts.Logger,
	}
	if opts.Token != "" {
		tok := opts.Token
		c.hc.Auth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	return c
}

// NewFromEnv is New with BaseURL and Token, when opts leaves them empty,
// taken from the environment (EnvBaseURL, EnvToken) through getenv.
func NewFromEnv(getenv func(string) string, opts Options) *Client {
	if opts.BaseURL == "" {
		opts.BaseURL = getenv(EnvBaseURL)
	}
	if opts.Token == "" {
		opts.Token = getenv(EnvToken)
	}
	return New(opts)
}

// BaseURL is the API base URL the client uses.
func (c *Client) BaseURL() string { return c.base }

// APIError is an answer of the API that is not a success.
type APIError struct {
	// Op is the request, "POST /measurements" (no host, no token).
	Op         string
	StatusCode int
	// Type and Message are the API's error ("no_probes_found", "No
	// suitable probes found."); Params its per-field problems.
	Type, Message string
	Params        map[string]string
	// RetryAfter is how long a 429 asked to wait (0 when it did not say).
	RetryAfter time.Duration
	token      bool
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Globalping API: %s: %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	keys := make([]string, 0, len(e.Params))
	for k := range e.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "; %s: %s", k, e.Params[k])
	}
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		if e.token {
			fmt.Fprintf(&b, " (check %s: the token was refused)", EnvToken)
		} else {
			fmt.Fprintf(&b, " (set %s to a Globalping API token)", EnvToken)
		}
	case http.StatusTooManyRequests:
		wait := "later"
		if e.RetryAfter > 0 {
			wait = "in " + e.RetryAfter.Round(time.Second).String()
		}
		if e.token {
			fmt.Fprintf(&b, " (rate limited: try again %s)", wait)
		} else {
			fmt.Fprintf(&b, " (rate limited: try again %s, or set %s for a higher limit)", wait, EnvToken)
		}
	}
	return b.String()
}

func (c *Client) apiError(op string, err error) error {
	var se *apihttp.StatusError
	if !errors.As(err, &se) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return fmt.Errorf("Globalping API: %s: %w", op, err)
	}
	e := &APIError{Op: op, StatusCode: se.Status, RetryAfter: apihttp.RetryAfter(se.Header, time.Now()), token: c.token}
	var body struct {
		Error struct {
			Type    string         `json:"type"`
			Message string         `json:"message"`
			Params  map[string]any `json:"params"`
		} `json:"error"`
	}
	if json.Unmarshal(se.Body, &body) == nil {
		e.Type, e.Message = body.Error.Type, body.Error.Message
		for k, v := range body.Error.Params {
			if e.Params == nil {
				e.Params = map[string]string{}
			}
			e.Params[k] = fmt.Sprint(v)
		}
	}
	return e
}

// Location selects probes (one element of "locations"). Magic is
// Globalping's fuzzy selector: a country, city, state, continent, region,
// ASN ("AS3320"), network or cloud region ("aws-eu-west-1"), several joined
// with "+" ("Berlin+Germany"). Limit is the number of probes there.
type Location struct {
	Magic     string `json:"magic,omitempty"`
	Continent string `json:"continent,omitempty"`
	Region    string `json:"region,omitempty"`
	Country   string `json:"country,omitempty"`
	State     string `json:"state,omitempty"`
	City      string `json:"city,omitempty"`
	ASN       int    `json:"asn,omitempty"`
	Network   string `json:"network,omitempty"`
	Limit     int    `json:"limit,omitempty"`
}

// MeasurementOptions are the measurement's "measurementOptions".
type MeasurementOptions struct {
	Packets  int    `json:"packets,omitempty"`  // ping and mtr: 1..16
	Protocol string `json:"protocol,omitempty"` // traceroute and mtr: ICMP, UDP, TCP
	Port     int    `json:"port,omitempty"`
}

// MeasurementRequest asks for a new measurement (POST /measurements).
type MeasurementRequest struct {
	Type      string     `json:"type"` // "ping", "traceroute" or "mtr"
	Target    string     `json:"target"`
	Locations []Location `json:"locations,omitempty"`
	// Limit is the number of probes when Locations set none (1..500).
	Limit   int                 `json:"limit,omitempty"`
	Options *MeasurementOptions `json:"measurementOptions,omitempty"`
}

// Created is the answer to a new measurement.
type Created struct {
	ID          string `json:"id"`
	ProbesCount int    `json:"probesCount"`
}

// Create starts a measurement. It is retried after a 429 or a 503 only:
// the measurement then was not created.
func (c *Client) Create(ctx context.Context, req MeasurementRequest) (*Created, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	const op = "POST /measurements"
	resp, err := c.hc.Do(ctx, apihttp.Request{Method: http.MethodPost, URL: c.base + "/measurements", Body: body})
	if err != nil {
		return nil, c.apiError(op, err)
	}
	var out Created
	if err := json.Unmarshal(resp.Body, &out); err != nil || out.ID == "" {
		return nil, fmt.Errorf("Globalping API: %s: no measurement id in the answer", op)
	}
	return &out, nil
}

// Measurement is a measurement as GET /measurements/{id} returns it: its
// state, and the whole JSON for traceroute.Read.
type Measurement struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Status      string `json:"status"` // "in-progress", "finished"
	Target      string `json:"target"`
	ProbesCount int    `json:"probesCount"`
	// Raw is the measurement's JSON as the API sent it.
	Raw []byte `json:"-"`
}

// Finished reports whether the measurement is over ("any value other than
// in-progress is final").
func (m *Measurement) Finished() bool { return m.Status != "in-progress" }

// Get fetches measurement id. An unchanged measurement is answered from
// the last copy (If-None-Match / 304).
func (c *Client) Get(ctx context.Context, id string) (*Measurement, error) {
	op := "GET /measurements/" + id
	c.mu.Lock()
	last, haveLast := c.etags[id]
	c.mu.Unlock()
	h := http.Header{}
	if haveLast && last.etag != "" {
		h.Set("If-None-Match", last.etag)
	}
	resp, err := c.hc.Do(ctx, apihttp.Request{Method: http.MethodGet, URL: c.base + "/measurements/" + url.PathEscape(id),
		Header: h, Idempotent: true, OK: []int{http.StatusOK, http.StatusNotModified}})
	if err != nil {
		return nil, c.apiError(op, err)
	}
	body := resp.Body
	if resp.Status == http.StatusNotModified {
		if !haveLast {
			return nil, fmt.Errorf("Globalping API: %s: 304 Not Modified without an earlier copy", op)
		}
		body = last.body
	} else if et := resp.Header.Get("ETag"); et != "" {
		c.mu.Lock()
		c.etags[id] = etagged{etag: et, body: body}
		c.mu.Unlock()
	}
	m := Measurement{Raw: body}
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("Globalping API: %s: bad JSON: %w", op, err)
	}
	if m.ID == "" || m.Status == "" {
		return nil, fmt.Errorf("Globalping API: %s: not a measurement (no id or status)", op)
	}
	return &m, nil
}

// WaitOptions control Wait. The zero value polls every 500 ms (as the
// API's own clients do) for at most 2 minutes.
type WaitOptions struct {
	Interval time.Duration
	MaxWait  time.Duration
	// Progress, when set, sees each poll.
	Progress func(*Measurement)
}

// NotFinishedError is Wait's error when the measurement was still in
// progress at the end of the wait.
type NotFinishedError struct {
	ID     string
	Waited time.Duration
}

func (e *NotFinishedError) Error() string {
	return fmt.Sprintf("Globalping measurement %s still in progress after %v", e.ID, e.Waited.Round(time.Millisecond))
}

// Wait polls measurement id until it is finished, and returns it;
// *NotFinishedError (with the last copy) when opts.MaxWait passed first.
func (c *Client) Wait(ctx context.Context, id string, opts WaitOptions) (*Measurement, error) {
	interval := opts.Interval
	if interval <= 0 {
		interval = 500 * time.Millisecond
	}
	maxWait := opts.MaxWait
	if maxWait <= 0 {
		maxWait = 2 * time.Minute
	}
	var m *Measurement
	waited, done, err := c.hc.Poll(ctx, interval, maxWait, func() (bool, error) {
		var err error
		if m, err = c.Get(ctx, id); err != nil {
			return false, err
		}
		if opts.Progress != nil {
			opts.Progress(m)
		}
		return m.Finished(), nil
	})
	switch {
	case err != nil:
		return nil, err
	case !done:
		return m, &NotFinishedError{ID: id, Waited: waited}
	}
	c.mu.Lock()
	delete(c.etags, id)
	c.mu.Unlock()
	return m, nil
}

// Probe is a connected probe as GET /probes lists it.
type Probe struct {
	Version  string `json:"version"`
	Location struct {
		Continent string  `json:"continent"`
		Region    string  `json:"region"`
		Country   string  `json:"country"`
		State     string  `json:"state"`
		City      string  `json:"city"`
		ASN       int     `json:"asn"`
		Network   string  `json:"network"`
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
	} `json:"location"`
	Tags []string `json:"tags"`
}

// Probes lists the probes connected now.
func (c *Client) Probes(ctx context.Context) ([]Probe, error) {
	const op = "GET /probes"
	resp, err := c.hc.Do(ctx, apihttp.Request{Method: http.MethodGet, URL: c.base + "/probes", Idempotent: true})
	if err != nil {
		return nil, c.apiError(op, err)
	}
	var ps []Probe
	if err := json.Unmarshal(resp.Body, &ps); err != nil {
		return nil, fmt.Errorf("Globalping API: %s: bad JSON: %w", op, err)
	}
	return ps, nil
}
