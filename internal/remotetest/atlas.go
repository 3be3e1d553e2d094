package remotetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/geoloc-dev/geoloc/latency"
)

// Atlas stands in for the RIPE Atlas REST API v2: GET /measurements/ID/,
// GET /measurements/ID/results/ (start, stop, probe_ids, format=json|txt),
// GET /probes/ (id__in, page_size, pages with absolute "next" links) and
// POST /measurements/ (an API key in "Authorization: Key ..."). Paths may
// carry the /api/v2 prefix or not. Errors use the API's error object.
type Atlas struct {
	recorder
	// Key is the API key creating measurements needs; a request without a
	// key gets 401, one with another key 403 (as the API has done since
	// October 2023).
	Key string
	// OnCreate, when set, makes the measurement a POST creates from its
	// definition (new ids count up from 1000000000); nil answers 400.
	OnCreate func(def map[string]any, probes []map[string]any) *AtlasMeasurement

	mu           sync.Mutex
	measurements map[int64]*AtlasMeasurement
	probes       map[int64]json.RawMessage
	nextID       int64
}

// AtlasMeasurement is one measurement of the stand-in.
type AtlasMeasurement struct {
	ID   int64
	Type string // "traceroute", "ping"
	// Statuses are the status names successive descriptions report (the
	// last one repeats): "Ongoing", "Stopped", ... nil means "Stopped".
	Statuses []string
	// Fields are more members of the description (target, af, ...).
	Fields map[string]any
	// Results are the measurement's results, one JSON object each, in
	// time order; the endpoint filters them by start, stop and probe_ids.
	Results []json.RawMessage
	// Stream, when set, writes the results instead (unfiltered; JSON
	// Lines or, for format=json, the caller's array): for streams too big
	// to hold.
	Stream func(w io.Writer, format string) error

	polls int
}

var atlasStatusIDs = map[string]int{"Specified": 0, "Scheduled": 1, "Ongoing": 2, "Stopped": 4, "Forced to stop": 5,
	"No suitable probes": 6, "Failed": 7, "Archived": 8}

// AddMeasurement adds (or replaces) a measurement.
func (a *Atlas) AddMeasurement(m *AtlasMeasurement) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.measurements == nil {
		a.measurements = map[int64]*AtlasMeasurement{}
	}
	a.measurements[m.ID] = m
}

// AddProbes adds probe objects, each as the API describes a probe (an
// "id" member is required).
func (a *Atlas) AddProbes(objs ...json.RawMessage) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.probes == nil {
		a.probes = map[int64]json.RawMessage{}
	}
	for _, o := range objs {
		var p struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(o, &p); err != nil || p.ID == 0 {
			return fmt.Errorf("remotetest: probe object without an id: %.80s", o)
		}
		a.probes[p.ID] = o
	}
	return nil
}

// AddProbe adds a probe with a position, in the API's shape.
func (a *Atlas) AddProbe(id int64, lat, lon float64, country string) {
	o := fmt.Sprintf(`{"id":%d,"geometry":{"type":"Point","coordinates":[%v,%v]},"country_code":%q,"status":{"id":1,"name":"Connected"},"type":"Probe"}`, id, lon, lat, country)
	_ = a.AddProbes(json.RawMessage(o))
}

