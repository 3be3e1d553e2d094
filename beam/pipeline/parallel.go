package pipeline

import (
	"runtime"
	"sync"
)

// batchSize is the number of elements a DoFn gathers before it works on
// them on every core. A runner calls ProcessElement of one DoFn instance
// from one goroutine (and the direct runner runs the whole pipeline on
// one), while the engine's work per trace is CPU-bound and independent:
// gathering a batch and locating it on every core is what lets one worker
// use all of its cores. Results go out in input order, from the runner's
// goroutine, since emitters may only be called there.
const batchSize = 256

// runAll runs fn(i) for every i < n on GOMAXPROCS goroutines.
func runAll(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				j := i
				i++
				next.Unlock()
				if j >= n {
					return
				}
				fn(j)
			}
		}()
	}
	wg.Wait()
}
