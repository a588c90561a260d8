package aws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"

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

// aslState is a Task state, a Parallel state or a Distributed Map state.
type aslState struct {
	Type       string         `json:"Type"`
	Comment    string         `json:"Comment,omitempty"`
	Resource   string         `json:"Resource,omitempty"`
	Parameters *aslInvocation `json:"Parameters,omitempty"`
	// TimeoutSeconds bounds a Task state.
	TimeoutSeconds int         `json:"TimeoutSeconds,omitempty"`
	Branches       []aslBranch `json:"Branches,omitempty"`

	// A Distributed Map state's fields (see mapStates).
	ItemReader    *aslItemReader    `json:"ItemReader,omitempty"`
	ItemSelector  map[string]string `json:"ItemSelector,omitempty"`
	ItemBatcher   *aslItemBatcher   `json:"ItemBatcher,omitempty"`
	ItemProcessor *aslProcessor     `json:"ItemProcessor,omitempty"`
	// MaxConcurrency is the most child executions at once; zero means
	// Step Functions' own limit.
	MaxConcurrency             int              `json:"MaxConcurrency,omitempty"`
	ToleratedFailurePercentage int              `json:"ToleratedFailurePercentage,omitempty"`
	ResultWriter               *aslResultWriter `json:"ResultWriter,omitempty"`

	Retry []aslRetrier `json:"Retry,omitempty"`
	// ResultPath is always null: a state's result is discarded, so every
	// task gets the execution's input untouched.
	ResultPath *string `json:"ResultPath"`
	Next       string  `json:"Next,omitempty"`
	End        bool    `json:"End,omitempty"`
}

// aslItemReader reads a Distributed Map's items from S3.
type aslItemReader struct {
	Resource     string           `json:"Resource"`
	ReaderConfig aslReaderConfig  `json:"ReaderConfig"`
	Parameters   aslObjectPointer `json:"Parameters"`
}

// aslReaderConfig says how the object is read: InputType JSON reads a
// JSON array, as a part list is.
type aslReaderConfig struct {
	InputType string `json:"InputType"`
}

// aslObjectPointer names an S3 object.
type aslObjectPointer struct {
	Bucket string `json:"Bucket"`
	Key    string `json:"Key"`
}

// aslItemBatcher groups items per child execution; BatchInput goes to
// each child beside its Items.
type aslItemBatcher struct {
	MaxItemsPerBatch int               `json:"MaxItemsPerBatch"`
	BatchInput       map[string]string `json:"BatchInput"`
}

// aslProcessor is the state machine each child execution runs.
type aslProcessor struct {
	ProcessorConfig aslProcessorConfig `json:"ProcessorConfig"`
	StartAt         string             `json:"StartAt"`
	States          aslStates          `json:"States"`
}

type aslProcessorConfig struct {
	Mode          string `json:"Mode"`
	ExecutionType string `json:"ExecutionType"`
}

// aslResultWriter writes a Distributed Map's results to S3 instead of
// its state, which holds at most 256 KiB.
type aslResultWriter struct {
	Resource   string          `json:"Resource"`
	Parameters aslResultPrefix `json:"Parameters"`
}

type aslResultPrefix struct {
	Bucket string `json:"Bucket"`
	Prefix string `json:"Prefix"`
}

// aslInvocation are the Parameters of a Task state calling lambdaInvoke.
type aslInvocation struct {
	FunctionName string     `json:"FunctionName"`
	Payload      aslPayload `json:"Payload"`
}

