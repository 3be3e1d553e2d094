package geoloc

import (
	"context"
	"iter"
	"runtime"
	"sync"

	"github.com/geoloc-dev/geoloc/traceroute"
)

// Stream locates every trace of seq with workers goroutines (0 or less =
// runtime.GOMAXPROCS) and yields the results in input order. An input error
// is passed through in its place as (nil, err) and the stream goes on; the
// consumer may stop by breaking out of the loop. When ctx is done the stream
// yields ctx's error once and ends. At most a few traces per worker are in
// flight, so memory stays flat however long seq is.
func (e *Engine) Stream(ctx context.Context, seq iter.Seq2[*traceroute.Trace, error], workers int) iter.Seq2[*TraceResult, error] {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return func(yield func(*TraceResult, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type job struct {
			t    *traceroute.Trace
			err  error
			res  *TraceResult
			done chan struct{}
		}
		work := make(chan *job, workers)
		order := make(chan *job, 4*workers)
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range work {
					if j.err == nil {
						j.res, j.err = e.Locate(ctx, j.t)
					}
					close(j.done)
				}
			}()
		}
		go func() {
			defer close(order)
			defer close(work)
			for t, err := range seq {
				j := &job{t: t, err: err, done: make(chan struct{})}
				if err == nil && t == nil {
					continue
				}
				select {
				case order <- j:
				case <-ctx.Done():
					return
				}
				select {
				case work <- j:
				case <-ctx.Done():
					close(j.done)
					return
				}
			}
		}()
		defer func() {
			cancel()
			for j := range order { // let the producer finish
				_ = j
			}
			wg.Wait()
		}()
		for j := range order {
			<-j.done
			if err := ctx.Err(); err != nil && j.res == nil {
				yield(nil, err)
				return
			}
			if !yield(j.res, j.err) {
				return
			}
		}
		if err := ctx.Err(); err != nil {
			yield(nil, err)
		}
	}
}
