// Package etltest runs the etl example's tasks in their tests, natively
// with sdk-guest/tasktest, and checks what they write and log. Every task
// of the example has one output, which Check compares.
package etltest

import (
	"errors"
	"testing"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
	"github.com/glacier-pipeline/glacier/sdk-guest/tasktest"
)

// Run runs fn as the task cfg describes and returns what it produced. It
// stops the test if the task fails.
func Run(t testing.TB, fn func(*task.Context) error, cfg tasktest.Config) *tasktest.Result {
	t.Helper()
	res, err := tasktest.Run(fn, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Check runs fn as the task cfg describes and checks that it succeeds,
// writes want to its output (cfg.Outputs[0]) and logs log.
func Check(t testing.TB, fn func(*task.Context) error, cfg tasktest.Config, want, log string) {
	t.Helper()
	if len(cfg.Outputs) != 1 {
		t.Fatalf("etltest: Check compares one output; cfg.Outputs is %q", cfg.Outputs)
	}
	res := Run(t, fn, cfg)
	if got := string(res.Outputs[cfg.Outputs[0]]); got != want {
		t.Errorf("%s:\n got %q\nwant %q", cfg.Outputs[0], got, want)
	}
	if res.Log != log {
		t.Errorf("log:\n got %q\nwant %q", res.Log, log)
	}
}

// Fails runs fn as the task cfg describes and checks that it fails with
// the message msg and commits no output.
func Fails(t testing.TB, fn func(*task.Context) error, cfg tasktest.Config, msg string) {
	t.Helper()
	res, err := tasktest.Run(fn, cfg)
	var te *tasktest.Error
	if !errors.As(err, &te) {
		t.Fatalf("error = %v, want the task to fail", err)
	}
	if te.Message != msg {
		t.Errorf("message:\n got %s\nwant %s", te.Message, msg)
	}
	if res.Outputs != nil {
		t.Errorf("outputs = %q, want none from a failed task", res.Outputs)
	}
}
