package fleet

import (
	"os"
	"runtime"
	"strconv"
	"strings"
)

// GeneratorSummary is what the bench itself cost, sampled at the end of
// the measured window with every device still connected: so that a
// figure is known to be the server's, not the generator's.
type GeneratorSummary struct {
	RSSBytes     uint64 `json:"rss_bytes"`     // resident set (Linux; 0 elsewhere)
	GoHeapBytes  uint64 `json:"go_heap_bytes"` // live heap after a collection
	GoStackBytes uint64 `json:"go_stack_bytes"`
	Goroutines   int    `json:"goroutines"`
	// BytesPerDevice is RSSBytes (or, where unknown, heap and stacks)
	// over the devices connected.
	BytesPerDevice uint64 `json:"bytes_per_device"`
}

func sampleGenerator(connected int) GeneratorSummary {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	g := GeneratorSummary{RSSBytes: rss(), GoHeapBytes: ms.HeapAlloc, GoStackBytes: ms.StackInuse, Goroutines: runtime.NumGoroutine()}
	g.perDevice(connected)
	return g
}

func (g *GeneratorSummary) perDevice(connected int) {
	g.BytesPerDevice = 0
	if connected == 0 {
		return
	}
	total := g.RSSBytes
	if total == 0 {
		total = g.GoHeapBytes + g.GoStackBytes
	}
	g.BytesPerDevice = total / uint64(connected)
}

// rss reads this process's resident set size from /proc (0 where there
// is none).
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}
