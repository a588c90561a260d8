package aws

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/aws/internal/sfntest"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

func TestDefinition(t *testing.T) {
	// a -> (b, c) -> d, where only b has retries.
	p := glacier.New("diamond")
	for _, d := range []string{"raw", "mid", "left", "right", "out"} {
		ds := glacier.Dataset{Name: d, Storage: glacier.ObjectStorage{}}
		if d == "raw" {
			ds.Source = "in.csv"
		}
		require.NoError(t, p.AddDataset(ds))
	}
	for _, task := range []glacier.Task{
		{Name: "a", Inputs: []string{"raw"}, Outputs: []string{"mid"}},
		{Name: "b", Inputs: []string{"mid"}, Outputs: []string{"left"}, Retries: 3},
		{Name: "c", Inputs: []string{"mid"}, Outputs: []string{"right"}},
		{Name: "d", Inputs: []string{"left", "right"}, Outputs: []string{"out"}},
	} {
		task.Module = task.Name + ".wasm"
		task.Compute = glacier.Serverless{Timeout: 100}
		require.NoError(t, p.AddTask(task))
	}
	dep, probs := designFor(t, p, Options{Dir: project(t)})
	require.NoError(t, probs.Err())
	def, err := target{}.Definition(dep)
	require.NoError(t, err)
	raw := def.Data

	var sm struct {
		StartAt string
		States  map[string]state
	}
	require.NoError(t, json.Unmarshal(raw, &sm))
	assert.Equal(t, "a", sm.StartAt)
	require.Len(t, sm.States, 3)
	a, wave, d := sm.States["a"], sm.States["Wave 2"], sm.States["d"]
	assert.Equal(t, "Task", a.Type)
	assert.Equal(t, "Wave 2", a.Next)
	assert.Equal(t, "Parallel", wave.Type)
	assert.Equal(t, "d", wave.Next)
	assert.True(t, d.End)
	require.Len(t, wave.Branches, 2)
	for i, name := range []string{"b", "c"} {
		br := wave.Branches[i]
		assert.Equal(t, name, br.StartAt)
		require.Len(t, br.States, 1)
		assert.True(t, br.States[name].End)
	}
	b, c := wave.Branches[0].States["b"], wave.Branches[1].States["c"]

	for name, st := range map[string]state{"a": a, "b": b, "c": c, "d": d} {
		assert.Equal(t, lambdaInvoke, st.Resource, name)
		assert.Equal(t, "diamond-"+name, st.Parameters.FunctionName, name)
		assert.Equal(t, "$$.Execution.Name", st.Parameters.Payload["run_id.$"], name)
		assert.Equal(t, 160, st.TimeoutSeconds, name)
		assert.True(t, st.hasNullResultPath, "%s discards its result", name)
		require.NotEmpty(t, st.Retry, name)
		assert.Equal(t, lambdaServiceErrors, st.Retry[0].ErrorEquals, name)
	}
	assert.True(t, wave.hasNullResultPath)
	require.Len(t, b.Retry, 3)
	assert.Equal(t, retrier{ErrorEquals: []string{"Glacier.StorageDenied", "Glacier.Contract"}, MaxAttempts: 0}, b.Retry[1],
		"a refusal of the storage and a broken contract are never retried, and are named before States.ALL")
	assert.Equal(t, retrier{ErrorEquals: []string{"States.ALL"}, IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2}, b.Retry[2])
	assert.Len(t, c.Retry, 1, "no retries asked, none beyond Lambda's service errors")

	// States appear in the order they run.
	assert.Less(t, bytes.Index(raw, []byte(`"a": {`)), bytes.Index(raw, []byte(`"Wave 2": {`)))
	assert.Less(t, bytes.Index(raw, []byte(`"Wave 2": {`)), bytes.Index(raw, []byte(`"d": {`)))
}

type retrier struct {
	ErrorEquals     []string
	IntervalSeconds int
	MaxAttempts     int
	BackoffRate     float64
}

