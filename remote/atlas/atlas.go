// Package atlas is a client of the RIPE Atlas REST API v2
// (https://atlas.ripe.net/docs/apis/): measurement descriptions, their
// results as a stream, probe positions, and one-off measurements created
// with an API key. It also decodes RIPE Atlas probe lists (an API /probes/
// page or the daily probe archive) as a stream.
//
// Every call takes a context and has timeouts; 5xx answers and network
// errors are retried with exponential backoff, a 429 waits as Retry-After
// says, and failures come back as *APIError (401 and 403 name the
// environment variable to set). The API key is sent in the Authorization
// header, never in a URL, and never logged.
//
// What leaves the machine: the measurement ids and probe ids asked about
// and, for Create, the measurement definition with its target. RIPE Atlas
// measurements are public by default: creating one publishes its target.
//
// Results are returned as the API streams them (one JSON result a line);
// read them with traceroute.Read, which keeps memory bounded by one result:
//
//	rc, err := c.Results(ctx, 5001, atlas.ResultsQuery{})
//	...
//	for t, err := range traceroute.Read(rc, traceroute.ReadOptions{Input: "msm 5001"}) { ... }
package atlas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/geoloc-dev/geoloc/remote/internal/apihttp"
)

// Where the client goes and what it needs.
const (
	// DefaultBaseURL is the RIPE Atlas API v2.
	DefaultBaseURL = "https://atlas.ripe.net/api/v2"
	// EnvBaseURL names the environment variable that overrides the base
	// URL (NewFromEnv reads it): tests point it to a local stand-in.
	EnvBaseURL = "GEOLOC_ATLAS_API"
	// EnvKey names the environment variable holding the API key; only
	// creating measurements needs one.
	EnvKey = "ATLAS_API_KEY"
)

// Options configure a Client. The zero value talks to DefaultBaseURL
// without a key, with the default timeouts and retries.
type Options struct {
	// BaseURL of the API, without a trailing slash; "" means
	// DefaultBaseURL.
	BaseURL string
	// Key is a RIPE Atlas API key (only Create needs one); "" sends none.
	Key string
	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Timeout bounds one attempt of a request (for a result stream, the
	// wait for its first byte); 0 means 30 s.
	Timeout time.Duration
	// IdleTimeout aborts a result stream that delivers nothing for this
	// long; 0 means 60 s.
	IdleTimeout time.Duration
	// Retries after a 5xx, a network error or a 429; 0 means 4, negative
	// none.
	Retries int
	// MaxRetryWait is the longest Retry-After of a 429 that is waited
	// out; a longer one fails at once. 0 means 5 minutes.
	MaxRetryWait time.Duration
	// UserAgent is sent with each request; "" means "geoloc".
	UserAgent string
	// Logger receives debug lines per request (never the key); nil means
	// silent.
	Logger *slog.Logger
	// Sleep waits between retries and polls; nil means a real timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client talks to the RIPE Atlas API. It is safe for concurrent use.
type Client struct {
	base string
	hc   apihttp.Client
	key  string
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
	c := &Client{base: base, key: opts.Key}
	c.hc = apihttp.Client{
		HTTP: opts.HTTPClient, Retries: opts.Retries, Timeout: opts.Timeout, IdleTimeout: opts.IdleTimeout,
		MaxWait: opts.MaxRetryWait, Sleep: opts.Sleep, UserAgent: ua, Logger: opts.Logger,
	}
	if opts.Key != "" {
		key := opts.Key
		c.hc.Auth = func(r *http.Request) { r.Header.Set("Authorization", "Key "+key) }
	}
	return c
}

// NewFromEnv is New with BaseURL and Key, when opts leaves them empty,
// taken from the environment (EnvBaseURL, EnvKey) through getenv
// (os.Getenv in a program).
func NewFromEnv(getenv func(string) string, opts Options) *Client {
	if opts.BaseURL == "" {
		opts.BaseURL = getenv(EnvBaseURL)
	}
	if opts.Key == "" {
		opts.Key = getenv(EnvKey)
	}
	return New(opts)
}

// BaseURL is the API base URL the client uses.
func (c *Client) BaseURL() string { return c.base }

// HasKey reports whether the client has an API key.
func (c *Client) HasKey() bool { return c.key != "" }

// APIError is an answer of the API that is not a success.
type APIError struct {
	// Op is the request, "GET /measurements/5001/" (no host, no key).
	Op string
	// StatusCode is the HTTP status.
	StatusCode int
	// Title and Detail are the API's error description (its "error"
	// object), when it sent one.
	Title, Detail string
	// Errors are the details of individual problems ("/definitions/0/af:
	// This field is required.").
	Errors []string
	// RetryAfter is how long a 429 asked to wait (0 when it did not say).
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "RIPE Atlas API: %s: %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Detail != "" && e.Detail != http.StatusText(e.StatusCode) {
		b.WriteString(": " + e.Detail)
	}
	for _, d := range e.Errors {
		b.WriteString("; " + d)
	}
	switch e.StatusCode {
	case http.StatusUnauthorized:
		fmt.Fprintf(&b, " (set %s to a RIPE Atlas API key)", EnvKey)
	case http.StatusForbidden:
		fmt.Fprintf(&b, " (set %s to a RIPE Atlas API key allowed to do this, with enough credits)", EnvKey)
	case http.StatusTooManyRequests:
		if e.RetryAfter > 0 {
			fmt.Fprintf(&b, " (rate limited: try again in %v)", e.RetryAfter.Round(time.Second))
		} else {
			b.WriteString(" (rate limited: try again later)")
		}
	}
	return b.String()
}

// ErrNoKey is returned, without sending anything, by calls that need an
// API key when the client has none.
var ErrNoKey = fmt.Errorf("RIPE Atlas: creating measurements needs an API key: set %s (https://atlas.ripe.net/keys/)", EnvKey)

// apiError turns a transport error into an *APIError where the API
// answered; other errors are wrapped with the operation.
func apiError(op string, err error) error {
	var se *apihttp.StatusError
	if !errors.As(err, &se) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return fmt.Errorf("RIPE Atlas API: %s: %w", op, err)
	}
	e := &APIError{Op: op, StatusCode: se.Status, RetryAfter: apihttp.RetryAfter(se.Header, time.Now())}
	var body struct {
		Error struct {
			Title  string `json:"title"`
			Detail string `json:"detail"`
			Errors []struct {
				Source struct {
					Pointer   string `json:"pointer"`
					Parameter string `json:"parameter"`
				} `json:"source"`
				Detail string `json:"detail"`
			} `json:"errors"`
		} `json:"error"`
	}
	if json.Unmarshal(se.Body, &body) == nil {
		e.Title, e.Detail = body.Error.Title, body.Error.Detail
		for _, d := range body.Error.Errors {
			where := d.Source.Pointer + d.Source.Parameter
			if where != "" {
				where += ": "
			}
			e.Errors = append(e.Errors, where+d.Detail)
		}
	}
	return e
}