// aslPayload is what a function is invoked with (an fnspec.Request): the
// run's ID, which is the execution's name, and for a map task either the
// keys of a batch of parts, taken from the child execution's input, or
// the commit.
type aslPayload struct {
	RunID  string `json:"run_id.$"`
	Parts  string `json:"parts.$,omitempty"`
	Commit bool   `json:"commit,omitempty"`
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
// one task is that task's states, a wider one a Parallel state with a
// branch per task. A task is one Task state, or, if it maps, a
// Distributed Map state and the Task state that commits it (mapStates).
// Every state discards its result (ResultPath null), so each task gets the
// execution's input untouched and the run's ID, $$.Execution.Name, as its
// payload.
//
// The definition names buckets by placeholders (bucketPlaceholder): the
// compiler cannot know the names Pulumi gives them, and the program
// replaces each before it declares the state machine.
func (target) Definition(dep *deployment) (pulumiproject.File, error) {
	sm := aslMachine{
		Comment: fmt.Sprintf("Runs the Glacier pipeline %s: %d tasks in %d waves, each wave after the one before.",
			dep.Pipeline, len(dep.Tasks), len(dep.Waves)),
		StartAt: stateName(dep.Waves[0], 0),
	}
	for i, wave := range dep.TaskWaves() {
		var states aslStates
		if len(wave) == 1 {
			states = taskStates(dep.Tasks[wave[0]])
		} else {
			st := aslState{Type: "Parallel", Comment: "Runs " + compile.List(dep.Waves[i]) + " in parallel.", End: true}
			for _, j := range wave {
				chain := taskStates(dep.Tasks[j])
				st.Branches = append(st.Branches, aslBranch{StartAt: chain[0].Name, States: chain})
			}
			states = aslStates{{waveName(i), st}}
		}
		if last := &states[len(states)-1].State; i+1 < len(dep.Waves) {
			last.End = false
			last.Next = stateName(dep.Waves[i+1], i+1)
		}
		sm.States = append(sm.States, states...)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sm); err != nil {
		return pulumiproject.File{}, fmt.Errorf("aws: state machine definition: %w", err)
	}
	return pulumiproject.File{Name: "statemachine.asl.json", Data: buf.Bytes()}, nil
}

// stateName is the name of the first state that runs wave i.
func stateName(wave []string, i int) string {
	if len(wave) == 1 {
		return wave[0]
	}
	return waveName(i)
}

// Resources of a Distributed Map's reader and writer.
const (
	s3GetObject = "arn:aws:states:::s3:getObject"
	s3PutObject = "arn:aws:states:::s3:putObject"
)

// bucketPlaceholder stands for dataset's bucket in the definition, as
// CloudFormation's DefinitionSubstitutions do: the program replaces it
// with the bucket's name (see deployment.DefinitionBuckets). Dataset
// names hold no '}', so no placeholder is a prefix of another.
func bucketPlaceholder(dataset string) string { return "${bucket:" + dataset + "}" }

// mapResultsPrefix is the folder, in the bucket of a map task's first
// output, where its Distributed Map writes what its child executions
// returned, beside the output's list and its runs.
func mapResultsPrefix(output string) string { return output + ".map-results" }

// Names of a map task's states beside its Distributed Map state, which
// takes the task's name. Task names hold no space, so they clash with
// nothing.
func partsStateName(task string) string  { return task + " parts" }
func commitStateName(task string) string { return task + " commit" }

// taskStates are the states that run t, in order, the last ending its
// branch; Definition links it to the next wave where one follows.
func taskStates(t taskDecl) aslStates {
	if t.Map == "" {
		return aslStates{{t.Name, taskState(t, aslPayload{RunID: "$$.Execution.Name"})}}
	}
	return mapStates(t)
}

// mapStates run map task t over its mapped input D: a Distributed Map
// state reads D's part list (its object, a JSON array) from D's bucket,
// takes each entry's key, and starts a child execution per batch of
// t.Batch() keys, which invokes t's function with {run_id, parts}; the
// run's ID travels in BatchInput, since a child execution has a name of
// its own. What the children return is written to S3 (ResultWriter), so
// no number of parts can outgrow the state's 256 KiB. Once the map
// succeeded (its failures within tolerated_failures, counted per item),
// a Task state invokes t's function with {run_id, commit: true}, which
// writes its outputs' new lists.
func mapStates(t taskDecl) aslStates {
	out := t.Writes[0]
	parts := taskState(t, aslPayload{RunID: "$.BatchInput.run_id", Parts: "$.Items[*].key"})
	parts.Comment = fmt.Sprintf("Runs a batch of up to %d parts of %s.", t.Batch(), t.Map)
	m := aslState{
		Type: "Map",
		Comment: fmt.Sprintf("Runs task %s once per part of %s, %d parts per child execution; %s commits the parts.",
			t.Name, t.Map, t.Batch(), commitStateName(t.Name)),
		ItemReader: &aslItemReader{
			Resource:     s3GetObject,
			ReaderConfig: aslReaderConfig{InputType: "JSON"},
			Parameters:   aslObjectPointer{Bucket: bucketPlaceholder(t.Map), Key: t.Map},
		},
		ItemSelector: map[string]string{"key.$": "$$.Map.Item.Value.key"},
		ItemBatcher: &aslItemBatcher{
			MaxItemsPerBatch: t.Batch(),
			BatchInput:       map[string]string{"run_id.$": "$$.Execution.Name"},
		},
		ItemProcessor: &aslProcessor{
			ProcessorConfig: aslProcessorConfig{Mode: "DISTRIBUTED", ExecutionType: "STANDARD"},
			StartAt:         partsStateName(t.Name),
			States:          aslStates{{partsStateName(t.Name), parts}},
		},
		MaxConcurrency:             min(t.MaxConcurrency, MaxMapConcurrency),
		ToleratedFailurePercentage: mapTolerance(t.Task),
		ResultWriter: &aslResultWriter{
			Resource:   s3PutObject,
			Parameters: aslResultPrefix{Bucket: bucketPlaceholder(out), Prefix: mapResultsPrefix(out)},
		},
		Next: commitStateName(t.Name),
	}
	commit := taskState(t, aslPayload{RunID: "$$.Execution.Name", Commit: true})
	commit.Comment = fmt.Sprintf("Commits task %s's parts as the new versions of %s.", t.Name, compile.List(t.Writes))
	return aslStates{{t.Name, m}, {commitStateName(t.Name), commit}}
}

// mapped returns the datasets the definition names by bucketPlaceholder,
// in the order tasks name them: each map task's mapped input and first
// output.
func mapped(tasks []taskDecl) []string {
	var out []string
	for _, t := range tasks {
		if t.Map == "" {
			continue
		}
		for _, d := range []string{t.Map, t.Writes[0]} {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}

// taskState is the Task state that invokes t's function with payload and
// ends its branch.
func taskState(t taskDecl, payload aslPayload) aslState {
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
		Parameters:     &aslInvocation{FunctionName: t.FunctionName, Payload: payload},
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

// mapTolerance is the ToleratedFailurePercentage of t's Distributed Map.
// The map counts a failed child as a failure of every item of its batch,
// though one bad part fails it, so the map tolerates tolerated_failures
// times the batch size (at most 100%): it then fails only when more parts
// than tolerated certainly failed, and otherwise the commit applies the
// exact rule to the parts that did not stage their outputs, as on every
// other target.
func mapTolerance(t *compile.Task) int {
	return int(math.Ceil(min(100, t.ToleratedFailures*float64(t.Batch()))))
}
