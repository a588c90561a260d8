package task

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/glacier-pipeline/glacier/sdk-guest/abi"
	"github.com/glacier-pipeline/glacier/sdk-guest/internal/host"
)

// nativeMessage is printed when Run is called outside the Glacier runtime.
const nativeMessage = `task: Run needs the Glacier runtime, which this program is not running in.
Build the task with GOOS=wasip1 GOARCH=wasm (glacier build does) and run it with glacier run,
or test the task function natively with package github.com/glacier-pipeline/glacier/sdk-guest/tasktest.`

// Run runs fn as the task and ends the program the way the runtime expects:
//
//   - fn returns nil: Run closes the datasets fn left open and returns, and
//     the program exits 0 when main returns. The runtime then commits every
//     output.
//   - fn returns an error: Run writes it to stderr, records it as the task's
//     failure (task_fail) and exits with code 1.
//   - fn panics: Run writes the panic and its stack to stderr, records the
//     panic as the failure and exits with code 2.
//
// Closing an output can fail (the storage behind it may); then, or if fn
// did not open every declared output, the task fails with exit code 1.
//
// Run works only in a module built with GOOS=wasip1 GOARCH=wasm and run by
// the Glacier runtime. Elsewhere it prints how to build or test the task and
// exits with code 2; use package tasktest to run fn natively.
func Run(fn func(*Context) error) {
	h := host.Wasm()
	if h == nil {
		fmt.Fprintln(os.Stderr, nativeMessage)
		os.Exit(2)
	}
	if o := run(h, fn); o.Code != 0 {
		os.Exit(o.Code)
	}
}

// Context is a task's view of its invocation: its name, params and
// datasets. Run creates it; its methods are safe for concurrent use.
type Context struct {
	h  host.Host
	tc abi.TaskContext

	mu      sync.Mutex
	open    map[uint32]dataset // handles not yet closed
	opened  map[string]bool    // outputs opened for writing
	hostErr error              // the first failure of the host under a dataset
}

// dataset is an open input or output, closed by Run if the task does not.
type dataset interface {
	Close() error
}

func newContext(h host.Host) (*Context, error) {
	buf := make([]byte, 4096)
	n, e := h.TaskContext(buf)
	if e == abi.ErrnoRange {
		buf = make([]byte, n)
		n, e = h.TaskContext(buf)
	}
	if e != abi.ErrnoSuccess {
		return nil, fmt.Errorf("task: read the task context from the runtime: %w", e)
	}
	if n > len(buf) {
		return nil, fmt.Errorf("task: read the task context from the runtime: it reported %d bytes into a %d-byte buffer", n, len(buf))
	}
	c := &Context{h: h, open: make(map[uint32]dataset), opened: make(map[string]bool)}
	if err := json.Unmarshal(buf[:n], &c.tc); err != nil {
		return nil, fmt.Errorf("task: decode the task context from the runtime: %w", err)
	}
	if c.tc.ABI != abi.Version {
		return nil, fmt.Errorf("task: the runtime speaks ABI version %d, but this SDK speaks version %d; rebuild the task with an SDK that matches the runtime", c.tc.ABI, abi.Version)
	}
	return c, nil
}

// Task returns the task's name in the pipeline.
func (c *Context) Task() string { return c.tc.Task }

// RunID returns the identifier of the pipeline run this invocation belongs to.
func (c *Context) RunID() string { return c.tc.RunID }

// Inputs returns the names of the task's declared inputs, sorted.
func (c *Context) Inputs() []string { return slices.Clone(c.tc.Inputs) }

// Outputs returns the names of the task's declared outputs, sorted.
func (c *Context) Outputs() []string { return slices.Clone(c.tc.Outputs) }

// Param returns the value of the named param, or "" if glacier.yaml sets
// none for this task.
func (c *Context) Param(name string) string { return c.tc.Params[name] }

// Params returns a copy of all the task's params.
func (c *Context) Params() map[string]string {
	p := maps.Clone(c.tc.Params)
	if p == nil {
		p = map[string]string{}
	}
	return p
}

// Logf writes a line to the task's log (its stderr, which the runtime
// keeps with the run). A newline is added unless the message ends in one.
func (c *Context) Logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	// One write per line, so lines from several goroutines do not interleave.
	_, _ = io.WriteString(c.h.Stderr(), msg)
}

func (c *Context) track(handle uint32, d dataset) {
	c.mu.Lock()
	c.open[handle] = d
	c.mu.Unlock()
}

func (c *Context) untrack(handle uint32) {
	c.mu.Lock()
	delete(c.open, handle)
	c.mu.Unlock()
}

// finish closes the datasets the task left open, in handle order, and
// checks that the host never failed and that every declared output was
// opened.
func (c *Context) finish() error {
	c.mu.Lock()
	handles := slices.Sorted(maps.Keys(c.open))
	left := make([]dataset, len(handles))
	for i, h := range handles {
		left[i] = c.open[h]
	}
	c.mu.Unlock()
	for _, d := range left {
		// A failure here is remembered as hostErr.
		_ = d.Close()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hostErr != nil {
		return c.hostErr
	}
	var unwritten []string
	for _, name := range c.tc.Outputs {
		if !c.opened[name] {
			unwritten = append(unwritten, fmt.Sprintf("%q", name))
		}
	}
	if len(unwritten) == 0 {
		return nil
	}
	noun := "output"
	if len(unwritten) > 1 {
		noun = "outputs"
	}
	return fmt.Errorf("task: %q did not write declared %s %s; open every declared output with Output, even to write nothing, or remove it from outputs: in glacier.yaml",
		c.tc.Task, noun, strings.Join(unwritten, ", "))
}
