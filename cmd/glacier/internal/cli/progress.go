package cli

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/local"
)

// progress shows each task's state while a pipeline runs: on a terminal, a
// block of live lines redrawn in place; otherwise a plain line per change.
type progress struct {
	io    *IO
	tasks []string
	width int

	mu      sync.Mutex
	state   map[string]glacier.TaskStatus
	started map[string]time.Time
	parts   map[string]local.PartCounts // of the map tasks running
	drawn   int                         // lines drawn last time, to move the cursor back over
	done    chan struct{}
	wg      sync.WaitGroup
}

func newProgress(io *IO, p *glacier.Pipeline) *progress {
	pr := &progress{io: io, state: map[string]glacier.TaskStatus{}, started: map[string]time.Time{},
		parts: map[string]local.PartCounts{}, done: make(chan struct{})}
	for _, t := range p.Tasks() {
		pr.tasks = append(pr.tasks, t.Name)
		pr.state[t.Name] = glacier.StatusPending
		pr.width = max(pr.width, len(t.Name))
	}
	if io.ErrTTY {
		pr.wg.Add(1)
		go pr.tick()
	}
	return pr
}

func (pr *progress) event(ev local.Event) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if ev.State == glacier.StatusRunning || ev.State == glacier.StatusRetrying {
		// Elapsed is what the task ran before this attempt.
		pr.started[ev.Task] = time.Now().Add(-ev.Elapsed)
	}
	before, had := pr.parts[ev.Task]
	switch {
	case ev.Parts != nil:
		pr.parts[ev.Task] = *ev.Parts
	case ev.Record != nil && ev.Record.Parts != nil:
		pr.parts[ev.Task] = *ev.Record.Parts
	}
	repeated := pr.state[ev.Task] == ev.State
	pr.state[ev.Task] = ev.State
	if pr.io.ErrTTY {
		pr.redraw()
		return
	}
	// A map task reports every part; the log gets a line per tenth.
	if c := ev.Parts; repeated && c != nil && (!had || decile(before) == decile(*c)) {
		return
	}
	line := fmt.Sprintf("%-*s  %s", pr.width, ev.Task, ev.State)
	if c, ok := pr.parts[ev.Task]; ok {
		line += " " + partsDone(c)
	}
	switch {
	case ev.State == glacier.StatusRetrying:
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

// redraw rewrites the block of task lines; mu must be held. A block taller
// than the terminal would scroll, so then it shows a summary instead:
// counts by state, the running tasks and the failures.
func (pr *progress) redraw() {
	lines := pr.lines()
	if h := pr.height(); h > 0 && len(lines) > h-1 {
		lines = pr.summary(h - 1)
	}
	var b strings.Builder
	if pr.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", pr.drawn)
	}
	for _, l := range lines {
		fmt.Fprintf(&b, "\x1b[2K%s\n", l)
	}
	// Clear what is left of a taller block drawn before.
	for range pr.drawn - len(lines) {
		b.WriteString("\x1b[2K\n")
	}
	if pr.drawn > len(lines) {
		fmt.Fprintf(&b, "\x1b[%dA", pr.drawn-len(lines))
	}
	pr.drawn = len(lines)
	fmt.Fprint(pr.io.ErrOut, b.String())
}

func (pr *progress) height() int {
	if pr.io.Height == nil {
		return 0
	}
	return pr.io.Height()
}

// line formats one task's line.
func (pr *progress) line(name string) string {
	st := pr.state[name]
	extra := ""
	if st == glacier.StatusRunning || st == glacier.StatusRetrying {
		extra = " " + time.Since(pr.started[name]).Round(100*time.Millisecond).String()
	}
	if c, ok := pr.parts[name]; ok {
		extra += " " + partsDone(c)
	}
	return fmt.Sprintf("%-*s  %s%s", pr.width, name, pr.io.paint(st), extra)
}

// partsDone says how far a map task is: "4,213/10,000, 3 failed".
func partsDone(c local.PartCounts) string {
	s := thousands(c.Ran+c.Cached+c.Failed) + "/" + thousands(c.Total)
	if c.Failed > 0 {
		s += ", " + thousands(c.Failed) + " failed"
	}
	return s
}

// decile is how many tenths of its parts a map task has done.
func decile(c local.PartCounts) int {
	if c.Total == 0 {
		return 10
	}
	return (c.Ran + c.Cached + c.Failed) * 10 / c.Total
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (pr *progress) lines() []string {
	out := make([]string, len(pr.tasks))
	for i, name := range pr.tasks {
		out[i] = pr.line(name)
	}
	return out
}

// summary fits the state of the run into at most max lines.
func (pr *progress) summary(maxLines int) []string {
	counts := map[glacier.TaskStatus]int{}
	var running, failed []string
	for _, name := range pr.tasks {
		st := pr.state[name]
		counts[st]++
		switch st {
		case glacier.StatusRunning, glacier.StatusRetrying:
			running = append(running, name)
		case glacier.StatusFailed:
			failed = append(failed, name)
		}
	}
	var parts []string
	for _, st := range []glacier.TaskStatus{glacier.StatusPending, glacier.StatusQueued, glacier.StatusRunning, glacier.StatusRetrying,
		glacier.StatusSucceeded, glacier.StatusCached, glacier.StatusFailed, glacier.StatusSkipped, glacier.StatusCanceled} {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], pr.io.paint(st)))
		}
	}
	out := []string{fmt.Sprintf("%d tasks: %s", len(pr.tasks), strings.Join(parts, ", "))}
	for _, group := range [][]string{running, failed} {
		for _, name := range group {
			if len(out) == maxLines-1 && len(running)+len(failed)+1 > maxLines {
				out = append(out, fmt.Sprintf("... and %d more running or failed", len(running)+len(failed)+1-len(out)))
				return out
			}
			out = append(out, pr.line(name))
		}
	}
	return out
}

// stop ends the live display, leaving the final states on screen.
func (pr *progress) stop() {
	close(pr.done)
	pr.wg.Wait()
	if pr.io.ErrTTY {
		pr.mu.Lock()
		pr.redraw()
		pr.mu.Unlock()
		fmt.Fprintln(pr.io.ErrOut)
	}
}
