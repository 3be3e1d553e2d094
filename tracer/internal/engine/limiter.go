package engine

import (
	"sync"
	"time"
)

// limiter paces probes of every trace: a generic cell rate algorithm with
// a burst of a tenth of a second's worth (at least one probe), so that one
// trace's first round leaves at once while many traces share the rate.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration
	tau      time.Duration // burst tolerance
	tat      time.Time     // theoretical arrival time of the next probe
}

func newLimiter(pps float64) *limiter {
	iv := time.Duration(float64(time.Second) / pps)
	burst := max(int(pps/10), 1)
	return &limiter{interval: iv, tau: time.Duration(burst-1) * iv}
}

// reserve books the next slot and returns when it may be used.
func (l *limiter) reserve(now time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	tat := l.tat
	if tat.Before(now) {
		tat = now
	}
	at := tat.Add(-l.tau)
	if at.Before(now) {
		at = now
	}
	l.tat = tat.Add(l.interval)
	return at
}

// backlogged reports whether probes are queueing for the rate: sending
// is then the bottleneck and probes should not be spent where they
// probably teach nothing.
func (l *limiter) backlogged(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tat.After(now.Add(l.tau / 2))
}
