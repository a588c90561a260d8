package plan_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

func TestModules(t *testing.T) {
	p := diamond(t)
	given := map[string]build.Module{}
	for _, name := range []string{"a", "b", "c", "d"} {
		given[name] = build.Module{Path: "/m/" + name + ".wasm", SHA256: name + name}
	}
	mods, err := plan.Modules(context.Background(), p, ".", given)
	require.NoError(t, err)
	require.Len(t, mods, 4)
	for name, m := range mods {
		assert.Equal(t, name, m.Task, "the module is given its task's name")
		assert.Equal(t, given[name].SHA256, m.SHA256)
	}

	delete(given, "c")
	_, err = plan.Modules(context.Background(), p, ".", given)
	assert.ErrorContains(t, err, `Options.Modules has no module for task "c"`)
}

func TestSources(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "data", "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data", "raw.csv"), []byte("a\n"), 0o644))
	tests := []struct {
		source, file, problem string
	}{
		{"data/raw.csv", "sources/raw/raw.csv", ""},
		{"data/missing.csv", "sources/raw/missing.csv", "source data/missing.csv does not exist (looked for " + filepath.Join(dir, "data", "missing.csv") + ")"},
		{"data/sub", "sources/raw/sub", "source data/sub is a directory, not a regular file"},
		{"../elsewhere.csv", "sources/raw/elsewhere.csv", "source ../elsewhere.csv leads outside the project directory"},
		{"/etc/passwd", "sources/raw/passwd", "source /etc/passwd is an absolute path"},
		{"", "", ""},
	}
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(dir), "elsewhere.csv"), []byte("b\n"), 0o644))
	for _, tt := range tests {
		d := plan.Dataset{Dataset: glacier.Dataset{Name: "raw", Source: tt.source}}
		assert.Equal(t, tt.file, d.SourceFile(), tt.source)
		if tt.problem == "" {
			assert.Empty(t, d.CheckSource(dir), tt.source)
			continue
		}
		assert.Contains(t, d.CheckSource(dir), tt.problem)
	}
}

func TestUnknownHints(t *testing.T) {
	h := glacier.Hints{"aws_b": "1", "aws_a": "2", "aws_known": "3", "gcp_c": "4"}
	assert.Equal(t, []string{
		`the AWS compiler does not know the hint "aws_a" and ignores it; it knows aws_known, aws_other`,
		`the AWS compiler does not know the hint "aws_b" and ignores it; it knows aws_known, aws_other`,
	}, plan.UnknownHints(h, "AWS", "aws_", "dataset", []string{"aws_known", "aws_other"}))
	assert.Equal(t, []string{`the GCP compiler knows no task hints and ignores "gcp_c"`},
		plan.UnknownHints(h, "GCP", "gcp_", "task", nil))
	assert.Empty(t, plan.UnknownHints(nil, "GCP", "gcp_", "task", nil))
}

func TestReporterAndCompilation(t *testing.T) {
	var probs glacier.Problems
	report := plan.Reporter(&probs)
	report(glacier.Error, "task", "a")("memory is %d", 1)
	report(glacier.Warning, "dataset", "b")("class %s", "X")
	require.Len(t, probs, 2)
	assert.Equal(t, glacier.Problem{Severity: glacier.Error, Kind: "task", Name: "a", Msg: "memory is 1"}, probs[0])

	arts := []glacier.Artifact{{Task: "a", Path: "artifacts/a.zip"}}
	c := plan.Compilation("aws", "/out", arts, probs)
	assert.Equal(t, &glacier.Compilation{Target: "aws", Dir: "/out", Artifacts: arts,
		Warnings: []string{`dataset "b": class X`}}, c)
}

// zipOf zips files, in order.
func zipOf(t *testing.T, files ...[2]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, err := zw.Create(f[0])
		require.NoError(t, err)
		_, err = w.Write([]byte(f[1]))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return b.Bytes()
}

func TestInspect(t *testing.T) {
	wasm := "\x00asm\x01\x00\x00\x00"
	sum := sha256.Sum256([]byte(wasm))
	task := plan.Task{Module: build.Module{SHA256: hex.EncodeToString(sum[:])}}

	zb := zipOf(t, [2]string{"bootstrap", "#!"}, [2]string{"task.wasm", wasm}, [2]string{"go.mod", "module m\n"})
	p, err := task.Inspect("zip", zb, "go.mod", "absent")
	require.NoError(t, err)
	assert.Equal(t, task.Module.SHA256, p.ModuleSHA256)
	assert.Equal(t, int64(2+len(wasm)+len("module m\n")), p.Unzipped)
	assert.Equal(t, map[string][]byte{"go.mod": []byte("module m\n")}, p.Files)

	tests := []struct {
		name string
		zb   []byte
		want string
	}{
		{"not a zip", []byte("nope"), "the bundle is not a zip"},
		{"no module", zipOf(t, [2]string{"bootstrap", "#!"}), "the bundle holds no .wasm module"},
		{"two modules", zipOf(t, [2]string{"a.wasm", wasm}, [2]string{"b.wasm", wasm}), "the bundle holds more than one .wasm file"},
		{"another module", zipOf(t, [2]string{"task.wasm", wasm + "x"}), "the bundle's module has sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := task.Inspect("bundle", tt.zb)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestMiB(t *testing.T) {
	assert.Equal(t, "50.0 MiB", plan.MiB(50<<20))
	assert.Equal(t, "0.5 MiB", plan.MiB(1<<19))
}
