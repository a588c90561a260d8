package sfntest_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/providers/aws/internal/sfntest"
)

// def runs "first", then "a" and "b" in parallel; "a" retries once.
const def = `{
  "StartAt": "first",
  "States": {
    "first": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "f", "Payload": {"run_id.$": "$$.Execution.Name"}}, "ResultPath": null, "Next": "both"},
    "both": {"Type": "Parallel", "ResultPath": null, "End": true, "Branches": [
      {"StartAt": "a", "States": {"a": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "a"}, "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 1}],
        "ResultPath": null, "End": true}}},
      {"StartAt": "b", "States": {"b": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "b"}, "ResultPath": null, "End": true}}}
    ]}
  }
}`

func write(t *testing.T, s string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "def.json")
	require.NoError(t, os.WriteFile(path, []byte(s), 0o644))
	return path
}

func TestValidate(t *testing.T) {
	node := sfntest.Find(t)
	ctx := context.Background()
	require.NoError(t, node.Validate(ctx, write(t, def)))

	bad := `{"StartAt": "x", "States": {"x": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "nowhere"}}}`
	err := node.Validate(ctx, write(t, bad))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nowhere")
}

func TestRun(t *testing.T) {
	node := sfntest.Find(t)
	var mu sync.Mutex
	calls := map[string]int{}
	var firstInput json.RawMessage
	h := func(_ context.Context, state string, input json.RawMessage) (json.RawMessage, error) {
		mu.Lock()
		defer mu.Unlock()
		calls[state]++
		switch {
		case state == "first":
			firstInput = input
		case state == "a" && calls[state] == 1:
			return nil, &sfntest.TaskError{Type: "Flaky", Message: "try again"}
		}
		return json.RawMessage(`{"ok":true}`), nil
	}
	res, err := node.Run(context.Background(), write(t, def), sfntest.Options{
		ExecutionName: "run-1", Input: json.RawMessage(`{"k":"v"}`), Handler: h, NoRetryWait: true,
	})
	require.NoError(t, err)
	assert.Equal(t, "SUCCEEDED", res.Status, "%+v", res)
	assert.JSONEq(t, `{"k":"v"}`, string(res.Output), "ResultPath null keeps the input")
	assert.Equal(t, map[string]int{"first": 1, "a": 2, "b": 1}, calls)
	assert.JSONEq(t, `{"FunctionName":"f","Payload":{"run_id":"run-1"}}`, string(firstInput))
}

func TestRunFails(t *testing.T) {
	node := sfntest.Find(t)
	h := func(_ context.Context, state string, _ json.RawMessage) (json.RawMessage, error) {
		if state == "b" {
			return nil, &sfntest.TaskError{Type: "Boom", Message: "b broke"}
		}
		return nil, nil
	}
	res, err := node.Run(context.Background(), write(t, def), sfntest.Options{Handler: h})
	require.NoError(t, err)
	assert.Equal(t, "FAILED", res.Status)
	assert.Equal(t, "Boom", res.Error)
	assert.Contains(t, res.Cause, "b broke")
}
