package term

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress prints one self-overwriting line on a terminal: items done, of
// how many, rate and time left. A nil *Progress is valid and prints nothing,
// so callers need no checks when progress is off (-q, or stderr is no
// terminal). Safe for concurrent use.
type Progress struct {
	mu      sync.Mutex
	w       io.Writer
	what    string
	total   int
	done    int
	failed  int
	start   time.Time
	last    time.Time
	printed bool
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Every is the minimum time between redraws (default 200 ms).
	Every time.Duration
	// Bytes makes done and total byte counts, shown in MB and MB/s.
	Bytes bool
	// Extra, when set, is appended to the line (e.g. "1234 traces").
	Extra func() string
}

// NewProgress returns a progress line on w counting what ("traces",
// "addresses"); total 0 means unknown.
func NewProgress(w io.Writer, what string, total int) *Progress {
	return &Progress{w: w, what: what, total: total, Now: time.Now, Every: 200 * time.Millisecond}
}

// SetTotal changes the expected number of items.
func (p *Progress) SetTotal(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.total = n
	p.mu.Unlock()
}

// Add counts n more items done (failed ones too, when failed is true).
func (p *Progress) Add(n int, failed bool) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.Now()
	if p.start.IsZero() {
		p.start = now
	}
	p.done += n
	if failed {
		p.failed += n
	}
	if now.Sub(p.last) >= p.Every || (p.total > 0 && p.done >= p.total) {
		p.last = now
		p.draw(now)
	}
}

// Line returns the current progress text (without terminal control codes).
func (p *Progress) Line() string {
	if p == nil {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.line(p.Now())
}

func (p *Progress) line(now time.Time) string {
	el := now.Sub(p.start).Seconds()
	num := func(n int) string {
		if p.Bytes {
			return fmt.Sprintf("%.1f", float64(n)/(1<<20))
		}
		return fmt.Sprintf("%d", n)
	}
	s := num(p.done)
	if p.total > 0 {
		s += "/" + num(p.total)
	}
	s += " " + p.what
	if p.failed > 0 {
		s += fmt.Sprintf(" (%d failed)", p.failed)
	}
	if p.Extra != nil {
		s += ", " + p.Extra()
	}
	if el > 0 && p.done > 0 {
		rate := float64(p.done) / el
		if p.Bytes {
			s += fmt.Sprintf("  %.1f MB/s", rate/(1<<20))
		} else {
			s += fmt.Sprintf("  %.1f/s", rate)
		}
		if p.total > p.done {
			left := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
			s += "  " + fmtDuration(left) + " left"
		}
	}
	return s
}

func (p *Progress) draw(now time.Time) {
	// \r and "erase to end of line": the line rewrites itself.
	fmt.Fprintf(p.w, "\r%s\x1b[K", p.line(now))
	p.printed = true
}

// Done clears the progress line so that what follows starts on a clean line.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.printed {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.printed = false
	}
}

func fmtDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}
