package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress shows how a long command is getting on: a bar redrawn in place
// on a terminal, or a plain line now and then (and at each new phase) when
// stderr is a file or a pipe, so that logs stay readable.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	mode  string // "bar", "plain" or "off"
	phase string
	start time.Time // of the phase
	shown time.Time // last output
	pct   int       // last percentage shown in plain mode
	drawn bool      // a bar is on the screen and needs a newline
	stop  chan struct{}
	done  chan struct{}
}

// Progress modes for the -progress flag.
const (
	progressAuto  = "auto"
	progressBar   = "bar"
	progressPlain = "plain"
	progressOff   = "off"
)

// newProgress writes to w in mode, which "auto" resolves to a bar if w is
// a terminal and to plain lines otherwise.
func newProgress(w io.Writer, mode string) *progress {
	if mode == progressAuto {
		mode = progressPlain
		if isTerminal(w) {
			mode = progressBar
		}
	}
	return &progress{w: w, mode: mode}
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// update reports done of total units (bytes when unit is "MB") in phase.
func (p *progress) update(phase string, done, total int64, unit string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if phase != p.phase {
		p.newPhase(phase, now)
	}
	pct := 100
	if total > 0 {
		pct = int(done * 100 / total)
	}
	amount := fmt.Sprintf("%d/%d", done, total)
	if unit == "MB" {
		amount = fmt.Sprintf("%.1f/%.1f MB", float64(done)/1e6, float64(total)/1e6)
	}
	switch p.mode {
	case progressBar:
		if now.Sub(p.shown) < 100*time.Millisecond && done < total {
			return
		}
		const width = 30
		fill := width * pct / 100
		p.draw(fmt.Sprintf("%-10s [%s%s] %3d%%  %s", phase, strings.Repeat("#", fill), strings.Repeat(".", width-fill), pct, amount))
	case progressPlain:
		// A line per 10% at most every second, and the end.
		if done < total && (pct/10 == p.pct/10 || now.Sub(p.shown) < time.Second) {
			return
		}
		p.pct = pct
		p.shown = now
		fmt.Fprintf(p.w, "seed: %s %d%% (%s)\n", phase, pct, amount)
	}
}

// busy reports a phase whose length is unknown: a spinner with the time
// spent on a terminal, one line otherwise. It lasts until the next call.
func (p *progress) busy(phase string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.newPhase(phase, time.Now())
	switch p.mode {
	case progressPlain:
		fmt.Fprintf(p.w, "seed: %s\n", phase)
	case progressBar:
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.spin(phase, p.start, p.stop, p.done)
	}
}

func (p *progress) spin(phase string, start time.Time, stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(150 * time.Millisecond)
	defer t.Stop()
	frames := `|/-\`
	for i := 0; ; i++ {
		p.mu.Lock()
		p.draw(fmt.Sprintf("%s %c %.1fs", phase, frames[i%len(frames)], time.Since(start).Seconds()))
		p.mu.Unlock()
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// newPhase ends the phase shown; the caller holds p.mu.
func (p *progress) newPhase(phase string, now time.Time) {
	p.endLocked()
	p.phase, p.start, p.shown, p.pct = phase, now, time.Time{}, -10
}

// end finishes the line of the current phase.
func (p *progress) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endLocked()
	p.phase = ""
}

func (p *progress) endLocked() {
	if p.stop != nil {
		close(p.stop)
		p.mu.Unlock() // the spinner draws under p.mu
		<-p.done
		p.mu.Lock()
		p.stop, p.done = nil, nil
	}
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// draw replaces the bar's line; the caller holds p.mu.
func (p *progress) draw(line string) {
	fmt.Fprintf(p.w, "\r\033[K%s", line)
	p.drawn = true
	p.shown = time.Now()
}
