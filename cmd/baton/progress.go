package main

import (
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progressReporter draws the progress of a long command (kb eval, kb
// import, nlu eval, nlu train) as a bar on stderr. The capability packages
// only call a func(stage, done, total); the bar library stays here.
type progressReporter struct {
	e     *env
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	stage string
	total int
}

// progress returns the callback to hand to a long operation, the writer for
// the command's output (stdout, written after the bar is erased, so that
// the output starts on a clean line) and done, which erases the bar. When
// stderr is not a terminal the callback is nil and stdout is e.stdout: a
// log file or a pipe gets no progress noise.
func (e *env) progress() (report func(stage string, done, total int), stdout io.Writer, done func()) {
	if !e.isTerminal {
		return nil, e.stdout, func() {}
	}
	p := &progressReporter{e: e}
	return p.report, clearingWriter{p}, p.clear
}

// clearingWriter erases the bar before each write to stdout.
type clearingWriter struct{ p *progressReporter }

func (w clearingWriter) Write(b []byte) (int, error) {
	w.p.clear()
	return w.p.e.stdout.Write(b)
}

func (p *progressReporter) report(stage string, done, total int) {
	if total <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil || stage != p.stage || total != p.total {
		p.clearLocked()
		p.stage, p.total = stage, total
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.e.stderr),
			progressbar.OptionSetDescription(stage),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = p.bar.Set(min(done, total))
}

// clear erases the bar, so that the command's own output starts on a clean
// line.
func (p *progressReporter) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *progressReporter) clearLocked() {
	if p.bar != nil {
		_ = p.bar.Clear()
		_ = p.bar.Exit()
		p.bar = nil
	}
}
