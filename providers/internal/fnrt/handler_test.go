package fnrt_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/syncbuf"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/providers/aws/s3store"
	"github.com/glacier-pipeline/glacier/providers/internal/fnrt"
	"github.com/glacier-pipeline/glacier/storage/filestore"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// scratch holds what the tests of this process share.
var scratch string

func TestMain(m *testing.M) {
	fnrt.ServeIfRequested()
	dir, err := os.MkdirTemp("", "glacier-fnrt-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	scratch = dir
	code := m.Run()
	wasmbuild.Cleanup()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fixture builds testdata/wasm/<name> and returns the module's path.
func fixture(tb testing.TB, name string) string {
	tb.Helper()
	return wasmbuild.Build(tb, filepath.Join("..", "..", "..", "testdata", "wasm", name))
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// precompiled returns a compilation cache holding the fixture's machine
// code, made once per test process by a worker of this very program (its
// wazero, and how wasmrt prepares modules), as the packagers' module
// checker makes it for an artifact.
func precompiled(tb testing.TB, name string) string {
	tb.Helper()
	dir := filepath.Join(scratch, "precompiled", name)
	if _, err := os.Stat(dir); err == nil {
		return dir
	}
	ctx := context.Background()
	pool, err := wasmrt.NewPool(ctx, wasmrt.PoolOptions{Workers: 1, CacheDir: dir})
	require.NoError(tb, err)
	defer pool.Close()
	spec := moduleSpec(tb, name, fixture(tb, name))
	require.NoError(tb, pool.Compile(ctx, wasmrt.Job{Task: name, ModulePath: fixture(tb, name), ModuleSHA256: spec.ModuleSHA256}))
	return dir
}

// moduleSpec is the spec of the module at path run as task name.
func moduleSpec(tb testing.TB, name, path string) fnspec.TaskSpec {
	tb.Helper()
	wasm, err := os.ReadFile(path)
	require.NoError(tb, err)
	return fnspec.TaskSpec{ABI: abi.Version, Pipeline: "test", Task: name, ModuleSHA256: sha(wasm), MemoryMiB: 64, TimeoutSecs: 30}
}

// artifact lays out a function directory for a fixture, with its
// precompiled cache, and returns it with the spec written into it.
func artifact(t testing.TB, name string, edit func(*fnspec.TaskSpec)) (string, fnspec.TaskSpec) {
	t.Helper()
	wasm, err := os.ReadFile(fixture(t, name))
	require.NoError(t, err)
	dir := t.TempDir()
	spec := fnspec.TaskSpec{
		ABI: abi.Version, Pipeline: "test", Task: name, ModuleSHA256: sha(wasm),
		Outputs: []string{"out"}, MemoryMiB: 64, TimeoutSecs: 30,
	}
	if edit != nil {
		edit(&spec)
	}
	data, err := spec.Encode()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, fnspec.SpecFile), data, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, fnspec.ModuleFile), wasm, 0o644))
	require.NoError(t, os.CopyFS(filepath.Join(dir, fnspec.PrecompiledDir), os.DirFS(precompiled(t, name))))
	return dir, spec
}

// fileURLs maps each dataset to a file under dir.
func fileURLs(dir string, names ...string) map[string]string {
	urls := map[string]string{}
	for _, n := range names {
		urls[n] = filestore.URL(filepath.Join(dir, n))
	}
	return urls
}

func newHandler(t testing.TB, opts fnrt.Options) *fnrt.Handler {
	t.Helper()
	if opts.ScratchDir == "" {
		opts.ScratchDir = t.TempDir()
	}
	h, err := fnrt.New(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, h.Close()) })
	return h
}

var runIDForm = regexp.MustCompile(`^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}$`)

