package sfntest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/providers/aws/internal/sfntest"
)

// mapDef runs "first", then the Distributed Map "m" over the items of
// s3://items/list.json, two per child, then "last". Each child's "work"
// gets the run's ID and its keys. %s is where ToleratedFailurePercentage
// goes.
const mapDef = `{
  "StartAt": "first",
  "States": {
    "first": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "f", "Payload": {"run_id.$": "$$.Execution.Name"}}, "ResultPath": null, "Next": "m"},
    "m": {
      "Type": "Map",
      "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket": "items", "Key": "list.json"}},
      "ItemSelector": {"key.$": "$$.Map.Item.Value.key", "index.$": "$$.Map.Item.Index"},
      "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"run_id.$": "$$.Execution.Name"}},
      "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "work",
        "States": {"work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
          "Parameters": {"FunctionName": "w", "Payload": {"run_id.$": "$.BatchInput.run_id", "parts.$": "$.Items[*].key"}},
          "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 1}],
          "ResultPath": null, "End": true}}
      },
      "MaxConcurrency": 2,
      %s
      "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "items", "Prefix": "results"}},
      "ResultPath": null,
      "Next": "last"
    },
    "last": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "l", "Payload": {"run_id.$": "$$.Execution.Name"}}, "ResultPath": null, "End": true}
  }
}`

func withTolerance(pct int) string {
	if pct == 0 {
		return strings.Replace(mapDef, "%s", "", 1)
	}
	return fmt.Sprintf(mapDef, fmt.Sprintf(`"ToleratedFailurePercentage": %d,`, pct))
}

type machine struct {
	StartAt string
	States  map[string]map[string]any
}

func parse(t *testing.T, def []byte) machine {
	t.Helper()
	var m machine
	require.NoError(t, json.Unmarshal(def, &m))
	return m
}

// TestInline: the Distributed Map becomes a Parallel state in its place,
// with its Next and null ResultPath; every other state, and the
// processor's states but for one added Catch, are as they were.
func TestInline(t *testing.T) {
	def := []byte(withTolerance(10))
	in, err := sfntest.Inline(def)
	require.NoError(t, err)
	before, after := parse(t, def), parse(t, in.Definition)
	assert.Equal(t, before.StartAt, after.StartAt)
	require.Len(t, after.States, len(before.States))
	for name, st := range before.States {
		if name != "m" {
			assert.Equal(t, st, after.States[name], "state %s is untouched", name)
		}
	}
	m := after.States["m"]
	assert.Equal(t, "Parallel", m["Type"])
	assert.Equal(t, "last", m["Next"])
	assert.Contains(t, m, "ResultPath")
	assert.Nil(t, m["ResultPath"])

	// The processor, found in the branch, is the original's but for the
	// Catch that counts a failed child.
	var branch struct {
		StartAt string
		States  map[string]map[string]any
	}
	b, err := json.Marshal(m["Branches"].([]any)[0])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &branch))
	assert.Equal(t, "m (ItemReader)", branch.StartAt)
	assert.Equal(t, map[string]any{"Bucket": "items", "Key": "list.json"}, branch.States["m (ItemReader)"]["Parameters"])
	assert.Equal(t, before.States["m"]["ItemSelector"], branch.States["m (ItemSelector)"]["ItemSelector"])
	process := branch.States["m (ItemProcessor)"]
	assert.Equal(t, float64(2), process["MaxConcurrency"])
	assert.Equal(t, map[string]any{"Items.$": "$$.Map.Item.Value", "BatchInput": map[string]any{"run_id.$": "$$.Execution.Name"}},
		process["ItemSelector"])
	work := process["ItemProcessor"].(map[string]any)["States"].(map[string]any)["work"].(map[string]any)
	catch := work["Catch"].([]any)
	require.Len(t, catch, 1)
	assert.Equal(t, "m (failed items)", catch[0].(map[string]any)["Next"])
	delete(work, "Catch")
	original := before.States["m"]["ItemProcessor"].(map[string]any)["States"].(map[string]any)["work"]
	assert.Equal(t, original, work)

	// A definition without a Distributed Map comes back as it was.
	plain, err := sfntest.Inline([]byte(def0))
	require.NoError(t, err)
	assert.Equal(t, def0, string(plain.Definition))
}

// def0 is sfntest_test.go's def.
var def0 = def

