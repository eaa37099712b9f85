package seed

import (
	"bytes"
	"io"
	"os"
)

// text is the content of a JSON file being parsed: in memory, or on disk
// and read as needed, so that a big file is never in memory whole. Lines
// are counted from the offset asked for last, since offsets mostly grow,
// which reads a file in linear time.
type text interface {
	reader() io.Reader           // the content from the start, for the decoder
	size() int                   // in bytes
	at(off int) []byte           // some bytes from off on; empty at the end
	slice(start, end int) []byte // the bytes in [start, end)
	line(off int) int            // the 1-based line of offset off
}

// tokenStart returns the first offset at or after off of t that is not
// white space, a comma or a colon: where the next JSON token starts.
func tokenStart(t text, off int) int {
	for {
		b := t.at(off)
		if len(b) == 0 {
			return off
		}
		for i, c := range b {
			if bytes.IndexByte([]byte(" \t\r\n,:"), c) < 0 {
				return off + i
			}
		}
		off += len(b)
	}
}

// trimmedSize is t's size without trailing white space.
func trimmedSize(t text) int {
	const step = 4096
	for end := t.size(); end > 0; {
		start := max(end-step, 0)
		b := bytes.TrimRight(t.slice(start, end), " \t\r\n")
		if len(b) > 0 {
			return start + len(b)
		}
		end = start
	}
	return 0
}

// lineCounter turns offsets into lines for a text whose bytes at returns.
type lineCounter struct {
	lastOff, lastLine int
}

func (lc *lineCounter) line(t text, off int) int {
	off = min(max(off, 0), t.size())
	if lc.lastLine == 0 {
		lc.lastLine = 1
	}
	if off >= lc.lastOff {
		for o := lc.lastOff; o < off; {
			b := t.at(o)
			b = b[:min(len(b), off-o)]
			lc.lastLine += bytes.Count(b, []byte("\n"))
			o += len(b)
		}
	} else {
		lc.lastLine -= bytes.Count(t.slice(off, lc.lastOff), []byte("\n"))
	}
	lc.lastOff = off
	return lc.lastLine
}

// memText is a text in memory.
type memText struct {
	data []byte
	lc   lineCounter
}

func (t *memText) reader() io.Reader           { return bytes.NewReader(t.data) }
func (t *memText) size() int                   { return len(t.data) }
func (t *memText) at(off int) []byte           { return t.data[min(off, len(t.data)):] }
func (t *memText) slice(start, end int) []byte { return t.data[start:end] }
func (t *memText) line(off int) int            { return t.lc.line(t, off) }

// fileText is a text read from a file through a window of windowSize
// bytes, apart from what the decoder reads.
type fileText struct {
	f      *os.File
	n      int
	win    []byte
	winOff int
	err    error // the first read error; the text then looks truncated
	lc     lineCounter
}

const windowSize = 256 << 10

func newFileText(f *os.File, size int64) *fileText {
	return &fileText{f: f, n: int(size)}
}

func (t *fileText) reader() io.Reader { return io.NewSectionReader(t.f, 0, int64(t.n)) }
func (t *fileText) size() int         { return t.n }
func (t *fileText) line(off int) int  { return t.lc.line(t, off) }

func (t *fileText) at(off int) []byte {
	if off >= t.n {
		return nil
	}
	if off < t.winOff || off >= t.winOff+len(t.win) {
		if t.win == nil {
			t.win = make([]byte, windowSize)
		}
		t.win = t.win[:cap(t.win)]
		n, err := t.f.ReadAt(t.win[:min(len(t.win), t.n-off)], int64(off))
		if err != nil && err != io.EOF && t.err == nil {
			t.err = err
		}
		t.win, t.winOff = t.win[:n], off
		if n == 0 {
			return nil
		}
	}
	return t.win[off-t.winOff:]
}

func (t *fileText) slice(start, end int) []byte {
	if start >= t.winOff && end <= t.winOff+len(t.win) {
		return append([]byte(nil), t.win[start-t.winOff:end-t.winOff]...)
	}
	b := make([]byte, end-start)
	n, err := t.f.ReadAt(b, int64(start))
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return b[:n]
}
