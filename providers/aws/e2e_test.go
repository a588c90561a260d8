package aws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/etlgolden"
	"github.com/glacier-pipeline/glacier/internal/testutil/fakes3"
	"github.com/glacier-pipeline/glacier/internal/testutil/lambdarie"
	"github.com/glacier-pipeline/glacier/internal/testutil/ziptest"
	"github.com/glacier-pipeline/glacier/providers/aws/internal/sfntest"
)

// TestEndToEnd deploys examples/etl as far as this machine can: the
// compiled state machine runs in aws-local-stepfunctions, each Task state
// invokes the task's own zip, unzipped and served by the Lambda Runtime
// Interface Emulator, and the datasets live in gofakes3, seeded with the
// source files the Pulumi program would upload. Every dataset the DAG
// writes must equal, byte for byte, the output glacier run gives
// (examples/etl/testdata/golden).
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs five functions under the Lambda emulator; run without -short")
	}
	node := sfntest.Find(t)
	out, comp := x86ETL(t)
	m, _ := etl(t)
	opts := x86Opts
	opts.Dir = m.Dir
	dep, probs := designFor(t, m.Pipeline, opts)
	require.NoError(t, probs.Err())

	// The buckets and source objects the program would create.
	s3 := fakes3.Start(t)
	bucket := map[string]string{}
	for _, d := range dep.Datasets {
		bucket[d.Name] = d.Logical + "-e2e"
		s3.CreateBucket(t, bucket[d.Name])
		if d.Source != "" {
			data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(d.SourceFile())))
			require.NoError(t, err)
			s3.PutObject(t, bucket[d.Name], d.Name, data)
		}
	}

	// One emulator per function, with the environment the program gives it.
	functions := map[string]*lambdarie.Function{} // by state name
	byName := map[string]string{}                 // function name -> task
	for _, task := range dep.Tasks {
		urls := map[string]string{}
		for _, d := range task.Touches() {
			urls[d] = "s3://" + bucket[d] + "/" + d
		}
		envJSON, err := json.Marshal(urls)
		require.NoError(t, err)
		env := s3.Env()
		env[fnspec.DatasetsEnv] = string(envJSON)
		zb, err := os.ReadFile(filepath.Join(out, task.Artifact))
		require.NoError(t, err)
		functions[task.Name] = lambdarie.Start(t, lambdarie.Options{
			BootstrapDir: ziptest.Extract(t, zb),
			Env:          env,
			Timeout:      time.Duration(task.Limits.TimeoutSecs) * time.Second,
			MemoryMiB:    task.FunctionMemoryMiB,
		})
		byName[task.FunctionName] = task.Name
	}

	var mu sync.Mutex
	responses := map[string]fnspec.Response{}
	handler := func(ctx context.Context, state string, input json.RawMessage) (json.RawMessage, error) {
		var in struct {
			FunctionName string
			Payload      json.RawMessage
		}
		if err := json.Unmarshal(input, &in); err != nil {
			return nil, err
		}
		if byName[in.FunctionName] != state {
			return nil, errors.New("state " + state + " invokes function " + in.FunctionName)
		}
		body, err := functions[state].Invoke(ctx, in.Payload)
		var fe *lambdarie.FunctionError
		if errors.As(err, &fe) {
			return nil, &sfntest.TaskError{Type: fe.Type, Message: fe.Message}
		}
		if err != nil {
			return nil, err
		}
		var resp fnspec.Response
		if err := json.Unmarshal(body, &resp); err != nil {
			return nil, err
		}
		mu.Lock()
		responses[state] = resp
		mu.Unlock()
		return body, nil
	}
	// The deadline only stops a hung run.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := node.Run(ctx, filepath.Join(out, "statemachine.asl.json"), sfntest.Options{
		ExecutionName: "e2e-run", Handler: handler,
	})
	require.NoError(t, err)
	require.Equal(t, "SUCCEEDED", res.Status, "%+v", res)

	for _, task := range dep.Tasks {
		resp, ok := responses[task.Name]
		require.True(t, ok, "task %s never ran", task.Name)
		assert.Equal(t, "succeeded", resp.Status)
		assert.Equal(t, task.Name, resp.Task)
		assert.Equal(t, "e2e-run", resp.RunID, "the execution's name is the run ID")
		for _, ds := range task.Writes {
			got, ok := s3.GetObject(t, bucket[ds], ds)
			require.True(t, ok, "%s wrote no %s", task.Name, ds)
			want := etlgolden.Output(t, ds)
			assert.True(t, bytes.Equal(want, got), "%s: %d bytes in S3, %d in its golden file", ds, len(got), len(want))
			sum := sha256.Sum256(want)
			assert.Equal(t, fnspec.OutputInfo{Size: int64(len(want)), SHA256: hex.EncodeToString(sum[:])}, resp.Outputs[ds])
		}
	}
	assert.Len(t, comp.Artifacts, len(dep.Tasks))
}
