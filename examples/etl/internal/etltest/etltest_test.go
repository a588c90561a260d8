package etltest

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
	"github.com/glacier-pipeline/glacier/sdk-guest/tasktest"
)

// recorder is a testing.TB that records failures instead of reporting
// them, so the helpers' own failures can be checked.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.failures = append(r.failures, fmt.Sprint(args...))
	runtime.Goexit()
}

// record runs f with a recorder and returns what failed, one line each.
func record(t *testing.T, f func(tb testing.TB)) string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return strings.Join(r.failures, "\n")
}

// echo copies input in to output out and logs "copied".
func echo(c *task.Context) error {
	in, err := c.Input("in")
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := c.Output("out")
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		return err
	}
	c.Logf("copied")
	return out.Close()
}

func refuse(*task.Context) error { return errors.New("no") }

var cfg = tasktest.Config{Inputs: map[string][]byte{"in": []byte("a,b\n")}, Outputs: []string{"out"}}

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		fn        func(*task.Context) error
		want, log string
		failure   string // "" for none
	}{
		{"passes", echo, "a,b\n", "copied\n", ""},
		{"other output", echo, "a\n", "copied\n", "out:\n got \"a,b\\n\"\nwant \"a\\n\""},
		{"other log", echo, "a,b\n", "", "log:\n got \"copied\\n\"\nwant \"\""},
		{"task fails", refuse, "", "", `task "task" failed: no (exit code 1); nothing was committed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := record(t, func(tb testing.TB) { Check(tb, tt.fn, cfg, tt.want, tt.log) })
			if got != tt.failure {
				t.Errorf("failures:\n got %q\nwant %q", got, tt.failure)
			}
		})
	}
}

func TestFails(t *testing.T) {
	tests := []struct {
		name    string
		fn      func(*task.Context) error
		msg     string
		failure string
	}{
		{"passes", refuse, "no", ""},
		{"other message", refuse, "yes", "message:\n got no\nwant yes"},
		{"task succeeds", echo, "no", "error = <nil>, want the task to fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := record(t, func(tb testing.TB) { Fails(tb, tt.fn, cfg, tt.msg) })
			if got != tt.failure {
				t.Errorf("failures:\n got %q\nwant %q", got, tt.failure)
			}
		})
	}
}
