package aws

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/providers/aws/internal/sfntest"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// etlWaves are examples/etl's waves, as the state machine must run them.
var etlWaves = [][]string{{"clean_orders", "clean_customers"}, {"enrich"}, {"daily_revenue", "customer_stats"}}

// TestStateMachineValidates checks the written definition with
// asl-validator.
func TestStateMachineValidates(t *testing.T) {
	node := sfntest.Find(t)
	out, _ := sharedETL(t)
	require.NoError(t, node.Validate(context.Background(), filepath.Join(out, "statemachine.asl.json")))
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
	// fail makes a task's first n invocations fail.
	fail map[string]int
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
		return nil, &sfntest.TaskError{Type: "Boom", Message: state + " failed"}
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
		name   string
		fail   map[string]int
		status string
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The deadline only stops a hung run: a wave whose tasks ran
			// one after the other waits forever in the recorder.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			rec := newRecorder(pl.Waves)
			rec.fail = tt.fail
			res, err := node.Run(ctx, filepath.Join(out, "statemachine.asl.json"), sfntest.Options{
				ExecutionName: "run-42", Handler: rec.handle, NoRetryWait: true,
			})
			require.NoError(t, err)
			require.Equal(t, tt.status, res.Status, "%+v", res)
			if tt.status == "FAILED" {
				assert.Equal(t, "Boom", res.Error)
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