// get fetches a JSON document whole.
func (c *Client) get(ctx context.Context, path string, q url.Values, out any) error {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	op := "GET " + path
	resp, err := c.hc.Do(ctx, apihttp.Request{Method: http.MethodGet, URL: u, Idempotent: true})
	if err != nil {
		return apiError(op, err)
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return fmt.Errorf("RIPE Atlas API: %s: bad JSON: %w", op, err)
	}
	return nil
}

// Status is a measurement's state, as the API names it.
type Status struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// The measurement status ids of the API.
const (
	StatusSpecified        = 0
	StatusScheduled        = 1
	StatusOngoing          = 2
	StatusStopped          = 4
	StatusForcedToStop     = 5
	StatusNoSuitableProbes = 6
	StatusFailed           = 7
	StatusArchived         = 8
)

// Final reports whether the measurement will produce no more results.
func (s Status) Final() bool {
	switch s.ID {
	case StatusStopped, StatusForcedToStop, StatusNoSuitableProbes, StatusFailed, StatusArchived:
		return true
	}
	switch strings.ToLower(s.Name) {
	case "stopped", "forced to stop", "no suitable probes", "failed", "archived", "denied":
		return true
	}
	return false
}

// Failed reports whether the measurement ended without running.
func (s Status) Failed() bool {
	switch s.ID {
	case StatusNoSuitableProbes, StatusFailed:
		return true
	}
	switch strings.ToLower(s.Name) {
	case "no suitable probes", "failed", "denied":
		return true
	}
	return false
}

// Measurement is the description of a measurement (GET /measurements/ID/).
type Measurement struct {
	ID          int64  `json:"id"`
	Type        string `json:"type"` // "traceroute", "ping", "dns", ...
	Status      Status `json:"status"`
	Description string `json:"description"`
	Target      string `json:"target"`
	TargetIP    string `json:"target_ip"`
	AF          int    `json:"af"`
	IsOneoff    bool   `json:"is_oneoff"`
	IsPublic    bool   `json:"is_public"`
	// StartTime and StopTime are Unix seconds; StopTime is 0 while the
	// measurement has none.
	StartTime        int64 `json:"start_time"`
	StopTime         int64 `json:"stop_time"`
	ProbesRequested  int   `json:"probes_requested"`
	ProbesScheduled  int   `json:"probes_scheduled"`
	ParticipantCount int   `json:"participant_count"`
}

