// Package tasktest runs a task function natively, with plain go test,
// against in-memory datasets. It follows the rules of the Glacier runtime:
// the task reads only the inputs and writes only the outputs it declares
// (and is refused with the same errors otherwise), its outputs are kept
// only if it succeeds, and every declared output must be written. The task
// function runs through the same SDK code as under the runtime; only the
// host behind it differs.
//
// A test declares partitioned datasets part by part (PartitionedInputs,
// PartitionedOutputs) and gets back the parts the task wrote (OutputParts).
// A map task's test runs one invocation: Part names the part it runs over,
// and Inputs and Outputs hold that part, as the runtime hands it over.
//
//	func TestClean(t *testing.T) {
//		res, err := tasktest.Run(clean, tasktest.Config{
//			Task:    "clean",
//			Params:  map[string]string{"currency": "EUR"},
//			Inputs:  map[string][]byte{"raw_orders": []byte("1,EUR\n2,USD\n")},
//			Outputs: []string{"clean_orders"},
//		})
//		if err != nil {
//			t.Fatal(err)
//		}
//		if got := string(res.Outputs["clean_orders"]); got != "1,EUR\n" {
//			t.Errorf("clean_orders = %q", got)
//		}
//	}
package tasktest

import (
	"errors"
	"fmt"

	"github.com/glacier-pipeline/glacier/sdk-guest/internal/host"
	"github.com/glacier-pipeline/glacier/sdk-guest/internal/memhost"
	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

// Config describes the invocation to run: what glacier.yaml would declare
// for the task, and the contents of its inputs.
type Config struct {
	// Task is the task's name; "task" if empty.
	Task string
	// RunID is the run identifier the task sees; "tasktest" if empty.
	RunID string
	// Params are the task's params.
	Params map[string]string
	// Inputs are the declared inputs and their contents.
	Inputs map[string][]byte
	// MissingInputs are declared inputs that have no version yet, as when
	// nothing has produced them; opening one fails as under the runtime.
	MissingInputs []string
	// Outputs are the declared outputs.
	Outputs []string

	// PartitionedInputs are the declared partitioned inputs, each as its
	// parts: key to contents. The task lists the keys with Parts and
	// reads a part with InputPart.
	PartitionedInputs map[string]map[string][]byte
	// MissingPartitionedInputs are declared partitioned inputs that have
	// no version yet.
	MissingPartitionedInputs []string
	// PartitionedOutputs are the declared partitioned outputs, which the
	// task writes part by part with OutputPart.
	PartitionedOutputs []string
	// Part makes the run one invocation of a map task, over the part with
	// this key: Context.Part returns it. As under the runtime, the
	// invocation sees that part of each dataset as a whole dataset: give
	// the part's contents as the mapped input in Inputs, and declare the
	// outputs in Outputs. Result.Outputs then holds what the invocation
	// wrote, which the runtime files under the key.
	Part string
}

// Result is what a task run produced.
type Result struct {
	// Outputs holds every declared output but the partitioned ones, nil
	// unless the task succeeded.
	Outputs map[string][]byte
	// OutputParts holds every declared partitioned output as the parts the
	// task wrote, key to contents; nil unless the task succeeded.
	OutputParts map[string]map[string][]byte
	// Log is what the task wrote through Context.Logf, and the failure
	// report of a task that failed (with the stack of a panic). Writes to
	// os.Stdout and os.Stderr are not captured.
	Log string
	// ExitCode is the code the task would exit with: 0 on success, 1 when
	// it returned an error (or did not write an output), 2 when it panicked.
	ExitCode int
}

// Error is the error Run returns for a task that failed. Its message reads
// like the runtime's for the same failure.
type Error struct {
	// Task is the task's name.
	Task string
	// ExitCode is 1 or 2, as in Result.
	ExitCode int
	// Message is what the runtime would report as the failure.
	Message string
	// Err is the error the task function returned, or the value it
	// panicked with if that was an error; nil otherwise.
	Err error
	// Panic is the value the task function panicked with, nil if it did
	// not panic.
	Panic any
}

// Error says which task failed, why, and that nothing was committed, as the
// sandbox does.
func (e *Error) Error() string {
	return fmt.Sprintf("task %q failed: %s (exit code %d); nothing was committed", e.Task, e.Message, e.ExitCode)
}

// Unwrap returns Err, so errors.Is and errors.As see the task's own error.
func (e *Error) Unwrap() error { return e.Err }

// Run runs fn once as the task described by cfg and returns what it
// produced. If the task fails, the error is an *Error and the Result still
// holds its log and exit code. An error about cfg itself (a dataset declared
// twice, a name or part key the runtime refuses) is returned before fn runs.
func Run(fn func(*task.Context) error, cfg Config) (*Result, error) {
	if cfg.Task == "" {
		cfg.Task = "task"
	}
	if cfg.RunID == "" {
		cfg.RunID = "tasktest"
	}
	h, err := memhost.New(memhost.Config{
		Task:               cfg.Task,
		RunID:              cfg.RunID,
		Params:             cfg.Params,
		Inputs:             cfg.Inputs,
		Missing:            cfg.MissingInputs,
		Outputs:            cfg.Outputs,
		PartitionedInputs:  cfg.PartitionedInputs,
		MissingPartitioned: cfg.MissingPartitionedInputs,
		PartitionedOutputs: cfg.PartitionedOutputs,
		Part:               cfg.Part,
	})
	if err != nil {
		return nil, fmt.Errorf("tasktest: bad Config: %w", err)
	}
	out := host.RunTask(h, fn)
	outputs, parts, finishErr := h.Finish(out.Code)
	res := &Result{Log: h.Log(), ExitCode: out.Code}
	if out.Code != 0 {
		e := &Error{Task: cfg.Task, ExitCode: out.Code, Message: h.FailMessage(), Err: out.Err}
		var p *host.PanicError
		if errors.As(out.Err, &p) {
			e.Panic = p.Value
			e.Err = p.Unwrap()
		}
		if e.Message == "" {
			e.Message = finishErr.Error()
		}
		return res, e
	}
	if finishErr != nil {
		// The SDK checks outputs itself, so this means the runtime would
		// refuse what the SDK accepted.
		res.ExitCode = 1
		return res, &Error{Task: cfg.Task, ExitCode: 1, Message: finishErr.Error()}
	}
	res.Outputs, res.OutputParts = outputs, parts
	return res, nil
}
