package remotetest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Globalping stands in for the Globalping API v1: POST /measurements (202
// with a Location header), GET /measurements/{id} (in progress for
// InProgressPolls polls, then finished; ETag and If-None-Match/304) and
// GET /probes. Paths may carry the /v1 prefix or not. Errors use the API's
// {"error":{"type","message"}} object.
type Globalping struct {
	recorder
	// Token, when set, is the only token accepted ("Authorization: Bearer
	// ..."); a request with another token gets 401. Requests without a
	// token are anonymous and served (unless RequireToken).
	Token        string
	RequireToken bool
	// InProgressPolls is how many polls of a new measurement answer
	// "in-progress" (with in-progress results) before it is finished.
	InProgressPolls int
	// OnCreate makes the finished measurement for a request (its "results"
	// array, or a whole measurement object whose id, type, target and
	// status the stand-in sets); nil answers 422 no_probes_found.
	OnCreate func(req map[string]any) (json.RawMessage, error)
	// Probes is the answer to GET /probes.
	Probes json.RawMessage

	mu      sync.Mutex
	created map[string]*gpMeasurement
	n       int
}

type gpMeasurement struct {
	finished json.RawMessage
	progress json.RawMessage
	polls    int
}

func gpErrBody(status int) string {
	typ, msg := "api_error", http.StatusText(status)
	switch status {
	case http.StatusUnauthorized:
		typ, msg = "unauthorized", "Unauthorized."
	case http.StatusForbidden:
		typ, msg = "forbidden", "Forbidden."
	case http.StatusNotFound:
		typ, msg = "not_found", "Couldn't find the requested item."
	case http.StatusTooManyRequests:
		typ, msg = "rate_limit_exceeded", "API rate limit exceeded."
	case http.StatusUnprocessableEntity:
		typ, msg = "no_probes_found", "No suitable probes found."
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"type": typ, "message": msg}})
	return string(b)
}

func (g *Globalping) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/v1")
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	auth := r.Header.Get("Authorization")
	g.record(Request{Method: r.Method, Path: path, Query: r.URL.RawQuery, Authorized: auth != "", Body: string(body)})
	switch {
	case auth != "" && (g.Token == "" || auth != "Bearer "+g.Token),
		auth == "" && g.RequireToken:
		writeJSON(w, http.StatusUnauthorized, json.RawMessage(gpErrBody(http.StatusUnauthorized)))
		return
	}
	f := g.fault(r.Method, path)
	if f != nil && serveFault(w, f, gpErrBody) {
		return
	}
	w = disturbed(w, r, f)
	switch {
	case r.Method == http.MethodPost && path == "/measurements":
		g.serveCreate(w, r, body)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/measurements/"):
		g.serveGet(w, r, strings.TrimPrefix(path, "/measurements/"))
	case r.Method == http.MethodGet && path == "/probes":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(g.Probes)
	default:
		writeJSON(w, http.StatusNotFound, json.RawMessage(gpErrBody(http.StatusNotFound)))
	}
}

func (g *Globalping) serveCreate(w http.ResponseWriter, r *http.Request, body []byte) {
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"type": "invalid_json", "message": "Invalid JSON."}})
		return
	}
	params := map[string]string{}
	typ, _ := req["type"].(string)
	switch typ {
	case "ping", "traceroute", "mtr", "dns", "http":
	default:
		params["type"] = `"type" must be one of [ping, traceroute, dns, mtr, http]`
	}
	if t, _ := req["target"].(string); t == "" {
		params["target"] = `"target" is required`
	}
	if len(params) > 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"type": "validation_error", "message": "Parameter validation failed.", "params": params}})
		return
	}
	if g.OnCreate == nil {
		writeJSON(w, http.StatusUnprocessableEntity, json.RawMessage(gpErrBody(http.StatusUnprocessableEntity)))
		return
	}
	res, err := g.OnCreate(req)
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": map[string]any{"type": "no_probes_found", "message": err.Error()}})
		return
	}
	g.mu.Lock()
	g.n++
	id := fmt.Sprintf("gp%014d", g.n)
	g.mu.Unlock()
	fin, prog, count, err := gpBuild(id, req, res)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, json.RawMessage(gpErrBody(http.StatusInternalServerError)))
		return
	}
	g.mu.Lock()
	if g.created == nil {
		g.created = map[string]*gpMeasurement{}
	}
	g.created[id] = &gpMeasurement{finished: fin, progress: prog}
	g.mu.Unlock()
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	w.Header().Set("Location", scheme+"://"+r.Host+strings.TrimSuffix(r.URL.Path, "/")+"/"+id)
	writeJSON(w, http.StatusAccepted, map[string]any{"id": id, "probesCount": count})
}

// gpBuild makes the finished and in-progress bodies of a measurement from
// OnCreate's answer.
func gpBuild(id string, req map[string]any, res json.RawMessage) (fin, prog json.RawMessage, count int, err error) {
	m := map[string]any{}
	if len(res) > 0 && res[0] == '[' {
		var results []any
		if err := json.Unmarshal(res, &results); err != nil {
			return nil, nil, 0, err
		}
		m["results"] = results
	} else if err := json.Unmarshal(res, &m); err != nil {
		return nil, nil, 0, err
	}
	results, _ := m["results"].([]any)
	m["id"], m["type"], m["target"], m["status"] = id, req["type"], req["target"], "finished"
	m["probesCount"] = len(results)
	if _, ok := m["createdAt"]; !ok {
		m["createdAt"], m["updatedAt"] = "2024-05-01T12:00:00.000Z", "2024-05-01T12:00:02.000Z"
	}
	if o, ok := req["measurementOptions"]; ok {
		m["measurementOptions"] = o
	}
	if fin, err = json.Marshal(m); err != nil {
		return nil, nil, 0, err
	}
	var pr []any
	for _, r := range results {
		item, _ := r.(map[string]any)
		pr = append(pr, map[string]any{"probe": item["probe"], "result": map[string]any{"status": "in-progress", "rawOutput": ""}})
	}
	m["status"], m["results"] = "in-progress", pr
	prog, err = json.Marshal(m)
	return fin, prog, len(results), err
}

func (g *Globalping) serveGet(w http.ResponseWriter, r *http.Request, id string) {
	g.mu.Lock()
	m := g.created[id]
	var body json.RawMessage
	if m != nil {
		body = m.finished
		if m.polls < g.InProgressPolls {
			body = m.progress
		}
		m.polls++
	}
	g.mu.Unlock()
	if m == nil {
		writeJSON(w, http.StatusNotFound, json.RawMessage(gpErrBody(http.StatusNotFound)))
		return
	}
	sum := sha256.Sum256(body)
	etag := `W/"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// Measurement returns the finished body of a measurement the stand-in
// created ("" when unknown), for tests to compare with.
func (g *Globalping) Measurement(id string) json.RawMessage {
	g.mu.Lock()
	defer g.mu.Unlock()
	if m := g.created[id]; m != nil {
		return m.finished
	}
	return nil
}
