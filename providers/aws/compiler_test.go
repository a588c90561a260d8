package aws

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"go/format"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/ziptest"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

func TestCompileETL(t *testing.T) {
	out, c := sharedETL(t)
	m, mods := etl(t)
	assert.Equal(t, Target, c.Target)
	assert.Equal(t, out, c.Dir)
	assert.Empty(t, c.Warnings)

	// One artifact per task, in the pipeline's order, holding the very
	// module that was built.
	tasks := m.Pipeline.Tasks()
	require.Len(t, c.Artifacts, len(tasks))
	for i, a := range c.Artifacts {
		task := tasks[i]
		assert.Equal(t, task.Name, a.Task)
		assert.Equal(t, "artifacts/"+task.Name+".zip", a.Path)
		assert.Equal(t, mods[task.Name].SHA256, a.ModuleSHA256)

		zb, err := os.ReadFile(filepath.Join(out, a.Path))
		require.NoError(t, err)
		assert.Equal(t, int64(len(zb)), a.Size)
		files, modes := ziptest.Files(t, zb), ziptest.Modes(t, zb)
		wasm, err := os.ReadFile(mods[task.Name].Path)
		require.NoError(t, err)
		assert.True(t, bytes.Equal(wasm, files[fnspec.ModuleFile]), "%s: the zip's module differs from the built one", task.Name)
		assert.Equal(t, fs.FileMode(0o755), modes["bootstrap"], "bootstrap must be executable")

		var spec fnspec.TaskSpec
		require.NoError(t, json.Unmarshal(files[fnspec.SpecFile], &spec))
		assert.Equal(t, "etl", spec.Pipeline)
		assert.Equal(t, task.Name, spec.Task)
		assert.Equal(t, a.ModuleSHA256, spec.ModuleSHA256)
		assert.Equal(t, task.Inputs, spec.Inputs)
		assert.Equal(t, task.Outputs, spec.Outputs)
		assert.Equal(t, glacier.LimitsOf(task.Compute), glacier.Limits{MemoryMiB: spec.MemoryMiB, TimeoutSecs: spec.TimeoutSecs})
		assert.Equal(t, task.Params, spec.Params)
	}

	// Sources are copied byte for byte.
	for _, d := range m.Pipeline.Datasets() {
		if d.Source == "" {
			continue
		}
		want, err := os.ReadFile(filepath.Join(m.Dir, d.Source))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(out, "sources", d.Name, filepath.Base(d.Source)))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(want, got), "source of %s", d.Name)
	}

	mainGo := read(t, out, "main.go")
	formatted, err := format.Source([]byte(mainGo))
	require.NoError(t, err)
	assert.Equal(t, string(formatted), mainGo, "main.go is gofmt'd")
	assert.NotContains(t, mainGo, out, "main.go names no path of this machine")
	assert.NotContains(t, mainGo, m.Dir)

	goMod := read(t, out, "go.mod")
	assert.True(t, strings.HasPrefix(goMod, "module etl/aws\n"), goMod)
	assert.Contains(t, goMod, "\tgithub.com/pulumi/pulumi-aws/sdk/v6 "+PulumiAWSSDKVersion+"\n")
	assert.Contains(t, goMod, "\tgithub.com/pulumi/pulumi/sdk/v3 "+pulumiproject.PulumiSDKVersion+"\n")
	direct := 0
	for _, line := range strings.Split(goMod, "\n") {
		if strings.HasPrefix(line, "\t") && !strings.HasSuffix(line, "// indirect") {
			direct++
		}
	}
	assert.Equal(t, 2, direct, "the project depends directly on the two Pulumi SDKs only")

	pulumiYAML := read(t, out, "Pulumi.yaml")
	assert.True(t, strings.HasPrefix(pulumiYAML, spec.Marker()))
	assert.Contains(t, pulumiYAML, "name: etl\n")
	assert.Contains(t, pulumiYAML, "runtime: go\n")
	assert.Contains(t, pulumiYAML, "  aws:region:\n    value: us-east-1\n")

	readme := read(t, out, "README.md")
	for _, want := range []string{"pulumi stack init", "pulumi config set aws:region us-east-1", "pulumi up",
		"aws stepfunctions start-execution", "pulumi stack output stateMachineArn", "pulumi stack output buckets"} {
		assert.Contains(t, readme, want)
	}
	for _, a := range c.Artifacts {
		assert.Contains(t, readme, a.ModuleSHA256)
	}
}

func TestCompileIsDeterministic(t *testing.T) {
	shared, _ := sharedETL(t)
	a := filepath.Join(t.TempDir(), "a")
	compileETL(t, a, sharedOpts)
	first := tree(t, a)
	assert.Equal(t, tree(t, shared), first)

	// Compiling again over an earlier output replaces what the compiler
	// wrote, drops what it no longer writes, and keeps the stacks' files.
	require.NoError(t, os.WriteFile(filepath.Join(a, "artifacts", "gone.zip"), []byte("stale"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(a, "main.go"), []byte("edited"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(a, "Pulumi.dev.yaml"), []byte("config: {}\n"), 0o644))
	compileETL(t, a, sharedOpts)
	again := tree(t, a)
	assert.Equal(t, "config: {}\n", read(t, a, "Pulumi.dev.yaml"))
	delete(again, "Pulumi.dev.yaml")
	assert.Equal(t, first, again)
}

func TestCompileOptionsReachTheProgram(t *testing.T) {
	out, _ := x86ETL(t)
	mainGo := read(t, out, "main.go")
	for _, want := range []string{`"team":             "data"`, `FunctionName:     "prod-clean_orders"`, `Architecture:     "x86_64"`,
		`LogRetentionDays: 90`, `newDataset(ctx, "prod-orders-raw"`, `newStateMachine(ctx, "prod-etl", "prod-StateMachine"`} {
		assert.Contains(t, mainGo, want)
	}
	assert.Contains(t, read(t, out, "Pulumi.yaml"), "value: eu-west-3")
	assert.Contains(t, read(t, out, "statemachine.asl.json"), `"FunctionName": "prod-enrich"`)
}

// tree maps every file under dir to its sha256.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		sum := sha256.Sum256(data)
		out[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		return nil
	})
	require.NoError(t, err)
	return out
}

func read(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	return string(b)
}
