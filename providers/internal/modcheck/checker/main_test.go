package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

func TestMain(m *testing.M) {
	// The checker's pool runs its worker from this program, as from the
	// checker itself.
	wasmrt.ServeWorkerIfRequested()
	code := m.Run()
	wasmbuild.Cleanup()
	os.Exit(code)
}

func fixture(tb testing.TB, name string) string {
	tb.Helper()
	return wasmbuild.Build(tb, filepath.Join("..", "..", "..", "..", "testdata", "wasm", name))
}

// request is a check of the module at path as task name.
func request(tb testing.TB, name, path, precompile string) fnspec.CheckRequest {
	tb.Helper()
	wasm, err := os.ReadFile(path)
	require.NoError(tb, err)
	sum := sha256.Sum256(wasm)
	return fnspec.CheckRequest{
		Protocol: fnspec.CheckProtocol, Module: path, Precompile: precompile,
		Spec: fnspec.TaskSpec{ABI: abi.Version, Pipeline: "p", Task: name, ModuleSHA256: hex.EncodeToString(sum[:]),
			Outputs: []string{"out"}, MemoryMiB: 64, TimeoutSecs: 30},
	}
}

// ask sends req to serve and returns its answer.
func ask(t *testing.T, req any) (fnspec.CheckResult, error) {
	t.Helper()
	body, err := json.Marshal(req)
	require.NoError(t, err)
	var out bytes.Buffer
	if err := serve(context.Background(), bytes.NewReader(body), &out); err != nil {
		return fnspec.CheckResult{}, err
	}
	var res fnspec.CheckResult
	require.NoError(t, json.Unmarshal(out.Bytes(), &res))
	return res, nil
}

// files maps each file under dir to the hash of its contents.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		sum := sha256.Sum256(b)
		m[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		return err
	}))
	return m
}

func TestCheck(t *testing.T) {
	res, err := ask(t, request(t, "copy", fixture(t, "copy"), ""))
	require.NoError(t, err)
	assert.Equal(t, fnspec.CheckResult{}, res)
}

func TestPrecompileDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		res, err := ask(t, request(t, "copy", fixture(t, "copy"), dir))
		require.NoError(t, err)
		require.Equal(t, fnspec.CheckResult{}, res)
	}
	fresh := files(t, a)
	assert.Len(t, fresh, 1, "one module, one cache entry")
	for name := range fresh {
		assert.False(t, strings.HasSuffix(name, ".tmp"), "a stray temporary file: %s", name)
	}
	// Each compilation ran in a worker of its own.
	assert.Equal(t, fresh, files(t, b), "two compilations of one module must give the same files")
}

func TestRefusals(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.wasm")
	require.NoError(t, os.WriteFile(bad, []byte("not wasm"), 0o644))
	for _, tc := range []struct {
		name string
		req  fnspec.CheckRequest
		kind fnspec.Kind
		says []string
	}{
		{"not a module", request(t, "bad", bad, ""), fnspec.KindInvalidModule, []string{`task "bad"`, bad, "not a WebAssembly binary"}},
		{"not a module, precompiled", request(t, "bad", bad, t.TempDir()), fnspec.KindInvalidModule, []string{`task "bad"`, "not a WebAssembly binary"}},
		{"another ABI", request(t, "abiv2", fixture(t, "abiv2"), ""), fnspec.KindABIVersion, []string{`task "abiv2"`, "host ABI version 2"}},
		{"another ABI, precompiled", request(t, "abiv2", fixture(t, "abiv2"), t.TempDir()), fnspec.KindABIVersion, []string{"host ABI version 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ask(t, tc.req)
			require.NoError(t, err, "a refusal is an answer")
			assert.Equal(t, tc.kind, res.Kind)
			for _, s := range tc.says {
				assert.Contains(t, res.Error, s)
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	req := request(t, "copy", fixture(t, "copy"), "")
	req.Protocol = fnspec.CheckProtocol + 1
	_, err := ask(t, req)
	assert.ErrorContains(t, err, "built from other sources")

	_, err = ask(t, map[string]any{"protocol": fnspec.CheckProtocol, "module": "x.wasm", "retries": 3})
	assert.ErrorContains(t, err, `unknown field "retries"`)

	err = serve(context.Background(), strings.NewReader(""), &bytes.Buffer{})
	assert.ErrorContains(t, err, "nothing to do when run by hand")
}
