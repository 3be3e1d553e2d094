package atlas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/geoloc-dev/geoloc/remote/internal/apihttp"
)

// Definition is what a new measurement measures (one element of the
// creation request's "definitions").
type Definition struct {
	Type        string `json:"type"` // "traceroute" or "ping"
	Target      string `json:"target"`
	AF          int    `json:"af"` // 4 or 6
	Description string `json:"description"`
	// Protocol of a traceroute: "ICMP", "UDP" or "TCP"; "" is the API's
	// default (UDP).
	Protocol string `json:"protocol,omitempty"`
	// Packets per hop (traceroute) or in all (ping); 0 is the default.
	Packets int `json:"packets,omitempty"`
	// ResolveOnProbe makes each probe resolve a target name itself.
	ResolveOnProbe bool `json:"resolve_on_probe,omitempty"`
}

// ProbeSelection chooses probes (one element of the creation request's
// "probes"): Type "area" (Value "WW", "West", "North-Central",
// "South-Central", "North-East", "South-East"), "country" (ISO code),
// "asn", "prefix", "probes" (comma-separated ids) or "msm" (the probes of
// an earlier measurement).
type ProbeSelection struct {
	Type      string `json:"type"`
	Value     string `json:"value"`
	Requested int    `json:"requested"`
}

// MarshalJSON writes asn and msm values as numbers, as the API documents.
func (p ProbeSelection) MarshalJSON() ([]byte, error) {
	type plain ProbeSelection
	if p.Type == "asn" || p.Type == "msm" {
		if n, err := strconv.ParseInt(p.Value, 10, 64); err == nil {
			return json.Marshal(struct {
				Type      string `json:"type"`
				Value     int64  `json:"value"`
				Requested int    `json:"requested"`
			}{p.Type, n, p.Requested})
		}
	}
	return json.Marshal(plain(p))
}

var areas = []string{"WW", "West", "North-Central", "South-Central", "North-East", "South-East"}

// ParseProbeSelection reads a probe selection as geoloc's --atlas-probes
// writes it: "country:DE", "asn:3320", "area:WW", "prefix:193.0.0.0/16",
// "probes:1,2,3" or "msm:5001". n is the number of probes wanted (for
// "probes:", at most the ids listed; 0 means all of them).
func ParseProbeSelection(spec string, n int) (ProbeSelection, error) {
	kind, value, ok := strings.Cut(strings.TrimSpace(spec), ":")
	kind, value = strings.ToLower(strings.TrimSpace(kind)), strings.TrimSpace(value)
	if !ok || value == "" {
		return ProbeSelection{}, fmt.Errorf("probe selection %q: want KIND:VALUE (country:DE, asn:3320, area:WW, prefix:193.0.0.0/16, probes:1,2,3, msm:5001)", spec)
	}
	if n < 0 {
		return ProbeSelection{}, fmt.Errorf("probe selection %q: %d probes", spec, n)
	}
	sel := ProbeSelection{Type: kind, Value: value, Requested: n}
	switch kind {
	case "country", "cc":
		if len(value) != 2 || !isLetters(value) {
			return ProbeSelection{}, fmt.Errorf("probe selection %q: want a two-letter country code", spec)
		}
		sel.Type, sel.Value = "country", strings.ToUpper(value)
	case "asn", "as":
		v := strings.TrimPrefix(strings.ToUpper(value), "AS")
		if a, err := strconv.ParseUint(v, 10, 32); err != nil || a == 0 {
			return ProbeSelection{}, fmt.Errorf("probe selection %q: want an AS number", spec)
		}
		sel.Type, sel.Value = "asn", v
	case "area":
		found := false
		for _, a := range areas {
			if strings.EqualFold(a, value) {
				sel.Value, found = a, true
			}
		}
		if !found {
			return ProbeSelection{}, fmt.Errorf("probe selection %q: area is one of %s", spec, strings.Join(areas, ", "))
		}
	case "prefix":
		p, err := netip.ParsePrefix(value)
		if err != nil {
			return ProbeSelection{}, fmt.Errorf("probe selection %q: %v", spec, err)
		}
		sel.Value = p.Masked().String()
	case "probes", "probe":
		var ids []string
		for f := range strings.SplitSeq(value, ",") {
			f = strings.TrimSpace(f)
			if id, err := strconv.ParseUint(f, 10, 63); err != nil || id == 0 {
				return ProbeSelection{}, fmt.Errorf("probe selection %q: %q is not a probe id", spec, f)
			}
			ids = append(ids, f)
		}
		sel.Type, sel.Value = "probes", strings.Join(ids, ",")
		if n == 0 || n > len(ids) {
			sel.Requested = len(ids)
		}
	case "msm":
		if id, err := strconv.ParseUint(value, 10, 63); err != nil || id == 0 {
			return ProbeSelection{}, fmt.Errorf("probe selection %q: want a measurement id", spec)
		}
	default:
		return ProbeSelection{}, fmt.Errorf("probe selection %q: unknown kind %q (want country, asn, area, prefix, probes or msm)", spec, kind)
	}
	if sel.Requested == 0 {
		sel.Requested = 1
	}
	return sel, nil
}