// TestInlineRefuses: what the transformation cannot emulate is refused,
// naming it.
func TestInlineRefuses(t *testing.T) {
	for _, tt := range []struct{ from, to, want string }{
		{`"MaxItemsPerBatch": 2,`, `"MaxItemsPerBatch": 2, "MaxInputBytesPerBatch": 1000,`, "ItemBatcher.MaxInputBytesPerBatch"},
		{`"InputType": "JSON"`, `"InputType": "CSV"`, "InputType CSV"},
		{`"ResultWriter"`, `"ToleratedFailureCount": 1, "ResultWriter"`, "field ToleratedFailureCount"},
		{`"ResultPath": null,
      "Next": "last"`, `"ResultPath": "$.out",
      "Next": "last"`, "ResultPath must be null"},
		{`"ResultPath": null, "End": true}}`, `"ResultPath": null, "Next": "no"}, "no": {"Type": "Fail"}}`, `"no" is a Fail state`},
	} {
		def := strings.Replace(withTolerance(0), tt.from, tt.to, 1)
		require.NotEqual(t, withTolerance(0), def, tt.want)
		_, err := sfntest.Inline([]byte(def))
		require.Error(t, err, tt.want)
		assert.Contains(t, err.Error(), `Distributed Map "m"`)
		assert.Contains(t, err.Error(), tt.want)
	}
}

// TestRunDistributedMap runs the inlined map: the items come from S3,
// selected and batched in order, each child with the run's ID from
// BatchInput, a batch of one key still a list; failures are counted per
// item against the tolerance.
func TestRunDistributedMap(t *testing.T) {
	node := sfntest.Find(t)
	s3 := func(_ context.Context, bucket, key string) ([]byte, error) {
		if bucket != "items" || key != "list.json" {
			return nil, fmt.Errorf("no object s3://%s/%s", bucket, key)
		}
		return []byte(`[{"key":"a","size":1},{"key":"b","size":1},{"key":"c","size":1},{"key":"d","size":1},{"key":"e","size":1}]`), nil
	}
	for _, tt := range []struct {
		name      string
		tolerance int
		fail      string // the first key of the batch that fails
		status    string
		error     string
		last      int
	}{
		{name: "every batch once", status: "SUCCEEDED", last: 1},
		{name: "a failed batch fails the map", fail: "e", status: "FAILED", error: sfntest.ExceedToleratedFailureThreshold},
		{name: "one item of five within 20%", tolerance: 20, fail: "e", status: "SUCCEEDED", last: 1},
		{name: "a batch of two fails two items: over 20%", tolerance: 20, fail: "a", status: "FAILED", error: sfntest.ExceedToleratedFailureThreshold},
		{name: "two items of five within 40%", tolerance: 40, fail: "c", status: "SUCCEEDED", last: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var batches [][]string
			calls := map[string]int{}
			h := func(_ context.Context, state string, input json.RawMessage) (json.RawMessage, error) {
				mu.Lock()
				defer mu.Unlock()
				calls[state]++
				if state != "work" {
					return nil, nil
				}
				var in struct {
					FunctionName string
					Payload      struct {
						RunID string   `json:"run_id"`
						Parts []string `json:"parts"`
					}
				}
				if err := json.Unmarshal(input, &in); err != nil {
					return nil, fmt.Errorf("input %s: %w", input, err)
				}
				if in.FunctionName != "w" || in.Payload.RunID != "run-1" {
					return nil, fmt.Errorf("input %s", input)
				}
				batches = append(batches, in.Payload.Parts)
				if in.Payload.Parts[0] == tt.fail {
					return nil, &sfntest.TaskError{Type: "Boom", Message: "bad part"}
				}
				return json.RawMessage(`{"ok":true}`), nil
			}
			res, err := node.Run(context.Background(), write(t, withTolerance(tt.tolerance)), sfntest.Options{
				ExecutionName: "run-1", Handler: h, S3: s3, NoRetryWait: true,
			})
			require.NoError(t, err)
			require.Equal(t, tt.status, res.Status, "%+v", res)
			assert.Equal(t, tt.error, res.Error)
			slices.SortFunc(batches, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
			assert.Equal(t, [][]string{{"a", "b"}, {"c", "d"}, {"e"}}, batches, "every batch ran once, in MaxItemsPerBatch")
			assert.Equal(t, nonzero(map[string]int{"first": 1, "work": 3, "last": tt.last}), nonzero(calls))
		})
	}
}

func nonzero(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		if v > 0 {
			out[k] = v
		}
	}
	return out
}