func atlasErrBody(status int) string {
	detail := http.StatusText(status)
	switch status {
	case http.StatusUnauthorized:
		detail = "Authentication credentials were not provided."
	case http.StatusForbidden:
		detail = "The provided API key does not have the required permissions."
	case http.StatusNotFound:
		detail = "Not found."
	case http.StatusTooManyRequests:
		detail = "Request was throttled."
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"status": status, "code": status, "detail": detail, "title": http.StatusText(status)}})
	return string(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (a *Atlas) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/api/v2")
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	auth := r.Header.Get("Authorization")
	a.record(Request{Method: r.Method, Path: path, Query: r.URL.RawQuery, Authorized: auth != "", Body: string(body)})
	f := a.fault(r.Method, path)
	if f != nil && serveFault(w, f, atlasErrBody) {
		return
	}
	w = disturbed(w, r, f)
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 1 && parts[0] == "probes":
		a.serveProbes(w, r)
	case r.Method == http.MethodPost && len(parts) == 1 && parts[0] == "measurements":
		a.serveCreate(w, auth, body)
	case r.Method == http.MethodGet && len(parts) >= 2 && parts[0] == "measurements":
		id, err := strconv.ParseInt(parts[1], 10, 64)
		a.mu.Lock()
		m := a.measurements[id]
		a.mu.Unlock()
		if err != nil || m == nil {
			writeJSON(w, http.StatusNotFound, json.RawMessage(atlasErrBody(http.StatusNotFound)))
			return
		}
		switch {
		case len(parts) == 2:
			a.serveMeasurement(w, m)
		case len(parts) == 3 && parts[2] == "results":
			a.serveResults(w, r, m)
		default:
			writeJSON(w, http.StatusNotFound, json.RawMessage(atlasErrBody(http.StatusNotFound)))
		}
	default:
		writeJSON(w, http.StatusNotFound, json.RawMessage(atlasErrBody(http.StatusNotFound)))
	}
}

func (a *Atlas) serveMeasurement(w http.ResponseWriter, m *AtlasMeasurement) {
	a.mu.Lock()
	name := "Stopped"
	if len(m.Statuses) > 0 {
		name = m.Statuses[min(m.polls, len(m.Statuses)-1)]
	}
	m.polls++
	out := map[string]any{"id": m.ID, "type": m.Type, "status": map[string]any{"id": atlasStatusIDs[name], "name": name},
		"is_oneoff": true, "is_public": true, "af": 4}
	for k, v := range m.Fields {
		out[k] = v
	}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// serveResults streams the results, filtered as the query asks.
func (a *Atlas) serveResults(w http.ResponseWriter, r *http.Request, m *AtlasMeasurement) {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "txt" {
		writeJSON(w, http.StatusBadRequest, json.RawMessage(atlasErrBody(http.StatusBadRequest)))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if m.Stream != nil {
		_ = m.Stream(w, format)
		return
	}
	var ids []int64
	for f := range strings.SplitSeq(q.Get("probe_ids"), ",") {
		if id, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	start, _ := strconv.ParseInt(q.Get("start"), 10, 64)
	stop, _ := strconv.ParseInt(q.Get("stop"), 10, 64)
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	if format == "json" {
		bw.WriteByte('[')
	}
	n := 0
	for _, res := range m.Results {
		var meta struct {
			PrbID     int64 `json:"prb_id"`
			Timestamp int64 `json:"timestamp"`
		}
		_ = json.Unmarshal(res, &meta)
		if len(ids) > 0 && !slices.Contains(ids, meta.PrbID) || start > 0 && meta.Timestamp < start || stop > 0 && meta.Timestamp > stop {
			continue
		}
		if format == "json" && n > 0 {
			bw.WriteByte(',')
		}
		bw.Write(bytes.TrimSpace(res))
		if format == "txt" {
			bw.WriteByte('\n')
		}
		n++
	}
	if format == "json" {
		bw.WriteByte(']')
	}
}

// serveProbes answers /probes/?id__in=... in pages of page_size (default
// 50, as the API), with absolute "next" links.
func (a *Atlas) serveProbes(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var ids []int64
	for f := range strings.SplitSeq(q.Get("id__in"), ",") {
		if f == "" {
			continue
		}
		id, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"status": 400, "title": "Bad Request",
				"detail": "There were problems with your request", "errors": []any{map[string]any{"source": map[string]any{"parameter": "id__in"}, "detail": "Enter a whole number."}}}})
			return
		}
		ids = append(ids, id)
	}
	a.mu.Lock()
	var found []json.RawMessage
	if q.Get("id__in") == "" {
		for _, id := range slices.Sorted(maps.Keys(a.probes)) {
			found = append(found, a.probes[id])
		}
	}
	for _, id := range ids {
		if o, ok := a.probes[id]; ok {
			found = append(found, o)
		}
	}
	a.mu.Unlock()
	if q.Has("latitude") || q.Has("longitude") || q.Has("radius") || q.Has("status") {
		found = filterProbes(found, q)
	}
	size, _ := strconv.Atoi(q.Get("page_size"))
	if size <= 0 {
		size = 50
	}
	size = min(size, 500)
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	from := min(len(found), (page-1)*size)
	to := min(len(found), from+size)
	var next any
	if to < len(found) {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("page", strconv.Itoa(page+1))
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		next = scheme + "://" + r.Host + r.URL.Path + "?" + nq.Encode()
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(found), "next": next, "previous": nil, "results": found[from:to]})
}

