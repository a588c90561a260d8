package gcfbundle_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/providers/gcp/internal/gcftest"
	"github.com/glacier-pipeline/glacier/providers/internal/fnrt"
)

// TestMain lets the test binary serve as a wasmrt.Pool worker, for the
// local runs the functions are compared with.
func TestMain(m *testing.M) {
	fnrt.ServeIfRequested()
	code := m.Run()
	wasmbuild.Cleanup()
	gcftest.Cleanup()
	os.Exit(code)
}

// The helpers of gcftest, by the names these tests use.
type (
	builtBundle = gcftest.Bundle
	function    = gcftest.Function
)

var (
	workDir     = gcftest.WorkDir
	needGo      = gcftest.NeedGo
	buildBundle = gcftest.Build
	launch      = gcftest.Launch
	serve       = gcftest.Serve
	datasetsEnv = gcftest.DatasetsEnv
)

// testCacheDir keeps the module checker and precompiled modules between
// test runs (see gcftest.CacheDir).
func testCacheDir(testing.TB) string { return gcftest.CacheDir() }

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// specFor returns the spec of a task running the module at wasmPath.
func specFor(tb testing.TB, task, wasmPath string, inputs, outputs []string) fnspec.TaskSpec {
	tb.Helper()
	wasm, err := os.ReadFile(wasmPath)
	require.NoError(tb, err)
	return fnspec.TaskSpec{
		ABI: abi.Version, Pipeline: "test", Task: task, ModuleSHA256: sha(wasm),
		Inputs: inputs, Outputs: outputs, MemoryMiB: 128, TimeoutSecs: 60,
	}
}
