package s3store_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/testutil/lambdarie"
)

// TestInLambda runs the driver inside a bootstrap under the Lambda Runtime
// Interface Emulator, configured only by the environment a function gets.
func TestInLambda(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Lambda bootstrap")
	}
	srv := start(t)
	fn := lambdarie.Start(t, lambdarie.Options{
		BootstrapDir: lambdarie.BuildBootstrap(t, "./testdata/copy"),
		Env:          srv.Env(),
	})
	for i, size := range []int{10, 20<<20 + 3} {
		in := bytes.Repeat([]byte{byte('a' + i)}, size)
		srv.PutObject(t, bucket, fmt.Sprintf("in-%d", i), in)
		req := fmt.Sprintf(`{"in":"s3://%s/in-%d","out":"s3://%s/out-%d"}`, bucket, i, bucket, i)
		body, err := fn.Invoke(t.Context(), []byte(req))
		require.NoError(t, err, "body: %s", body)
		var resp struct{ Bytes int }
		require.NoError(t, json.Unmarshal(body, &resp))
		assert.Equal(t, size, resp.Bytes)
		got, ok := srv.GetObject(t, bucket, fmt.Sprintf("out-%d", i))
		require.True(t, ok)
		assert.True(t, bytes.Equal(in, got), "output %d differs from its input", i)
	}

	body, err := fn.Invoke(t.Context(), []byte(`{"in":"s3://`+bucket+`/missing","out":"s3://`+bucket+`/never"}`))
	var fe *lambdarie.FunctionError
	require.ErrorAs(t, err, &fe, "body: %s", body)
	assert.Contains(t, fe.Message, "dataset not found")
	_, ok := srv.GetObject(t, bucket, "never")
	assert.False(t, ok)
	t.Logf("bootstrap start-up (INIT REPORT): %v", fn.InitDurations())
}
