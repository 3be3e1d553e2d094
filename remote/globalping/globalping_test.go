package globalping_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/geoloc-dev/geoloc/internal/remotetest"
	"github.com/geoloc-dev/geoloc/remote/globalping"
	"github.com/geoloc-dev/geoloc/traceroute"
)

// documented reads one of the API's documented example measurements (see
// traceroute/testdata/json/ORIGIN.md).
func documented(t testing.TB, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("../../traceroute/testdata/json/globalping/" + name)
	require.NoError(t, err)
	return b
}

func standIn(t *testing.T) (*remotetest.Globalping, *remotetest.Sleeps, func(globalping.Options) *globalping.Client) {
	t.Helper()
	g := &remotetest.Globalping{}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	s := &remotetest.Sleeps{}
	return g, s, func(o globalping.Options) *globalping.Client {
		o.BaseURL = srv.URL + "/v1"
		o.Sleep = s.Sleep
		return globalping.New(o)
	}
}

func TestCreateWaitRead(t *testing.T) {
	g, s, client := standIn(t)
	g.InProgressPolls = 3
	var got map[string]any
	g.OnCreate = func(req map[string]any) (json.RawMessage, error) {
		got = req
		return documented(t, "traceroute-full.json"), nil
	}
	c := client(globalping.Options{})
	ctx := context.Background()
	created, err := c.Create(ctx, globalping.MeasurementRequest{Type: "traceroute", Target: "192.0.2.9",
		Locations: []globalping.Location{{Magic: "Sydney", Limit: 2}}, Options: &globalping.MeasurementOptions{Protocol: "ICMP"}})
	require.NoError(t, err)
	assert.Equal(t, 1, created.ProbesCount)
	assert.Equal(t, "traceroute", got["type"])
	assert.Equal(t, []any{map[string]any{"magic": "Sydney", "limit": float64(2)}}, got["locations"])

	var statuses []string
	m, err := c.Wait(ctx, created.ID, globalping.WaitOptions{Progress: func(m *globalping.Measurement) { statuses = append(statuses, m.Status) }})
	require.NoError(t, err)
	assert.Equal(t, []string{"in-progress", "in-progress", "in-progress", "finished"}, statuses)
	assert.Equal(t, []time.Duration{500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond}, s.All())
	assert.True(t, m.Finished())

	var traces []*traceroute.Trace
	for tr, err := range traceroute.Read(bytes.NewReader(m.Raw), traceroute.ReadOptions{Input: created.ID}) {
		require.NoError(t, err)
		traces = append(traces, tr)
	}
	require.Len(t, traces, 1)
	assert.Equal(t, traceroute.FormatGlobalping, traces[0].Format)
	assert.Len(t, traces[0].Hops, 11)
	assert.True(t, traces[0].Source.HasLocation())

	// Polls after the first carried the ETag; unchanged answers were 304.
	withTag := 0
	for _, r := range g.Requests() {
		if r.Method == "GET" {
			withTag++
		}
	}
	assert.Equal(t, 4, withTag)
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name  string
		token string
		fault remotetest.Fault
		want  string
		code  int
		waits []time.Duration
	}{
		{name: "422 no probes", fault: remotetest.Fault{Method: "POST", Path: "/measurements", Status: 422}, want: "422 Unprocessable Entity: No suitable probes found.", code: 422},
		{name: "401 names the variable", fault: remotetest.Fault{Method: "POST", Path: "/measurements", Status: 401}, want: "(set GLOBALPING_TOKEN to a Globalping API token)", code: 401},
		{name: "403 with a token", token: "tok", fault: remotetest.Fault{Method: "POST", Path: "/measurements", Status: 403}, want: "(check GLOBALPING_TOKEN: the token was refused)", code: 403},
		{name: "429 waits as Retry-After says", fault: remotetest.Fault{Method: "POST", Path: "/measurements", Status: 429, Times: 2, RetryAfter: "3"},
			waits: []time.Duration{3 * time.Second, 3 * time.Second}},
		{name: "429 waits as X-RateLimit-Reset says", fault: remotetest.Fault{Method: "POST", Path: "/measurements", Status: 429, Times: 1, Header: http.Header{"X-Ratelimit-Reset": {"12"}}},
			waits: []time.Duration{12 * time.Second}},
		{name: "429 for an hour fails at once", fault: remotetest.Fault{Method: "POST", Path: "/measurements", Status: 429, Header: http.Header{"X-Ratelimit-Reset": {"3000"}}},
			want: "rate limited: try again in 50m0s, or set GLOBALPING_TOKEN for a higher limit", code: 429},
		{name: "503 on create is retried", fault: remotetest.Fault{Method: "POST", Path: "/measurements", Status: 503, Times: 1}, waits: []time.Duration{-1}},
		{name: "500 on create is not", fault: remotetest.Fault{Method: "POST", Path: "/measurements", Status: 500, Times: 1}, want: "500 Internal Server Error", code: 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, s, client := standIn(t)
			g.Token = tc.token
			g.OnCreate = func(map[string]any) (json.RawMessage, error) { return documented(t, "ping.json"), nil }
			g.Fail(tc.fault)
			_, err := client(globalping.Options{Token: tc.token}).Create(context.Background(), globalping.MeasurementRequest{Type: "ping", Target: "192.0.2.9"})
			waits := s.All()
			if len(tc.waits) == 1 && tc.waits[0] == -1 {
				assert.Len(t, waits, 1)
			} else {
				assert.Equal(t, tc.waits, waits)
			}
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			var ae *globalping.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.code, ae.StatusCode)
		})
	}
	t.Run("validation error lists the parameters", func(t *testing.T) {
		_, _, client := standIn(t)
		_, err := client(globalping.Options{}).Create(context.Background(), globalping.MeasurementRequest{Type: "whois"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `400 Bad Request: Parameter validation failed.; target: "target" is required; type: "type" must be one of`)
	})
	t.Run("a refused token is 401", func(t *testing.T) {
		g, _, client := standIn(t)
		g.Token = "the-right-one"
		_, err := client(globalping.Options{Token: "a-wrong-one"}).Create(context.Background(), globalping.MeasurementRequest{Type: "ping", Target: "192.0.2.9"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "401 Unauthorized: Unauthorized. (check GLOBALPING_TOKEN: the token was refused)")
	})
	t.Run("404 on get", func(t *testing.T) {
		_, _, client := standIn(t)
		_, err := client(globalping.Options{}).Get(context.Background(), "nope")
		var ae *globalping.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "not_found", ae.Type)
	})
	t.Run("5xx on get, then success", func(t *testing.T) {
		g, s, client := standIn(t)
		g.OnCreate = func(map[string]any) (json.RawMessage, error) { return documented(t, "mtr.json"), nil }
		c := client(globalping.Options{})
		cr, err := c.Create(context.Background(), globalping.MeasurementRequest{Type: "mtr", Target: "192.0.2.9"})
		require.NoError(t, err)
		g.Fail(remotetest.Fault{Method: "GET", Path: "/measurements/", Status: 502, Times: 2})
		m, err := c.Get(context.Background(), cr.ID)
		require.NoError(t, err)
		assert.Equal(t, "finished", m.Status)
		assert.Len(t, s.All(), 2)
	})
	t.Run("truncated body", func(t *testing.T) {
		g, _, client := standIn(t)
		g.OnCreate = func(map[string]any) (json.RawMessage, error) { return documented(t, "mtr.json"), nil }
		c := client(globalping.Options{Retries: -1})
		cr, err := c.Create(context.Background(), globalping.MeasurementRequest{Type: "mtr", Target: "192.0.2.9"})
		require.NoError(t, err)
		g.Fail(remotetest.Fault{Method: "GET", Path: "/measurements/", CutAfter: 100})
		_, err = c.Get(context.Background(), cr.ID)
		require.Error(t, err)
	})
}

