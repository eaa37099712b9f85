package seed

import (
	"bytes"
	"encoding/json"
	"io"
	"runtime"
)

// A decodePool decodes and checks the records of one array on as many
// goroutines as there are CPUs, a batch at a time, while the parser finds
// where each record ends. Batches come back in the order they were added.
type decodePool struct {
	file    string
	kind    string
	jobs    chan *batch
	pending []*batch // added, in order, not yet handed back
	next    *batch   // being filled
	workers int
}

// batchSize is how many records a worker decodes at a time.
const batchSize = 256

// batch is a run of records and, once done is closed, what they decoded to.
type batch struct {
	raws     []json.RawMessage
	lines    []int // the line each record starts on
	cat      Catalog
	problems []Problem
	syntax   bool // a record is not valid JSON
	done     chan struct{}
}

func newDecodePool(file, kind string) *decodePool {
	dp := &decodePool{file: file, kind: kind, workers: runtime.GOMAXPROCS(0)}
	dp.jobs = make(chan *batch, dp.workers)
	for range dp.workers {
		go dp.work()
	}
	return dp
}

// add queues one record, which starts on line, and returns the batches
// done so far, in order. It waits for the oldest batch when enough are
// in flight to keep every CPU busy.
func (dp *decodePool) add(raw json.RawMessage, line int) []*batch {
	if dp.next == nil {
		dp.next = &batch{done: make(chan struct{})}
	}
	dp.next.raws = append(dp.next.raws, raw)
	dp.next.lines = append(dp.next.lines, line)
	if len(dp.next.raws) < batchSize {
		return nil
	}
	dp.send()
	if len(dp.pending) > 2*dp.workers {
		<-dp.pending[0].done
	}
	return dp.ready()
}

func (dp *decodePool) send() {
	if dp.next == nil {
		return
	}
	dp.pending = append(dp.pending, dp.next)
	dp.jobs <- dp.next
	dp.next = nil
}

// ready hands back the finished batches at the head of the queue.
func (dp *decodePool) ready() []*batch {
	n := 0
	for ; n < len(dp.pending); n++ {
		select {
		case <-dp.pending[n].done:
			continue
		default:
		}
		break
	}
	out := dp.pending[:n:n]
	dp.pending = dp.pending[n:]
	return out
}

// drain sends what is left, waits for every batch and hands them back.
func (dp *decodePool) drain() []*batch {
	dp.send()
	for _, b := range dp.pending {
		<-b.done
	}
	out := dp.pending
	dp.pending = nil
	return out
}

// close stops the workers; batches still queued are not decoded.
func (dp *decodePool) close() {
	close(dp.jobs)
}

func (dp *decodePool) work() {
	w := &worker{}
	for b := range dp.jobs {
		d := recordDecoder{file: dp.file, cat: &b.cat, problems: &b.problems}
		for i, raw := range b.raws {
			if !dp.decode(w, d, raw, b.lines[i]) {
				b.syntax = true
				break
			}
		}
		b.raws = nil
		close(b.done)
	}
}

// worker is a decoder kept for record after record, fed one record at a
// time, so that its buffer is allocated once.
type worker struct {
	dec  *json.Decoder
	feed feed
}

// feed is an io.Reader of the record being decoded.
type feed struct{ b []byte }

func (f *feed) Read(p []byte) (int, error) {
	if len(f.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.b)
	f.b = f.b[n:]
	return n, nil
}

// decode decodes one record strictly and checks it; line is where it
// starts, and lines within it are counted from there. It returns false if
// the record is not valid JSON.
func (dp *decodePool) decode(w *worker, d recordDecoder, raw []byte, line int) bool {
	lineAt := func(off int) int { return line + bytes.Count(raw[:min(max(off, 0), len(raw))], []byte("\n")) }
	rawFn := func() []byte { return raw }
	if w.dec == nil {
		w.dec = json.NewDecoder(&w.feed)
		w.dec.DisallowUnknownFields()
	}
	// Each record is a whole object, which the decoder reads to its end
	// and no further. A syntax error ends the batch, decoder and all.
	w.feed.b = raw
	return !isSyntax(d.decode(dp.kind, w.dec, rawFn, lineAt))
}
