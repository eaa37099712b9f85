package catalog

import (
	"runtime"
	"sync"
)

// parallelMin is the fewest items worth splitting over goroutines.
const parallelMin = 2000

// inParallel calls each(lo, hi) for consecutive parts of [0, n), on as
// many goroutines as there are CPUs, and returns when all are done. A
// seed validates and encodes 100,000 recipes before its transaction; each
// item is independent of the others, so the parts need no locking if each
// writes only its own items' results.
func inParallel(n int, each func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/parallelMin)
	if workers <= 1 {
		each(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() { each(lo, hi) })
	}
	wg.Wait()
}