func TestWaitBounded(t *testing.T) {
	g, _, client := standIn(t)
	g.InProgressPolls = 1 << 30
	g.OnCreate = func(map[string]any) (json.RawMessage, error) { return documented(t, "ping.json"), nil }
	c := client(globalping.Options{})
	cr, err := c.Create(context.Background(), globalping.MeasurementRequest{Type: "ping", Target: "192.0.2.9"})
	require.NoError(t, err)
	m, err := c.Wait(context.Background(), cr.ID, globalping.WaitOptions{Interval: time.Second, MaxWait: 10 * time.Second})
	var nf *globalping.NotFinishedError
	require.ErrorAs(t, err, &nf)
	assert.Contains(t, err.Error(), "still in progress after 10s")
	require.NotNil(t, m, "the last copy comes with the error")
	assert.Equal(t, "in-progress", m.Status)
	assert.Equal(t, 11, g.Count("GET", "/measurements/"))
}

func TestTokenNeverLogged(t *testing.T) {
	g, _, client := standIn(t)
	g.Token = "very-secret-token"
	g.OnCreate = func(map[string]any) (json.RawMessage, error) { return documented(t, "ping.json"), nil }
	var logs bytes.Buffer
	c := client(globalping.Options{Token: "very-secret-token", Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	g.Fail(remotetest.Fault{Method: "POST", Status: 503, Times: 1})
	cr, err := c.Create(context.Background(), globalping.MeasurementRequest{Type: "ping", Target: "192.0.2.9"})
	require.NoError(t, err)
	_, err = c.Wait(context.Background(), cr.ID, globalping.WaitOptions{})
	require.NoError(t, err)
	assert.NotEmpty(t, logs.String())
	assert.NotContains(t, logs.String(), "very-secret-token")
	for _, r := range g.Requests() {
		assert.True(t, r.Authorized, "%s %s without the token", r.Method, r.Path)
	}
}

func TestProbes(t *testing.T) {
	g, _, client := standIn(t)
	g.Probes = json.RawMessage(`[{"version":"0.20.0","location":{"continent":"NA","region":"Northern America","country":"US","state":"VA","city":"Ashburn","asn":14618,"network":"Amazon.com, Inc.","latitude":39.0437,"longitude":-77.4875},"tags":["aws-us-east-1","datacenter-network"],"resolvers":["private"]}]`)
	ps, err := client(globalping.Options{}).Probes(context.Background())
	require.NoError(t, err)
	require.Len(t, ps, 1)
	assert.Equal(t, "Ashburn", ps[0].Location.City)
	assert.Equal(t, 39.0437, ps[0].Location.Latitude)
}

func TestCanceled(t *testing.T) {
	g, _, client := standIn(t)
	g.Fail(remotetest.Fault{Status: 503})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := client(globalping.Options{}).Get(ctx, "x")
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
}
