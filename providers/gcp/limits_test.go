package gcp

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
)

// pipeline is a one-task pipeline, in -> t -> out, with the given compute
// and output storage; the source file exists in dir.
func pipeline(t *testing.T, dir string, compute glacier.Compute, out glacier.Storage) *glacier.Pipeline {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "in.csv"), []byte("a,b\n"), 0o644))
	p := glacier.New("p")
	require.NoError(t, p.AddDataset(glacier.Dataset{Name: "in", Storage: glacier.ObjectStorage{}, Source: "in.csv"}))
	require.NoError(t, p.AddDataset(glacier.Dataset{Name: "out", Storage: out}))
	require.NoError(t, p.AddTask(glacier.Task{Name: "clean", Build: "./clean", Inputs: []string{"in"}, Outputs: []string{"out"}, Compute: compute}))
	require.NoError(t, p.Validate().Err())
	return p
}

func TestCompileRefuses(t *testing.T) {
	obj := glacier.ObjectStorage{}
	sl := func(mem, timeout int) glacier.Serverless { return glacier.Serverless{Memory: mem, Timeout: timeout} }
	tests := []struct {
		name    string
		compute glacier.Compute
		out     glacier.Storage
		opts    Options
		want    []string // each a problem line, culprit first
	}{
		{"memory too large", sl(32673, 60), obj, Options{},
			[]string{`task "clean": memory 32673 MiB needs a function of 32769 MiB, since the runtime that hosts the sandbox needs 96 MiB ` +
				`beside the task's own, and Cloud Functions (2nd gen) gives a function at most 32768 MiB; set compute memory to 32672 or less`}},
		{"timeout over Cloud Functions", sl(512, 3601), obj, Options{},
			[]string{`task "clean": timeout is 3601 s; a Cloud Functions (2nd gen) HTTP function runs at most 3600 s`}},
		{"timeout over a Workflows call", sl(512, 1801), obj, Options{},
			[]string{`task "clean": timeout is 1801 s; Cloud Functions would run it, but a Workflows HTTP call waits at most 1800 s`}},
		{"local task", glacier.Local{}, obj, Options{},
			[]string{`task "clean": has local compute`}},
		{"storage class", sl(512, 60), glacier.ObjectStorage{Hints: glacier.Hints{"gcp_storage_class": "GLACIER"}}, Options{},
			[]string{`dataset "out": gcp_storage_class "GLACIER" is not a Cloud Storage class; use one of STANDARD, NEARLINE, COLDLINE, ARCHIVE`}},
		{"region", sl(512, 60), obj, Options{Region: "us-central9"},
			[]string{`option "region": "us-central9" is not a region where Cloud Functions (2nd gen) runs`}},
		{"project", sl(512, 60), obj, Options{Project: "My_Project"},
			[]string{`option "project": "My_Project" is not a Google Cloud project ID`}},
		{"prefix", sl(512, 60), obj, Options{Prefix: "Prod"},
			[]string{`option "prefix": invalid prefix "Prod"`}},
		{"runtime", sl(512, 60), obj, Options{Runtime: "go121"},
			[]string{`option "runtime": "go121" is not a supported Go runtime`}},
		{"label", sl(512, 60), obj, Options{Labels: map[string]string{"Team": "x", "glacier-task": "y"}},
			[]string{`option "labels": label "Team": a key has`, `option "labels": label "glacier-task": keys starting with glacier- are set by the compiler`}},
		{"everything at once", sl(40000, 3601), glacier.ObjectStorage{Hints: glacier.Hints{"gcp_storage_class": "GLACIER"}}, Options{Region: "mars-north1"},
			[]string{`option "region"`, `dataset "out": gcp_storage_class "GLACIER"`, `task "clean": memory 40000 MiB`, `task "clean": timeout is 3601 s`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := pipeline(t, dir, tt.compute, tt.out)
			out := filepath.Join(dir, "out")
			tt.opts.Dir, tt.opts.Out = dir, out
			tt.opts.Modules = compiletest.Modules(t, p)
			_, err := p.Compile(context.Background(), withOptions(tt.opts, standInPack))
			require.Error(t, err)
			var ve *glacier.ValidationError
			require.True(t, errors.As(err, &ve), "%v", err)
			require.Len(t, ve.Problems, len(tt.want), "%v", err)
			for i, w := range tt.want {
				assert.True(t, strings.HasPrefix(ve.Problems[i].String(), w), "problem %q does not start with %q", ve.Problems[i], w)
			}
			_, statErr := os.Stat(out)
			assert.True(t, os.IsNotExist(statErr), "nothing is written when the pipeline is refused")
		})
	}
}

func TestCompileWarns(t *testing.T) {
	dir := t.TempDir()
	cold := glacier.ObjectStorage{RetentionDays: 7, Hints: glacier.Hints{"gcp_storage_class": "COLDLINE", "gcp_autoclass": "on", "aws_storage_class": "GLACIER"}}
	p := pipeline(t, dir, glacier.Serverless{Hints: glacier.Hints{"gcp_cpu": "2"}}, cold)
	comp, err := p.Compile(context.Background(), withOptions(Options{Dir: dir, Out: filepath.Join(dir, "out"), Modules: compiletest.Modules(t, p)}, standInPack))
	require.NoError(t, err)
	assert.Equal(t, []string{
		`dataset "out": the GCP compiler does not know the hint "gcp_autoclass" and ignores it; it knows gcp_storage_class`,
		`dataset "out": objects are deleted after 7 days (retention_days), but Cloud Storage bills COLDLINE objects for at least 90 days; use a longer retention or the STANDARD class`,
		`task "clean": the GCP compiler knows no task hints and ignores "gcp_cpu"`,
	}, comp.Warnings)
}

func TestCPUFor(t *testing.T) {
	tests := []struct {
		mem int
		cpu string
		ok  bool
	}{
		{127, "", false},
		{128, "0.083", true},
		{129, "0.167", true},
		{256, "0.167", true},
		{512, "0.333", true},
		{1024, "0.583", true},
		{1025, "1", true},
		{2048, "1", true},
		{4096, "2", true},
		{8192, "2", true},
		{16384, "4", true},
		{32768, "8", true},
		{32769, "", false},
	}
	for _, tt := range tests {
		cpu, ok := CPUFor(tt.mem)
		assert.Equal(t, tt.ok, ok, "%d MiB", tt.mem)
		assert.Equal(t, tt.cpu, cpu, "%d MiB", tt.mem)
	}
}

func TestRuntimeFor(t *testing.T) {
	tests := []struct {
		goLine, want string
		rt, err      string
	}{
		{"1.26.0", "", "go127", ""},
		{"1.25", "", "go127", ""},
		{"1.26.8", "go126", "go126", ""},
		{"1.26.0", "go125", "", "runtime go125 cannot build its bundle, whose go.mod needs Go 1.26.0; use one of go126, go127"},
		{"1.28.0", "", "", "newer than every Go runtime"},
		{"banana", "", "", "not a Go version"},
	}
	for _, tt := range tests {
		rt, err := runtimeFor(tt.goLine, tt.want)
		if tt.err != "" {
			assert.ErrorContains(t, err, tt.err, "%s %s", tt.goLine, tt.want)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tt.rt, rt, "%s %s", tt.goLine, tt.want)
	}
}
