package cli

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/local"
)

func pipelineOf(t *testing.T, n int) *glacier.Pipeline {
	p := glacier.New("p")
	for i := range n {
		name := fmt.Sprintf("t%02d", i)
		if err := p.AddDataset(glacier.Dataset{Name: name, Storage: glacier.ObjectStorage{}}); err != nil {
			t.Fatal(err)
		}
		if err := p.AddTask(glacier.Task{Name: name, Module: "m.wasm", Outputs: []string{name}}); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

var escapes = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

// lastFrame returns the lines of the last redraw, without escapes.
func lastFrame(out string) []string {
	frames := strings.Split(out, "\x1b[2K")
	var lines []string
	for _, f := range frames {
		if l := strings.TrimRight(escapes.ReplaceAllString(f, ""), "\n"); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestProgressFitsTheTerminal runs more tasks than the terminal has lines:
// the live view becomes a summary that fits, with the running tasks named.
func TestProgressFitsTheTerminal(t *testing.T) {
	var buf bytes.Buffer
	io := &IO{ErrOut: &buf, ErrTTY: true, Height: func() int { return 6 }}
	pr := newProgress(io, pipelineOf(t, 30))
	for i := range 30 {
		pr.event(local.Event{Task: fmt.Sprintf("t%02d", i), State: "queued"})
	}
	pr.event(local.Event{Task: "t03", State: "running", Elapsed: 2 * time.Second})
	pr.event(local.Event{Task: "t07", State: "failed"})
	buf.Reset()
	pr.mu.Lock()
	pr.redraw()
	pr.mu.Unlock()
	close(pr.done)
	pr.wg.Wait()
	lines := lastFrame(buf.String())
	if len(lines) > 5 {
		t.Fatalf("the view has %d lines on a 6-line terminal:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if !strings.HasPrefix(lines[0], "30 tasks: 28 queued, 1 running, 1 failed") {
		t.Errorf("summary line = %q", lines[0])
	}
	joined := strings.Join(lines, "\n")
	if !strings.Contains(joined, "t03  running 2s") || !strings.Contains(joined, "t07  failed") {
		t.Errorf("the running and failed tasks are not named:\n%s", joined)
	}
}

// TestProgressShowsQueued: a task waiting for a worker is queued, not
// running, and its time counts from when it runs.
func TestProgressShowsQueued(t *testing.T) {
	var buf bytes.Buffer
	pr := newProgress(&IO{ErrOut: &buf}, pipelineOf(t, 2))
	pr.event(local.Event{Task: "t00", State: "queued"})
	pr.event(local.Event{Task: "t00", State: "running"})
	pr.event(local.Event{Task: "t01", State: "queued"})
	pr.stop()
	got := buf.String()
	for _, want := range []string{"t00  queued\n", "t00  running\n", "t01  queued\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("progress lacks %q:\n%s", want, got)
		}
	}
}