func (a *Atlas) serveCreate(w http.ResponseWriter, auth string, body []byte) {
	switch {
	case a.Key != "" && auth == "":
		writeJSON(w, http.StatusUnauthorized, json.RawMessage(atlasErrBody(http.StatusUnauthorized)))
		return
	case a.Key != "" && auth != "Key "+a.Key:
		writeJSON(w, http.StatusForbidden, json.RawMessage(atlasErrBody(http.StatusForbidden)))
		return
	}
	var req struct {
		Definitions []map[string]any `json:"definitions"`
		Probes      []map[string]any `json:"probes"`
	}
	bad := func(pointer, detail string) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{"status": 400, "code": 102, "title": "Bad Request",
			"detail": "There were problems with your request", "errors": []any{map[string]any{"source": map[string]any{"pointer": pointer}, "detail": detail}}}})
	}
	if err := json.Unmarshal(body, &req); err != nil {
		bad("/", "JSON parse error")
		return
	}
	if len(req.Definitions) == 0 {
		bad("/definitions", "This field is required.")
		return
	}
	if len(req.Probes) == 0 {
		bad("/probes", "This field is required.")
		return
	}
	for i, d := range req.Definitions {
		for _, k := range []string{"target", "type", "af", "description"} {
			if _, ok := d[k]; !ok {
				bad(fmt.Sprintf("/definitions/%d/%s", i, k), "This field is required.")
				return
			}
		}
	}
	if a.OnCreate == nil {
		bad("/definitions/0/type", "This stand-in creates no measurements.")
		return
	}
	var ids []int64
	for _, d := range req.Definitions {
		m := a.OnCreate(d, req.Probes)
		a.mu.Lock()
		if a.nextID == 0 {
			a.nextID = 1000000000
		}
		a.nextID++
		m.ID = a.nextID
		a.mu.Unlock()
		a.AddMeasurement(m)
		ids = append(ids, m.ID)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"measurements": ids})
}

// filterProbes keeps the probes within radius km of latitude, longitude
// and of the asked status id, as the API's probe search does.
func filterProbes(found []json.RawMessage, q url.Values) []json.RawMessage {
	lat, errLat := strconv.ParseFloat(q.Get("latitude"), 64)
	lon, errLon := strconv.ParseFloat(q.Get("longitude"), 64)
	radius, errR := strconv.ParseFloat(q.Get("radius"), 64)
	near := errLat == nil && errLon == nil && errR == nil
	status, errS := strconv.Atoi(q.Get("status"))
	var out []json.RawMessage
	for _, o := range found {
		var p struct {
			Geometry *struct {
				Coordinates []float64 `json:"coordinates"`
			} `json:"geometry"`
			Status struct {
				ID int `json:"id"`
			} `json:"status"`
		}
		if json.Unmarshal(o, &p) != nil {
			continue
		}
		if errS == nil && p.Status.ID != status {
			continue
		}
		if near {
			if p.Geometry == nil || len(p.Geometry.Coordinates) < 2 {
				continue
			}
			if latency.DistanceKm(latency.Point{Lat: lat, Lon: lon}, latency.Point{Lat: p.Geometry.Coordinates[1], Lon: p.Geometry.Coordinates[0]}) > radius {
				continue
			}
		}
		out = append(out, o)
	}
	return out
}
