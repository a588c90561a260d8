package lambdarie_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/testutil/lambdarie"
)

// echo builds testdata/echo into a directory of t's (from the build cache
// after the first time).
func echo(t *testing.T) string {
	return lambdarie.BuildBootstrap(t, "./testdata/echo")
}

type response struct {
	Echo       string            `json:"echo"`
	Env        map[string]string `json:"env"`
	RequestID  string            `json:"request_id"`
	DeadlineMS int64             `json:"deadline_ms"`
	PID        int               `json:"pid"`
	Cwd        string            `json:"cwd"`
}

func invoke(t *testing.T, fn *lambdarie.Function, req map[string]any) response {
	t.Helper()
	payload, err := json.Marshal(req)
	require.NoError(t, err)
	body, err := fn.Invoke(t.Context(), payload)
	require.NoError(t, err, "body: %s", body)
	var resp response
	require.NoError(t, json.Unmarshal(body, &resp), "body: %s", body)
	return resp
}

func TestFunction(t *testing.T) {
	t.Setenv("LAMBDARIE_HOST_ONLY", "must not reach the function")
	dir := echo(t)
	fn := lambdarie.Start(t, lambdarie.Options{
		BootstrapDir: dir,
		Env:          map[string]string{"GLACIER_TEST": "value=with=equals", "AWS_REGION": "eu-west-3"},
		MemoryMiB:    256,
	})

	t.Run("echo", func(t *testing.T) {
		start := time.Now()
		resp := invoke(t, fn, map[string]any{"echo": "hello"})
		t.Logf("first invocation, cold start included: %v", time.Since(start))
		assert.Equal(t, "hello", resp.Echo)
		assert.NotEmpty(t, resp.RequestID)
		abs, err := filepath.Abs(dir)
		require.NoError(t, err)
		assert.Equal(t, abs, resp.Cwd, "the bootstrap runs in its own directory, as in /var/task")
		assert.Greater(t, resp.DeadlineMS, int64(0))
		assert.LessOrEqual(t, resp.DeadlineMS, lambdarie.DefaultTimeout.Milliseconds())

		start = time.Now()
		again := invoke(t, fn, map[string]any{"echo": "again"})
		t.Logf("warm invocation: %v", time.Since(start))
		assert.Equal(t, "again", again.Echo)
		assert.Equal(t, resp.PID, again.PID, "a warm invocation reuses the bootstrap")
		assert.NotEqual(t, resp.RequestID, again.RequestID)
	})

	t.Run("environment", func(t *testing.T) {
		resp := invoke(t, fn, map[string]any{"env": []string{
			"GLACIER_TEST", "AWS_REGION", "LAMBDARIE_HOST_ONLY", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
			"AWS_LAMBDA_FUNCTION_TIMEOUT", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "AWS_EC2_METADATA_DISABLED",
		}})
		assert.Equal(t, "value=with=equals", resp.Env["GLACIER_TEST"])
		assert.Equal(t, "eu-west-3", resp.Env["AWS_REGION"], "Options.Env overrides the defaults")
		assert.NotContains(t, resp.Env, "LAMBDARIE_HOST_ONLY", "the test process's environment must not leak in")
		assert.Equal(t, "256", resp.Env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
		assert.Equal(t, "60", resp.Env["AWS_LAMBDA_FUNCTION_TIMEOUT"])
		assert.NotEmpty(t, resp.Env["AWS_LAMBDA_RUNTIME_API"])
		assert.Equal(t, "true", resp.Env["AWS_EC2_METADATA_DISABLED"])
		assert.NotEmpty(t, resp.Env["LAMBDA_TASK_ROOT"])
	})

	t.Run("handler error", func(t *testing.T) {
		body, err := fn.Invoke(t.Context(), []byte(`{"fail":"boom: bad input"}`))
		var fe *lambdarie.FunctionError
		require.ErrorAs(t, err, &fe, "body: %s", body)
		assert.Equal(t, "boom: bad input", fe.Message)
		assert.NotEmpty(t, fe.Type)
		assert.False(t, errors.Is(err, lambdarie.ErrTimedOut))
	})

	t.Run("output and reports", func(t *testing.T) {
		invoke(t, fn, map[string]any{"print": "marker-5f3a"})
		// The bound only keeps a broken capture from hanging the test.
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		require.NoError(t, fn.WaitOutput(ctx, "marker-5f3a\n"), "the bootstrap's stdout is captured")
		out := fn.Output()
		assert.Contains(t, out, "REPORT RequestId:")
		inits := fn.InitDurations()
		require.Len(t, inits, 1, "one bootstrap started so far; output:\n%s", out)
		assert.Greater(t, inits[0], time.Duration(0))
		t.Logf("INIT REPORT duration: %v", inits[0])
	})

	t.Run("bad payload", func(t *testing.T) {
		body, err := fn.Invoke(t.Context(), []byte(`not json`))
		var fe *lambdarie.FunctionError
		require.ErrorAs(t, err, &fe, "body: %s", body)
		t.Logf("non-JSON payload: %v", fe)
	})
}

func TestTimeout(t *testing.T) {
	fn := lambdarie.Start(t, lambdarie.Options{BootstrapDir: echo(t), Timeout: time.Second})
	before := invoke(t, fn, map[string]any{"echo": "before"})

	start := time.Now()
	body, err := fn.Invoke(t.Context(), []byte(`{"sleep_ms":60000}`))
	elapsed := time.Since(start)
	require.ErrorIs(t, err, lambdarie.ErrTimedOut, "body: %s", body)
	assert.Equal(t, "Task timed out after 1.00 seconds", string(body))
	// The handler sleeps for a minute; returning at all shows the emulator
	// cut it short.
	assert.Less(t, elapsed, 60*time.Second)
	t.Logf("timed-out invocation returned after %v", elapsed)

	after := invoke(t, fn, map[string]any{"echo": "after"})
	assert.Equal(t, "after", after.Echo)
	assert.NotEqual(t, before.PID, after.PID, "after a timeout the emulator starts a fresh bootstrap")
	assert.Len(t, fn.InitDurations(), 2, "a second INIT REPORT for the cold start after the timeout")
	assert.True(t, strings.Contains(fn.Output(), "Reset initiated: Timeout"), "output:\n%s", fn.Output())
}

func TestMissingEmulatorSkips(t *testing.T) {
	t.Setenv("GLACIER_REQUIRE_TOOLS", "0")
	dir := echo(t)
	reached := false
	t.Run("start", func(t *testing.T) {
		lambdarie.Start(t, lambdarie.Options{BootstrapDir: dir, Emulator: filepath.Join(t.TempDir(), "no-such-rie")})
		reached = true
	})
	assert.False(t, reached, "Start should skip the test when the emulator is missing")
}
