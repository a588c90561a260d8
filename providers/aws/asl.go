package aws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
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

// waveName names the Parallel state of wave i (counted from 0). Task names
// are lowercase without spaces, so it never clashes with a task's state.
func waveName(i int) string { return fmt.Sprintf("Wave %d", i+1) }

// definition returns the Amazon States Language definition that runs dep's
// tasks wave by wave: a wave of one task is that task's Task state, a wider
// one a Parallel state with a branch per task. Every state discards its
// result (ResultPath null), so each task gets the execution's input
// untouched and the run's ID, $$.Execution.Name, as its payload.
func definition(dep *deployment) ([]byte, error) {
	tasks := map[string]taskDecl{}
	for _, t := range dep.Tasks {
		tasks[t.Name] = t
	}
	var states object
	for i, wave := range dep.Waves {
		var next field
		if i+1 < len(dep.Waves) {
			next = field{"Next", stateName(dep.Waves[i+1], i+1)}
		} else {
			next = field{"End", true}
		}
		if len(wave) == 1 {
			states = append(states, field{wave[0], taskState(tasks[wave[0]], next)})
			continue
		}
		var branches []object
		for _, name := range wave {
			branches = append(branches, object{
				{"StartAt", name},
				{"States", object{{name, taskState(tasks[name], field{"End", true})}}},
			})
		}
		states = append(states, field{waveName(i), object{
			{"Type", "Parallel"},
			{"Comment", "Runs " + list(wave) + " in parallel."},
			{"Branches", branches},
			{"ResultPath", nil},
			next,
		}})
	}
	sm := object{
		{"Comment", fmt.Sprintf("Runs the Glacier pipeline %s: %d tasks in %d waves, each wave after the one before.",
			dep.Pipeline, len(dep.Tasks), len(dep.Waves))},
		{"StartAt", stateName(dep.Waves[0], 0)},
		{"States", states},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sm); err != nil {
		return nil, fmt.Errorf("aws: state machine definition: %w", err)
	}
	return buf.Bytes(), nil
}

// stateName is the name of the state that runs wave i.
func stateName(wave []string, i int) string {
	if len(wave) == 1 {
		return wave[0]
	}
	return waveName(i)
}

func taskState(t taskDecl, next field) object {
	retry := []object{{
		{"ErrorEquals", lambdaServiceErrors},
		{"IntervalSeconds", serviceRetryIntervalSecs},
		{"MaxAttempts", serviceRetryAttempts},
		{"BackoffRate", retryBackoff},
	}}
	if t.Retries > 0 {
		retry = append(retry, object{
			{"ErrorEquals", []string{"States.ALL"}},
			{"IntervalSeconds", retryIntervalSecs},
			{"MaxAttempts", t.Retries},
			{"BackoffRate", retryBackoff},
		})
	}
	return object{
		{"Type", "Task"},
		{"Comment", flowComment(t)},
		{"Resource", lambdaInvoke},
		{"Parameters", object{
			{"FunctionName", t.FunctionName},
			{"Payload", object{{"run_id.$", "$$.Execution.Name"}}},
		}},
		{"TimeoutSeconds", t.TimeoutSecs + timeoutMarginSecs},
		{"Retry", retry},
		{"ResultPath", nil},
		next,
	}
}

// flowComment says what a task reads and writes.
func flowComment(t taskDecl) string {
	s := "Task " + t.Name
	if len(t.Reads) > 0 {
		s += " reads " + list(t.Reads) + ", and"
	}
	return s + " writes " + list(t.Writes) + "."
}

// list joins names as English does: "a", "a and b", "a, b and c".
func list(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// object is a JSON object that keeps its fields in order, so the
// definition reads in execution order.
type object []field

type field struct {
	Key   string
	Value any
}

// MarshalJSON writes the fields in order.
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.Value)
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
