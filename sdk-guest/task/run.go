package task

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"unicode/utf8"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/sdk-guest/internal/host"
)

func init() {
	host.RunTask = func(h host.Host, fn any) host.Outcome {
		f, ok := fn.(func(*Context) error)
		if !ok {
			panic(fmt.Sprintf("task: RunTask needs a func(*task.Context) error, got %T", fn))
		}
		return run(h, f)
	}
}

// Exit codes of a task.
const (
	exitError = 1 // the task function returned an error, or finishing failed
	exitPanic = 2 // the task function panicked
)

// run is Run without the exit, shared by the Wasm entry point and tasktest.
func run(h host.Host, fn func(*Context) error) host.Outcome {
	if fn == nil {
		return fail(h, exitError, "", errors.New("task: Run was given a nil function"))
	}
	c, err := newContext(h)
	if err != nil {
		return fail(h, exitError, "", err)
	}
	if err := call(c, fn); err != nil {
		if p, ok := err.(*host.PanicError); ok {
			return fail(h, exitPanic, c.tc.Task, p)
		}
		return fail(h, exitError, c.tc.Task, err)
	}
	if err := c.finish(); err != nil {
		return fail(h, exitError, c.tc.Task, err)
	}
	return host.Outcome{}
}

// call runs fn, turning a panic into a *host.PanicError.
func call(c *Context, fn func(*Context) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &host.PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	err = fn(c)
	return err
}

// fail reports err on stderr and to the host, and returns the outcome.
func fail(h host.Host, code int, taskName string, err error) host.Outcome {
	msg := err.Error()
	if msg == "" {
		msg = fmt.Sprintf("the task function returned an error with an empty message (%T)", err)
	}
	who := "task"
	if taskName != "" {
		who = fmt.Sprintf("task %q", taskName)
	}
	report := fmt.Sprintf("%s failed: %s\n", who, msg)
	if p, ok := err.(*host.PanicError); ok {
		report += "\n" + string(p.Stack)
	}
	_, _ = io.WriteString(h.Stderr(), report)
	_ = h.Fail(truncate(msg, abi.MaxFailMessage))
	return host.Outcome{Code: code, Err: err}
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