type state struct {
	Type       string
	Resource   string
	Parameters struct {
		FunctionName string
		Payload      map[string]string
	}
	TimeoutSeconds int
	Retry          []retrier
	ResultPath     json.RawMessage
	Next           string
	End            bool
	Branches       []struct {
		StartAt string
		States  map[string]state
	}
	hasNullResultPath bool
}

func (s *state) UnmarshalJSON(b []byte) error {
	type plain state
	if err := json.Unmarshal(b, (*plain)(s)); err != nil {
		return err
	}
	s.hasNullResultPath = string(s.ResultPath) == "null"
	return nil
}

// etlWaves are examples/etl's waves, as the state machine must run them.
var etlWaves = [][]string{{"clean_orders", "clean_customers"}, {"enrich"}, {"daily_revenue", "customer_stats"}}

// TestStateMachineValidates checks the written definitions with
// asl-validator: examples/etl's, and examples/logs', whose map tasks are
// Distributed Maps.
func TestStateMachineValidates(t *testing.T) {
	node := sfntest.Find(t)
	out, _ := sharedETL(t)
	require.NoError(t, node.Validate(context.Background(), filepath.Join(out, "statemachine.asl.json")))
	require.NoError(t, node.Validate(context.Background(), filepath.Join(standInLogs(t), "statemachine.asl.json")))
}

// standInLogs compiles examples/logs with stand-in modules and artifacts
// and returns where.
func standInLogs(t *testing.T) string {
	t.Helper()
	m := logsExample(t)
	out := filepath.Join(t.TempDir(), "logs")
	c := withPacker(compile.Options{Dir: m.Dir, Out: out, Modules: compiletest.Modules(t, m.Pipeline)}, standIn)
	_, err := m.Pipeline.Compile(context.Background(), c)
	require.NoError(t, err)
	return out
}

// call is one Task state invocation, numbered in the order invocations
// started and ended.
type call struct {
	start, end int
	input      json.RawMessage
}

// recorder serves Task states for aws-local-stepfunctions: it records each
// invocation and holds the tasks of a wave until all of them have started,
// which only happens if they run in parallel.
type recorder struct {
	mu      sync.Mutex
	seq     int
	calls   map[string][]call
	arrived map[int]int
	all     map[int]chan struct{}
	wave    map[string]int
	sizes   map[int]int
	// fail makes a task's first n invocations fail, with errType.
	fail    map[string]int
	errType string
}

func newRecorder(waves [][]string) *recorder {
	r := &recorder{calls: map[string][]call{}, arrived: map[int]int{}, all: map[int]chan struct{}{},
		wave: map[string]int{}, sizes: map[int]int{}, fail: map[string]int{}}
	for i, w := range waves {
		r.all[i] = make(chan struct{})
		r.sizes[i] = len(w)
		for _, task := range w {
			r.wave[task] = i
		}
	}
	return r
}