func TestInvokeCopy(t *testing.T) {
	fn, _ := artifact(t, "copy", func(s *fnspec.TaskSpec) {
		s.Inputs = []string{"in"}
		s.Params = map[string]string{"suffix": "!"}
	})
	data := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(data, "in"), []byte("hello"), 0o644))
	log := &syncbuf.Buffer{}
	h := newHandler(t, fnrt.Options{Dir: fn, Datasets: fileURLs(data, "in", "out"), Log: log})

	resp, err := h.Invoke(context.Background(), fnspec.Request{RunID: "run-1"})
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(data, "out"))
	require.NoError(t, err)
	assert.Equal(t, "hello!", string(got))
	assert.Equal(t, "copy", resp.Task)
	assert.Equal(t, "run-1", resp.RunID)
	assert.Equal(t, "succeeded", resp.Status)
	assert.Equal(t, map[string]fnspec.OutputInfo{"out": {Size: 6, SHA256: sha([]byte("hello!"))}}, resp.Outputs)
	// Invoke returns only once the task's log is forwarded.
	assert.Contains(t, log.String(), "[copy] copied 5 bytes\n")

	// The response is the JSON the platforms send back.
	b, err := json.Marshal(resp)
	require.NoError(t, err)
	var shape map[string]any
	require.NoError(t, json.Unmarshal(b, &shape))
	for _, k := range []string{"task", "run_id", "status", "outputs", "duration_ms"} {
		assert.Contains(t, shape, k)
	}

	// A second invocation reuses the warm worker and makes up a run id.
	resp, err = h.Invoke(context.Background(), fnspec.Request{})
	require.NoError(t, err)
	assert.Regexp(t, runIDForm, resp.RunID)
}

func TestInvokeFailures(t *testing.T) {
	for _, tc := range []struct {
		fixture  string
		edit     func(*fnspec.TaskSpec)
		deadline time.Duration // of the invocation's context; zero for none
		kind     fnspec.Kind
		sentinel error
		msg      []string
	}{
		{fixture: "errorpartial", kind: fnspec.KindTaskFailed,
			msg: []string{`task "errorpartial" failed: row 7: bad currency code (exit code 1)`, "nothing was committed"}},
		{fixture: "panicpartial", kind: fnspec.KindTaskFailed, msg: []string{"exit", "code 2", "nothing was committed"}},
		{fixture: "exit3", kind: fnspec.KindTaskFailed, msg: []string{"exited with code 3", "nothing was committed"}},
		{fixture: "membomb", kind: fnspec.KindMemoryLimit, sentinel: wasmrt.ErrMemoryLimit,
			msg: []string{"ran out of memory", "64 MiB", "nothing was committed"}},
		{fixture: "undeclared", kind: fnspec.KindTaskFailed, msg: []string{`"secret"`, "nothing was committed"}},
		{fixture: "loop", deadline: 3 * time.Second, kind: fnspec.KindTimeout, sentinel: wasmrt.ErrTimeout,
			msg: []string{"timed out", "before the function's deadline", "nothing was committed"}},
		{fixture: "loop", edit: func(s *fnspec.TaskSpec) { s.TimeoutSecs = 1 }, kind: fnspec.KindTimeout, sentinel: wasmrt.ErrTimeout,
			msg: []string{"timed out after 1s", "nothing was committed"}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			fn, _ := artifact(t, tc.fixture, tc.edit)
			data := t.TempDir()
			log := &syncbuf.Buffer{}
			// A wide margin, so a slow machine still stops the task well
			// before the deadline.
			margin := func(time.Duration) time.Duration { return 1500 * time.Millisecond }
			h := newHandler(t, fnrt.Options{Dir: fn, Datasets: fileURLs(data, "out"), Log: log, StopMargin: margin})
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			_, err := h.Invoke(ctx, fnspec.Request{RunID: "r"})
			require.Error(t, err)
			var fe *fnrt.Error
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.kind, fe.Kind, "%v", err)
			assert.Equal(t, tc.fixture, fe.Task)
			assert.Equal(t, "r", fe.RunID)
			if tc.sentinel != nil {
				assert.ErrorIs(t, err, tc.sentinel)
			}
			for _, m := range tc.msg {
				assert.Contains(t, err.Error(), m)
			}
			if tc.deadline > 0 {
				assert.NoError(t, ctx.Err(), "the task must be stopped before the invocation's deadline")
			}
			entries, err := os.ReadDir(data)
			require.NoError(t, err)
			for _, e := range entries {
				assert.True(t, strings.HasSuffix(e.Name(), filestore.StagedSuffix), "committed %s", e.Name())
			}
			assert.Contains(t, log.String(), `glacier: run "r" failed: `)
		})
	}
}