func isLetters(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// CreateRequest is a request for new measurements (POST /measurements/).
type CreateRequest struct {
	Definitions []Definition     `json:"definitions"`
	Probes      []ProbeSelection `json:"probes"`
	// IsOneoff makes every definition run once.
	IsOneoff bool `json:"is_oneoff"`
}

// Create creates measurements and returns their ids, one per definition.
// It needs an API key (ErrNoKey otherwise, and nothing is sent). It is
// retried only on 429 and 503, which tell that nothing was created.
func (c *Client) Create(ctx context.Context, req CreateRequest) ([]int64, error) {
	if c.key == "" {
		return nil, ErrNoKey
	}
	if len(req.Definitions) == 0 || len(req.Probes) == 0 {
		return nil, errors.New("RIPE Atlas: a measurement needs at least one definition and one probe selection")
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	const op = "POST /measurements/"
	resp, err := c.hc.Do(ctx, apihttp.Request{Method: http.MethodPost, URL: c.base + "/measurements/", Body: body})
	if err != nil {
		return nil, apiError(op, err)
	}
	var out struct {
		Measurements []int64 `json:"measurements"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return nil, fmt.Errorf("RIPE Atlas API: %s: bad JSON: %w", op, err)
	}
	if len(out.Measurements) == 0 {
		return nil, fmt.Errorf("RIPE Atlas API: %s: no measurement id in the answer", op)
	}
	return out.Measurements, nil
}

// WaitOptions control Wait. The zero value polls every 15 s for at most
// 15 minutes.
type WaitOptions struct {
	// Interval between polls; 0 means 15 s (RIPE Atlas asks clients not to
	// poll tightly; one-off measurements take a minute or more).
	Interval time.Duration
	// MaxWait bounds the whole wait; 0 means 15 minutes.
	MaxWait time.Duration
	// Progress, when set, sees each poll's description.
	Progress func(*Measurement)
}

// NotFinishedError is Wait's error when the measurement was still running
// at the end of the wait.
type NotFinishedError struct {
	ID     int64
	Status Status
	Waited time.Duration
}

func (e *NotFinishedError) Error() string {
	return fmt.Sprintf("RIPE Atlas measurement %d still %q after %v; its results may come later (geoloc regeo --atlas %d)",
		e.ID, e.Status.Name, e.Waited.Round(time.Second), e.ID)
}

// FailedError is Wait's error for a measurement that ended without
// running ("No suitable probes", "Failed", "Denied").
type FailedError struct {
	ID     int64
	Status Status
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("RIPE Atlas measurement %d ended without results: %s", e.ID, e.Status.Name)
}

// Wait polls measurement id until its status is final and returns its
// description: *FailedError when it ended without running,
// *NotFinishedError when opts.MaxWait passed first.
func (c *Client) Wait(ctx context.Context, id int64, opts WaitOptions) (*Measurement, error) {
	interval := opts.Interval
	if interval <= 0 {
		interval = 15 * time.Second
	}
	maxWait := opts.MaxWait
	if maxWait <= 0 {
		maxWait = 15 * time.Minute
	}
	var m *Measurement
	waited, done, err := c.hc.Poll(ctx, interval, maxWait, func() (bool, error) {
		var err error
		if m, err = c.Measurement(ctx, id); err != nil {
			return false, err
		}
		if opts.Progress != nil {
			opts.Progress(m)
		}
		return m.Status.Final(), nil
	})
	switch {
	case err != nil:
		return nil, err
	case !done:
		return m, &NotFinishedError{ID: id, Status: m.Status, Waited: waited}
	case m.Status.Failed():
		return m, &FailedError{ID: id, Status: m.Status}
	}
	return m, nil
}