// Measurement fetches the description of measurement id.
func (c *Client) Measurement(ctx context.Context, id int64) (*Measurement, error) {
	var m Measurement
	if err := c.get(ctx, "/measurements/"+strconv.FormatInt(id, 10)+"/", url.Values{"format[datetime]": {"timestamp"}}, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// ResultsQuery narrows the results of a measurement. The zero value asks
// for all of them.
type ResultsQuery struct {
	// Start and Stop bound the results' times (the zero time: no bound).
	Start, Stop time.Time
	// ProbeIDs keeps the results of these probes only.
	ProbeIDs []int64
}

// Values is the query string of q, as the results endpoint takes it.
func (q ResultsQuery) Values() url.Values {
	v := url.Values{}
	if !q.Start.IsZero() {
		v.Set("start", strconv.FormatInt(q.Start.Unix(), 10))
	}
	if !q.Stop.IsZero() {
		v.Set("stop", strconv.FormatInt(q.Stop.Unix(), 10))
	}
	if len(q.ProbeIDs) > 0 {
		v.Set("probe_ids", joinIDs(q.ProbeIDs))
	}
	return v
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

// Results opens the result stream of measurement id
// (/measurements/ID/results/, one JSON result a line). The caller reads it
// (traceroute.Read does, with bounded memory) and closes it. A stream that
// stalls longer than Options.IdleTimeout fails its read; a stream cut
// short ends early, which the reader reports as a truncated record.
func (c *Client) Results(ctx context.Context, id int64, q ResultsQuery) (io.ReadCloser, error) {
	path := "/measurements/" + strconv.FormatInt(id, 10) + "/results/"
	v := q.Values()
	v.Set("format", "txt")
	resp, err := c.hc.Do(ctx, apihttp.Request{Method: http.MethodGet, URL: c.base + path + "?" + v.Encode(), Stream: true, Idempotent: true})
	if err != nil {
		return nil, apiError("GET "+path, err)
	}
	return resp.Stream, nil
}

// MaxIDsPerRequest is how many probe ids one /probes/ request asks about.
const MaxIDsPerRequest = 500

// Probes fetches the descriptions of the given probes, MaxIDsPerRequest
// ids a request (id__in), following the API's pages. Unknown ids are
// left out; the order is the API's.
func (c *Client) Probes(ctx context.Context, ids []int64) iter.Seq2[Probe, error] {
	return func(yield func(Probe, error) bool) {
		for start := 0; start < len(ids); start += MaxIDsPerRequest {
			batch := ids[start:min(len(ids), start+MaxIDsPerRequest)]
			q := url.Values{"id__in": {joinIDs(batch)}, "page_size": {strconv.Itoa(MaxIDsPerRequest)}}
			if !c.pages(ctx, c.base+"/probes/?"+q.Encode(), yield) {
				return
			}
		}
	}
}

// pages yields the probes of a /probes/ query and of its next pages; it
// reports false when it stopped (an error, or yield said so).
func (c *Client) pages(ctx context.Context, next string, yield func(Probe, error) bool) bool {
	for next != "" {
		var page struct {
			Next    *string         `json:"next"`
			Results json.RawMessage `json:"results"`
		}
		resp, err := c.hc.Do(ctx, apihttp.Request{Method: http.MethodGet, URL: next, Idempotent: true})
		if err != nil {
			yield(Probe{}, apiError("GET /probes/", err))
			return false
		}
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			yield(Probe{}, fmt.Errorf("RIPE Atlas API: GET /probes/: bad JSON: %w", err))
			return false
		}
		for p, err := range ReadProbes(bytes.NewReader(page.Results)) {
			if !yield(p, err) {
				return false
			}
		}
		next = ""
		if page.Next != nil && *page.Next != "" {
			n, err := c.sameHost(*page.Next)
			if err != nil {
				yield(Probe{}, err)
				return false
			}
			next = n
		}
	}
	return true
}

// sameHost checks that a "next" link stays on the API's host (a key is
// sent there) and returns it.
func (c *Client) sameHost(next string) (string, error) {
	b, err1 := url.Parse(c.base)
	n, err2 := url.Parse(next)
	if err1 != nil || err2 != nil || n.Host != b.Host {
		return "", fmt.Errorf("RIPE Atlas API: GET /probes/: next page %q is not on %s", next, b.Host)
	}
	if n.Scheme != b.Scheme { // the API may name itself https behind a proxy
		n.Scheme = b.Scheme
	}
	return n.String(), nil
}

// ProbesNear lists the connected probes within radiusKm of a point (the
// API's latitude/longitude/radius search with status=1), following pages.
// It sends the point and the radius, nothing else.
func (c *Client) ProbesNear(ctx context.Context, lat, lon, radiusKm float64) iter.Seq2[Probe, error] {
	return func(yield func(Probe, error) bool) {
		q := url.Values{
			"latitude":  {strconv.FormatFloat(lat, 'f', 4, 64)},
			"longitude": {strconv.FormatFloat(lon, 'f', 4, 64)},
			"radius":    {strconv.FormatFloat(radiusKm, 'f', 0, 64)},
			"status":    {"1"},
			"page_size": {strconv.Itoa(MaxIDsPerRequest)},
		}
		c.pages(ctx, c.base+"/probes/?"+q.Encode(), yield)
	}
}
