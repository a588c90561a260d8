package wasmrt_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

// cacheDir is the compilation cache shared by the tests of this process.
var cacheDir string

func TestMain(m *testing.M) {
	wasmrt.ServeWorkerIfRequested()
	// The compilation cache persists between test runs (like Go's build
	// cache), so only the first run pays for compiling the fixtures.
	if dir, err := os.UserCacheDir(); err == nil {
		cacheDir = filepath.Join(dir, "glacier", "wasmrt-test")
	} else {
		cacheDir = filepath.Join(os.TempDir(), "glacier-wasmrt-test")
	}
	code := m.Run()
	closeShared()
	wasmbuild.Cleanup()
	os.Exit(code)
}

// fixture builds testdata/wasm/<name> and returns the module's path.
func fixture(tb testing.TB, name string) string {
	tb.Helper()
	return wasmbuild.Build(tb, filepath.Join("..", "testdata", "wasm", name))
}

func fixtureBytes(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(fixture(tb, name))
	require.NoError(tb, err)
	return b
}

var shared struct {
	mu   sync.Mutex
	rt   *wasmrt.Runtime
	pool *wasmrt.Pool
}

// sharedRuntime returns one Runtime for the whole test process, so each
// fixture is compiled once.
func sharedRuntime(tb testing.TB) *wasmrt.Runtime {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.rt == nil {
		rt, err := wasmrt.NewRuntimeWithConfig(context.Background(), wasmrt.NewConfig().WithCacheDir(cacheDir))
		require.NoError(tb, err)
		shared.rt = rt
	}
	return shared.rt
}

// sharedPool returns one two-worker Pool for the whole test process.
func sharedPool(tb testing.TB) *wasmrt.Pool {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.pool == nil {
		p, err := wasmrt.NewPool(context.Background(), wasmrt.PoolOptions{Workers: 2, CacheDir: cacheDir})
		require.NoError(tb, err)
		shared.pool = p
	}
	return shared.pool
}

func closeShared() {
	if shared.pool != nil {
		shared.pool.Close()
	}
	if shared.rt != nil {
		shared.rt.Close(context.Background())
	}
}

func load(tb testing.TB, name string) *wasmrt.Module {
	tb.Helper()
	m, err := sharedRuntime(tb).Load(context.Background(), fixtureBytes(tb, name))
	require.NoError(tb, err)
	return m
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// memStorage is an in-memory Storage that records what was committed and
// discarded, so tests can check that a failed task leaves nothing behind.
type memStorage struct {
	mu       sync.Mutex
	data     map[string][]byte
	open     int // stages neither committed nor discarded
	commits  int
	discards int
	// reader, when set, replaces the reader of every input.
	reader func(name string, data []byte) io.Reader
}

func newMemStorage(data map[string]string) *memStorage {
	s := &memStorage{data: map[string][]byte{}}
	for k, v := range data {
		s.data[k] = []byte(v)
	}
	return s
}

func (s *memStorage) Open(_ context.Context, name string) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.data[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", storage.ErrNotFound, name)
	}
	if s.reader != nil {
		return io.NopCloser(s.reader(name, b)), nil
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (s *memStorage) Stage(_ context.Context, name string) (storage.Staged, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open++
	return &memStaged{s: s, name: name}, nil
}

func (s *memStorage) get(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.data[name]
	return string(b), ok
}

type memStaged struct {
	s    *memStorage
	name string
	buf  bytes.Buffer
	done bool
}

func (m *memStaged) Write(p []byte) (int, error) { return m.buf.Write(p) }

func (m *memStaged) Commit(context.Context) error {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if m.done {
		return fmt.Errorf("%s: committed after it was finished", m.name)
	}
	m.done = true
	m.s.open--
	m.s.commits++
	m.s.data[m.name] = m.buf.Bytes()
	return nil
}

func (m *memStaged) Discard(context.Context) error {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if m.done {
		return fmt.Errorf("%s: discarded after it was finished", m.name)
	}
	m.done = true
	m.s.open--
	m.s.discards++
	return nil
}
