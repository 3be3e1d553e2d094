package apihttp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond},
		{http.Header{"Retry-After": {"Wed, 01 May 2024 12:00:30 GMT"}}, 30 * time.Second},
		{http.Header{"Retry-After": {"Wed, 01 May 2024 11:00:00 GMT"}}, 0},
		{http.Header{"X-Ratelimit-Reset": {"42"}}, 42 * time.Second},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{"Retry-After": {"-3"}}, 0},
		{http.Header{}, 0},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, RetryAfter(tc.h, now), "%v", tc.h)
	}
}

func TestRedact(t *testing.T) {
	assert.Equal(t, "https://x/api/?key=REDACTED&a=1", redact("https://x/api/?key=abc&a=1"))
	assert.Equal(t, "https://x/api/?token=REDACTED", redact("https://x/api/?token=abc"))
	assert.Equal(t, "https://x/api/", redact("https://x/api/"))
}

func TestTimeouts(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	c := &Client{Timeout: 100 * time.Millisecond, Retries: -1}
	_, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL + "/x?key=secret", Idempotent: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no answer within 100ms")
	assert.NotContains(t, err.Error(), "secret")
}

func TestNotIdempotentNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	url := srv.URL
	srv.Close() // connection refused from now on
	waits := 0
	c := &Client{Sleep: func(context.Context, time.Duration) error { waits++; return nil }}
	_, err := c.Do(context.Background(), Request{Method: "POST", URL: url, Body: []byte("{}")})
	require.Error(t, err)
	assert.Zero(t, waits, "a POST that may have arrived is not sent twice")
	_, err = c.Do(context.Background(), Request{Method: "GET", URL: url, Idempotent: true})
	require.Error(t, err)
	assert.Equal(t, DefaultRetries, waits)
	assert.True(t, strings.Contains(err.Error(), "GET "), err.Error())
}