func TestInvokeAfterTimeoutRecovers(t *testing.T) {
	fn, _ := artifact(t, "loop", func(s *fnspec.TaskSpec) { s.TimeoutSecs = 1 })
	h := newHandler(t, fnrt.Options{Dir: fn, Datasets: fileURLs(t.TempDir(), "out")})
	for range 2 { // the second run gets a fresh worker
		_, err := h.Invoke(context.Background(), fnspec.Request{})
		assert.ErrorIs(t, err, wasmrt.ErrTimeout)
	}
}

func TestGuestSeesNoEnvironment(t *testing.T) {
	t.Setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
	fn, _ := artifact(t, "environ", func(s *fnspec.TaskSpec) { s.Outputs = []string{"env"} })
	data := t.TempDir()
	h := newHandler(t, fnrt.Options{Dir: fn, Datasets: fileURLs(data, "env")})
	_, err := h.Invoke(context.Background(), fnspec.Request{})
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(data, "env"))
	require.NoError(t, err)
	assert.Equal(t, "environ:\nargs:environ\n", string(got))
}

func TestPlatformMemoryCapsSandbox(t *testing.T) {
	fn, _ := artifact(t, "copy", func(s *fnspec.TaskSpec) { s.Inputs = []string{"in"}; s.MemoryMiB = 256 })
	log := &syncbuf.Buffer{}
	h := newHandler(t, fnrt.Options{Dir: fn, Datasets: fileURLs(t.TempDir(), "in", "out"), PlatformMemoryMiB: 256, Log: log})
	assert.Equal(t, uint64(256-fnspec.HostReserveMiB)<<20, h.MemoryLimit())
	assert.Contains(t, log.String(), "give the function 352 MiB")

	h = newHandler(t, fnrt.Options{Dir: fn, Datasets: fileURLs(t.TempDir(), "in", "out"), PlatformMemoryMiB: fnspec.FunctionMemoryMiB(256)})
	assert.Equal(t, uint64(256)<<20, h.MemoryLimit())
}

