package cli

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/glacier-pipeline/glacier/glacier"
	"github.com/glacier-pipeline/glacier/providers/local"
)

// progress shows each task's state while a pipeline runs: on a terminal, a
// block of live lines redrawn in place; otherwise a plain line per change.
type progress struct {
	io    *IO
	tasks []string
	width int

	mu      sync.Mutex
	state   map[string]string
	started map[string]time.Time
	drawn   int // lines drawn last time, to move the cursor back over
	done    chan struct{}
	wg      sync.WaitGroup
}

func newProgress(io *IO, p *glacier.Pipeline) *progress {
	pr := &progress{io: io, state: map[string]string{}, started: map[string]time.Time{}, done: make(chan struct{})}
	for _, t := range p.Tasks() {
		pr.tasks = append(pr.tasks, t.Name)
		pr.state[t.Name] = "pending"
		pr.width = max(pr.width, len(t.Name))
	}
	if io.TTY {
		pr.wg.Add(1)
		go pr.tick()
	}
	return pr
}

func (pr *progress) event(ev local.Event) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if ev.State == "running" || ev.State == "retrying" {
		if _, ok := pr.started[ev.Task]; !ok {
			pr.started[ev.Task] = time.Now()
		}
	}
	pr.state[ev.Task] = ev.State
	if pr.io.TTY {
		pr.redraw()
		return
	}
	line := fmt.Sprintf("%-*s  %s", pr.width, ev.Task, ev.State)
	switch {
	case ev.State == "retrying":
		line += fmt.Sprintf(" (attempt %d)", ev.Attempt)
	case ev.Record != nil && ev.Record.Attempts > 0:
		line += " " + ev.Record.Duration.Round(time.Millisecond).String()
	}
	fmt.Fprintln(pr.io.ErrOut, line)
}

// tick redraws the elapsed times of running tasks.
func (pr *progress) tick() {
	defer pr.wg.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-pr.done:
			return
		case <-t.C:
			pr.mu.Lock()
			pr.redraw()
			pr.mu.Unlock()
		}
	}
}

// redraw rewrites the block of task lines; mu must be held.
func (pr *progress) redraw() {
	var b strings.Builder
	if pr.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", pr.drawn)
	}
	for _, name := range pr.tasks {
		st := pr.state[name]
		extra := ""
		if st == "running" || st == "retrying" {
			extra = " " + time.Since(pr.started[name]).Round(100*time.Millisecond).String()
		}
		fmt.Fprintf(&b, "\x1b[2K%-*s  %s%s\n", pr.width, name, pr.io.paint(st), extra)
	}
	pr.drawn = len(pr.tasks)
	fmt.Fprint(pr.io.ErrOut, b.String())
}

// stop ends the live display, leaving the final states on screen.
func (pr *progress) stop() {
	close(pr.done)
	pr.wg.Wait()
	if pr.io.TTY {
		pr.mu.Lock()
		pr.redraw()
		pr.mu.Unlock()
		fmt.Fprintln(pr.io.ErrOut)
	}
}