func (r *recorder) handle(ctx context.Context, state string, input json.RawMessage) (json.RawMessage, error) {
	r.mu.Lock()
	r.seq++
	n := len(r.calls[state])
	r.calls[state] = append(r.calls[state], call{start: r.seq, input: input})
	failing := n < r.fail[state]
	w, first := r.wave[state], n == 0
	if first {
		if r.arrived[w]++; r.arrived[w] == r.sizes[w] {
			close(r.all[w])
		}
	}
	r.mu.Unlock()

	select {
	case <-r.all[w]:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	r.calls[state][n].end = r.seq
	if failing {
		return nil, &sfntest.TaskError{Type: r.errType, Message: state + " failed"}
	}
	return json.RawMessage(`{"status":"succeeded"}`), nil
}

func TestStateMachineRuns(t *testing.T) {
	node := sfntest.Find(t)
	out, _ := sharedETL(t)
	m, _ := etl(t)
	pl, err := plan.New(m.Pipeline, nil)
	require.NoError(t, err)
	require.Equal(t, etlWaves, pl.Waves)

	tests := []struct {
		name string
		fail map[string]int
		// errType is the failures' error type; "Boom" if empty.
		errType string
		status  string
		// calls is how often each task runs.
		calls map[string]int
	}{
		{name: "every task once, wave after wave", status: "SUCCEEDED",
			calls: map[string]int{"clean_orders": 1, "clean_customers": 1, "enrich": 1, "daily_revenue": 1, "customer_stats": 1}},
		{name: "retries from the manifest", fail: map[string]int{"clean_orders": 2}, status: "SUCCEEDED",
			calls: map[string]int{"clean_orders": 3, "clean_customers": 1, "enrich": 1, "daily_revenue": 1, "customer_stats": 1}},
		{name: "retries run out", fail: map[string]int{"clean_orders": 3}, status: "FAILED",
			calls: map[string]int{"clean_orders": 3, "clean_customers": 1}},
		{name: "no retries asked", fail: map[string]int{"enrich": 1}, status: "FAILED",
			calls: map[string]int{"clean_orders": 1, "clean_customers": 1, "enrich": 1}},
		{name: "a refusal of the storage is not retried", fail: map[string]int{"clean_orders": 1}, errType: "Glacier.StorageDenied",
			status: "FAILED", calls: map[string]int{"clean_orders": 1, "clean_customers": 1}},
		{name: "a storage error is", fail: map[string]int{"clean_orders": 1}, errType: "Glacier.Storage",
			status: "SUCCEEDED", calls: map[string]int{"clean_orders": 2, "clean_customers": 1, "enrich": 1, "daily_revenue": 1, "customer_stats": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The deadline only stops a hung run: a wave whose tasks ran
			// one after the other waits forever in the recorder.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			rec := newRecorder(pl.Waves)
			rec.fail = tt.fail
			rec.errType = cmp.Or(tt.errType, "Boom")
			res, err := node.Run(ctx, filepath.Join(out, "statemachine.asl.json"), sfntest.Options{
				ExecutionName: "run-42", Handler: rec.handle, NoRetryWait: true,
			})
			require.NoError(t, err)
			require.Equal(t, tt.status, res.Status, "%+v", res)
			if tt.status == "FAILED" {
				assert.Equal(t, rec.errType, res.Error)
			}
			got := map[string]int{}
			for task, calls := range rec.calls {
				got[task] = len(calls)
				for _, c := range calls {
					assert.JSONEq(t, `{"FunctionName":"etl-`+task+`","Payload":{"run_id":"run-42"}}`, string(c.input))
				}
			}
			assert.Equal(t, tt.calls, got)

			// Every task of a wave starts after every task of the waves
			// before it has ended.
			for i, wave := range pl.Waves {
				for _, task := range wave {
					for _, c := range rec.calls[task] {
						for _, earlier := range pl.Waves[:i] {
							for _, e := range earlier {
								for _, ec := range rec.calls[e] {
									assert.Less(t, ec.end, c.start, "%s started before %s ended", task, e)
								}
							}
						}
					}
				}
			}
		})
	}
}

// TestMapDefinition: a map task is a Distributed Map over its input's part
// list and a commit, in a wave of its own or as a branch of a wider one;
// the map's settings come from the manifest.
func TestMapDefinition(t *testing.T) {
	p := glacier.New("maps")
	obj := glacier.ObjectStorage{}
	for _, d := range []glacier.Dataset{
		{Name: "logs", Storage: obj, Source: "logs", Partitioned: true},
		{Name: "lookup", Storage: obj, Source: "in.csv"},
		{Name: "parsed", Storage: obj, Partitioned: true},
		{Name: "copy", Storage: obj},
		{Name: "days", Storage: obj, Partitioned: true},
	} {
		require.NoError(t, p.AddDataset(d))
	}
	for _, task := range []glacier.Task{
		{Name: "parse", Inputs: []string{"logs", "lookup"}, Outputs: []string{"parsed"}, Map: "logs",
			MapBatch: 20, MaxConcurrency: 7, ToleratedFailures: 2.5, Retries: 1},
		{Name: "other", Inputs: []string{"lookup"}, Outputs: []string{"copy"}},
		{Name: "daily", Inputs: []string{"parsed"}, Outputs: []string{"days"}, Map: "parsed"},
	} {
		task.Module = task.Name + ".wasm"
		task.Compute = glacier.Serverless{Timeout: 100}
		require.NoError(t, p.AddTask(task))
	}
	dir := project(t)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "logs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "logs", "a.log"), []byte("a"), 0o644))
	dep, probs := designFor(t, p, Options{Dir: dir})
	require.NoError(t, probs.Err())
	def, err := target{}.Definition(dep)
	require.NoError(t, err)

	var sm struct {
		StartAt string
		States  map[string]json.RawMessage
	}
	require.NoError(t, json.Unmarshal(def.Data, &sm))
	assert.Equal(t, "Wave 1", sm.StartAt)
	var wave struct {
		Type     string
		Next     string
		Branches []struct {
			StartAt string
			States  map[string]json.RawMessage
		}
	}
	require.NoError(t, json.Unmarshal(sm.States["Wave 1"], &wave))
	assert.Equal(t, "daily", wave.Next)
	require.Len(t, wave.Branches, 2)
	assert.Equal(t, "parse", wave.Branches[0].StartAt)

	parse := wave.Branches[0].States["parse"]
	assert.JSONEq(t, `{
	  "Type": "Map",
	  "Comment": "Runs task parse once per part of logs, 20 parts per child execution; parse commit commits the parts.",
	  "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
	    "Parameters": {"Bucket": "${bucket:logs}", "Key": "logs"}},
	  "ItemSelector": {"key.$": "$$.Map.Item.Value.key"},
	  "ItemBatcher": {"MaxItemsPerBatch": 20, "BatchInput": {"run_id.$": "$$.Execution.Name"}},
	  "ItemProcessor": {
	    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
	    "StartAt": "parse parts",
	    "States": {"parse parts": {
	      "Type": "Task", "Comment": "Runs a batch of up to 20 parts of logs.", "Resource": "arn:aws:states:::lambda:invoke",
	      "Parameters": {"FunctionName": "maps-parse", "Payload": {"run_id.$": "$.BatchInput.run_id", "parts.$": "$.Items[*].key"}},
	      "TimeoutSeconds": 160,
	      "Retry": [
	        {"ErrorEquals": ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
	         "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2},
	        {"ErrorEquals": ["Glacier.StorageDenied", "Glacier.Contract"], "MaxAttempts": 0},
	        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 1, "BackoffRate": 2}
	      ],
	      "ResultPath": null, "End": true}}
	  },
	  "MaxConcurrency": 7,
	  "ToleratedFailurePercentage": 50,
	  "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "${bucket:parsed}", "Prefix": "parsed.map-results"}},
	  "ResultPath": null,
	  "Next": "parse commit"
	}`, string(parse))

	var commit struct {
		Type       string
		Parameters struct {
			FunctionName string
			Payload      map[string]any
		}
		ResultPath json.RawMessage
		End        bool
	}
	require.NoError(t, json.Unmarshal(wave.Branches[0].States["parse commit"], &commit))
	assert.Equal(t, "Task", commit.Type)
	assert.True(t, commit.End, "the commit ends its branch")
	assert.Equal(t, "null", string(commit.ResultPath))
	assert.Equal(t, "maps-parse", commit.Parameters.FunctionName)
	assert.Equal(t, map[string]any{"run_id.$": "$$.Execution.Name", "commit": true}, commit.Parameters.Payload)

	// The wave of one map task: its Map, then its commit, which ends the
	// machine. No tolerance and no concurrency asked: neither is written.
	var daily map[string]any
	require.NoError(t, json.Unmarshal(sm.States["daily"], &daily))
	assert.Equal(t, "daily commit", daily["Next"])
	assert.NotContains(t, daily, "ToleratedFailurePercentage")
	assert.NotContains(t, daily, "MaxConcurrency")
	assert.Equal(t, float64(glacier.DefaultMapBatch), daily["ItemBatcher"].(map[string]any)["MaxItemsPerBatch"])
	var dailyCommit map[string]any
	require.NoError(t, json.Unmarshal(sm.States["daily commit"], &dailyCommit))
	assert.Equal(t, true, dailyCommit["End"])
	assert.Equal(t, []string{"logs", "parsed", "days"}, dep.DefinitionBuckets)
}
