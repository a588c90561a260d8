package aws

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// The state machine calls each function through the optimised Lambda
// integration, by the function's name: the name is fixed at compile time,
// so the definition holds no account or region and the file written next
// to main.go is exactly what is deployed.
const lambdaInvoke = "arn:aws:states:::lambda:invoke"

// lambdaServiceErrors are failures of the Lambda service rather than of the
// task; AWS recommends retrying them whatever the task's own retries.
var lambdaServiceErrors = []string{
	"Lambda.ServiceException",
	"Lambda.AWSLambdaException",
	"Lambda.SdkClientException",
	"Lambda.TooManyRequestsException",
}

// Retry settings. A task's own retries back off 2, 4, 8, ... seconds.
const (
	retryIntervalSecs        = 2
	retryBackoff             = 2
	serviceRetryIntervalSecs = 1
	serviceRetryAttempts     = 3
	// timeoutMarginSecs is added to a function's timeout for its Task
	// state, so Lambda's own timeout, with its clearer error, fires first.
	timeoutMarginSecs = 60
)

// aslMachine is an Amazon States Language definition, as much of it as
// the compiler writes.
type aslMachine struct {
	Comment string    `json:"Comment"`
	StartAt string    `json:"StartAt"`
	States  aslStates `json:"States"`
}

// aslStates are a definition's states in the order they run, which the JSON
// keeps so the file reads top to bottom.
type aslStates []aslNamed

type aslNamed struct {
	Name  string
	State aslState
}

// aslState is a Task state or a Parallel state.
type aslState struct {
	Type       string         `json:"Type"`
	Comment    string         `json:"Comment,omitempty"`
	Resource   string         `json:"Resource,omitempty"`
	Parameters *aslInvocation `json:"Parameters,omitempty"`
	// TimeoutSeconds bounds a Task state.
	TimeoutSeconds int          `json:"TimeoutSeconds,omitempty"`
	Retry          []aslRetrier `json:"Retry,omitempty"`
	Branches       []aslBranch  `json:"Branches,omitempty"`
	// ResultPath is always null: a state's result is discarded, so every
	// task gets the execution's input untouched.
	ResultPath *string `json:"ResultPath"`
	Next       string  `json:"Next,omitempty"`
	End        bool    `json:"End,omitempty"`
}

// aslInvocation are the Parameters of a Task state calling lambdaInvoke.
type aslInvocation struct {
	FunctionName string     `json:"FunctionName"`
	Payload      aslPayload `json:"Payload"`
}

// aslPayload is what a function is invoked with: the run's ID, which is the
// execution's name.
type aslPayload struct {
	RunID string `json:"run_id.$"`
}

// aslRetrier is a Retry rule. MaxAttempts is always written: zero means
// "never retry", not the default of three.
type aslRetrier struct {
	ErrorEquals     []string `json:"ErrorEquals"`
	IntervalSeconds int      `json:"IntervalSeconds,omitempty"`
	MaxAttempts     int      `json:"MaxAttempts"`
	BackoffRate     int      `json:"BackoffRate,omitempty"`
}

// aslBranch is one branch of a Parallel state.
type aslBranch struct {
	StartAt string    `json:"StartAt"`
	States  aslStates `json:"States"`
}

// waveName names the Parallel state of wave i (counted from 0). Task names
// are lowercase without spaces, so it never clashes with a task's state.
func waveName(i int) string { return fmt.Sprintf("Wave %d", i+1) }

// Definition implements compile.Target: statemachine.asl.json, the Amazon
// States Language definition that runs dep's tasks wave by wave: a wave of
// one task is that task's Task state, a wider one a Parallel state with a
// branch per task. Every state discards its result (ResultPath null), so
// each task gets the execution's input untouched and the run's ID,
// $$.Execution.Name, as its payload.
func (target) Definition(dep *deployment) (pulumiproject.File, error) {
	sm := aslMachine{
		Comment: fmt.Sprintf("Runs the Glacier pipeline %s: %d tasks in %d waves, each wave after the one before.",
			dep.Pipeline, len(dep.Tasks), len(dep.Waves)),
		StartAt: stateName(dep.Waves[0], 0),
	}
	for i, wave := range dep.TaskWaves() {
		st := aslState{Type: "Parallel", Comment: "Runs " + compile.List(dep.Waves[i]) + " in parallel."}
		for _, j := range wave {
			t := dep.Tasks[j]
			st.Branches = append(st.Branches, aslBranch{StartAt: t.Name, States: aslStates{{t.Name, taskState(t)}}})
		}
		if len(wave) == 1 {
			st = taskState(dep.Tasks[wave[0]])
		}
		st.End = i+1 == len(dep.Waves)
		if !st.End {
			st.Next = stateName(dep.Waves[i+1], i+1)
		}
		sm.States = append(sm.States, aslNamed{stateName(dep.Waves[i], i), st})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sm); err != nil {
		return pulumiproject.File{}, fmt.Errorf("aws: state machine definition: %w", err)
	}
	return pulumiproject.File{Name: "statemachine.asl.json", Data: buf.Bytes()}, nil
}

// stateName is the name of the state that runs wave i.
func stateName(wave []string, i int) string {
	if len(wave) == 1 {
		return wave[0]
	}
	return waveName(i)
}

// taskState is the Task state that runs t and ends its branch; definition
// links it to the next state where one follows.
func taskState(t taskDecl) aslState {
	retry := []aslRetrier{{
		ErrorEquals:     lambdaServiceErrors,
		IntervalSeconds: serviceRetryIntervalSecs,
		MaxAttempts:     serviceRetryAttempts,
		BackoffRate:     retryBackoff,
	}}
	if t.Retries > 0 {
		// The first retrier that names an error decides, so the failures
		// no retry fixes are named, with no attempts, before States.ALL.
		var never []string
		for _, k := range fnspec.PermanentKinds() {
			never = append(never, k.ErrorType())
		}
		retry = append(retry, aslRetrier{
			ErrorEquals: never,
			MaxAttempts: 0,
		}, aslRetrier{
			ErrorEquals:     []string{"States.ALL"},
			IntervalSeconds: retryIntervalSecs,
			MaxAttempts:     t.Retries,
			BackoffRate:     retryBackoff,
		})
	}
	return aslState{
		Type:           "Task",
		Comment:        "Task " + t.Comment,
		Resource:       lambdaInvoke,
		Parameters:     &aslInvocation{FunctionName: t.FunctionName, Payload: aslPayload{RunID: "$$.Execution.Name"}},
		TimeoutSeconds: t.Limits.TimeoutSecs + timeoutMarginSecs,
		Retry:          retry,
		End:            true,
	}
}

// MarshalJSON writes the states as one object, in order.
func (ss aslStates) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(s.Name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(s.State)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
