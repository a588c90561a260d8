package lambdazip_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/providers/aws/lambdazip"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// cacheDir holds the bootstraps and precompiled modules built by this test
// process, so each bootstrap is built once per process.
var cacheDir string

func TestMain(m *testing.M) {
	// The local sandbox's pool runs its workers from this program.
	wasmrt.ServeWorkerIfRequested()
	dir, err := os.MkdirTemp("", "glacier-lambdazip-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cacheDir = dir
	code := m.Run()
	if local.pool != nil {
		local.pool.Close()
	}
	wasmbuild.Cleanup()
	os.RemoveAll(dir)
	os.Exit(code)
}

// local is the sandbox glacier run uses, shared by the tests of this
// process.
var local struct {
	sync.Mutex
	pool *wasmrt.Pool
}

// localPool returns the local sandbox, started on first use. Its
// compilation cache persists between runs, like Go's build cache.
func localPool(tb testing.TB) *wasmrt.Pool {
	tb.Helper()
	local.Lock()
	defer local.Unlock()
	if local.pool == nil {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		local.pool, err = wasmrt.NewPool(context.Background(), wasmrt.PoolOptions{
			Workers: 1, CacheDir: filepath.Join(base, "glacier", "lambdazip-test"),
		})
		require.NoError(tb, err)
	}
	return local.pool
}

// repoRoot is the directory holding the module's go.mod.
func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	require.NoError(tb, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(tb, parent, dir, "no go.mod above the working directory")
		dir = parent
	}
}

// requireEmulator skips the test when the Lambda Runtime Interface Emulator
// is not installed, or fails it when GLACIER_REQUIRE_TOOLS=1 says every
// tool must be there.
func requireEmulator(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(repoRoot(tb), ".tools", "bin", "aws-lambda-rie")
	if _, err := os.Stat(path); err != nil {
		msg := fmt.Sprintf("the Lambda Runtime Interface Emulator is not installed (%v); run scripts/install-test-tools.sh", err)
		if os.Getenv("GLACIER_REQUIRE_TOOLS") == "1" {
			tb.Fatal(msg + " (GLACIER_REQUIRE_TOOLS=1 forbids skipping)")
		}
		tb.Skip(msg)
	}
	return path
}

// fixture builds testdata/wasm/<name> and returns the module's path.
func fixture(tb testing.TB, name string) string {
	tb.Helper()
	return wasmbuild.Build(tb, filepath.Join(repoRoot(tb), "testdata", "wasm", name))
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fixtureSpec is the spec of a fixture run as a one-output task.
func fixtureSpec(tb testing.TB, name string, outputs ...string) fnspec.TaskSpec {
	tb.Helper()
	wasm, err := os.ReadFile(fixture(tb, name))
	require.NoError(tb, err)
	return fnspec.TaskSpec{
		ABI: abi.Version, Pipeline: "hostile", Task: name, ModuleSHA256: sha(wasm),
		Outputs: outputs, MemoryMiB: 64, TimeoutSecs: 30,
	}
}

// pack packages a task for this machine's architecture.
func pack(tb testing.TB, spec fnspec.TaskSpec, wasmPath string, edit func(*lambdazip.PackageOptions)) []byte {
	tb.Helper()
	opts := lambdazip.PackageOptions{Arch: lambdazip.ArchX86_64, Spec: spec, WasmPath: wasmPath, CacheDir: cacheDir}
	if edit != nil {
		edit(&opts)
	}
	zb, err := lambdazip.Package(context.Background(), opts)
	require.NoError(tb, err)
	return zb
}