func TestNewRefusesBadDeployments(t *testing.T) {
	fn, _ := artifact(t, "copy", func(s *fnspec.TaskSpec) { s.Inputs = []string{"in"} })
	good := `{"in":"s3://b/in","out":"s3://b/out"}`
	for _, tc := range []struct {
		name string
		env  string
		want []string
	}{
		{"unset", "", []string{"GLACIER_DATASETS is not set"}},
		{"not json", "in=s3://b/in", []string{"not a JSON object"}},
		{"missing", `{"in":"s3://b/in"}`, []string{`no URL for output dataset "out"`}},
		{"extra", `{"in":"s3://b/in","out":"s3://b/out","secret":"s3://b/s"}`, []string{`names dataset "secret"`, "neither reads nor writes"}},
		{"relative", `{"in":"in","out":"s3://b/out"}`, []string{`URL "in" of dataset "in" is not an absolute URL`}},
		{"every problem", `{"secret":"s3://b/s"}`, []string{`"in"`, `"out"`, `"secret"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(fnspec.DatasetsEnv, tc.env)
			_, err := fnrt.New(context.Background(), fnrt.Options{Dir: fn, ScratchDir: t.TempDir()})
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	t.Run("from the environment", func(t *testing.T) {
		t.Setenv(fnspec.DatasetsEnv, good)
		newHandler(t, fnrt.Options{Dir: fn})
	})

	corrupt := t.TempDir()
	require.NoError(t, os.CopyFS(corrupt, os.DirFS(fn)))
	require.NoError(t, os.WriteFile(filepath.Join(corrupt, fnspec.ModuleFile), []byte("\x00asm\x01\x00\x00\x00"), 0o644))
	_, err := fnrt.New(context.Background(), fnrt.Options{Dir: corrupt, Datasets: fileURLs(t.TempDir(), "in", "out"), ScratchDir: t.TempDir()})
	assert.ErrorContains(t, err, "but the spec says")

	_, err = fnrt.New(context.Background(), fnrt.Options{Dir: t.TempDir(), ScratchDir: t.TempDir()})
	assert.ErrorContains(t, err, fnspec.SpecFile)
}

// scratchFiles lists the regular files and symbolic links under dir.
func scratchFiles(t *testing.T, dir string) (regular, links int) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.Type()&fs.ModeSymlink != 0:
			links++
		case d.Type().IsRegular():
			regular++
		}
		return nil
	}))
	return regular, links
}

func TestPrecompiledCacheReadOnly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		shipped string // fixture whose machine code the artifact ships
		hit     bool
	}{
		{"hit", "copy", true},
		{"miss", "errorpartial", false}, // another module's code: a miss
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn, _ := artifact(t, "copy", func(s *fnspec.TaskSpec) { s.Inputs = []string{"in"} })
			cache := filepath.Join(fn, fnspec.PrecompiledDir)
			require.NoError(t, os.RemoveAll(cache))
			require.NoError(t, os.CopyFS(cache, os.DirFS(precompiled(t, tc.shipped))))
			before := tree(t, fn)
			readOnly(t, fn)
			data := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(data, "in"), []byte("x"), 0o644))
			scratch := t.TempDir()
			h := newHandler(t, fnrt.Options{Dir: fn, Datasets: fileURLs(data, "in", "out"), ScratchDir: scratch})
			_, err := h.Invoke(context.Background(), fnspec.Request{})
			require.NoError(t, err)
			assert.Equal(t, before, tree(t, fn), "the function's directory must not change")
			regular, links := scratchFiles(t, scratch)
			assert.Positive(t, links, "the shipped cache is linked, not copied")
			if tc.hit {
				assert.Zero(t, regular, "a hit writes nothing")
			} else {
				assert.Equal(t, 1, regular, "a miss compiles and caches the module in the scratch directory")
			}
		})
	}
}

// tree maps each file under dir to the hash of its contents.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = sha(b)
		return err
	}))
	return files
}

// readOnly makes the tree under dir read-only until the test ends, as
// Lambda mounts /var/task. (It binds nobody running as root; the tests
// then check that nothing under dir changed.)
func readOnly(t *testing.T, dir string) {
	t.Helper()
	var dirs []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return err
	}))
	for _, d := range dirs {
		require.NoError(t, os.Chmod(d, 0o555))
	}
	t.Cleanup(func() {
		for _, d := range dirs {
			_ = os.Chmod(d, 0o755)
		}
	})
}

// TestSpecSpeaksTheSandboxsVersions checks that the contract, which checks
// a spec's ABI version without linking the sandbox, accepts exactly the
// host ABI versions the sandbox speaks.
func TestSpecSpeaksTheSandboxsVersions(t *testing.T) {
	spec := moduleSpec(t, "copy", fixture(t, "copy"))
	for _, v := range wasmrt.Versions() {
		spec.ABI = v
		assert.NoError(t, spec.Validate(), "version %d", v)
	}
	for _, v := range []int{0, slices.Max(wasmrt.Versions()) + 1} {
		spec.ABI = v
		assert.ErrorContains(t, spec.Validate(), "host ABI version", "version %d", v)
	}
}

// useS3 makes the s3 scheme reach the server client talks to for the
// test: in this process, and in the sandbox's workers through env (nil
// leaves their environment as it is).
func useS3(t *testing.T, client *s3.Client, env map[string]string) {
	t.Helper()
	drv, err := s3store.New(client, nil)
	require.NoError(t, err)
	s3store.SetDefault(drv)
	t.Cleanup(func() { s3store.SetDefault(nil) })
	for k, v := range env {
		t.Setenv(k, v)
	}
}
