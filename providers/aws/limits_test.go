package aws

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// check runs the compiler's checks on p and returns the problems as
// strings, errors and warnings apart.
func check(t *testing.T, p *glacier.Pipeline, opts Options) (errs, warns []string) {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = project(t)
	}
	_, probs := designFor(t, p, opts)
	return compiletest.Problems(probs)
}

// assertProblems checks that each of want is in exactly one problem, in
// order, and that there are no others.
var assertProblems = compiletest.AssertProblems

func serverless(mem, timeout int, hints glacier.Hints) glacier.Task {
	return glacier.Task{Compute: glacier.Serverless{Memory: mem, Timeout: timeout, Hints: hints}}
}

func TestLambdaLimits(t *testing.T) {
	tests := []struct {
		name  string
		task  glacier.Task
		opts  Options
		errs  []string
		warns []string
	}{
		{name: "defaults", task: serverless(0, 0, nil)},
		{name: "smallest and largest memory", task: serverless(MinMemoryMiB, MaxTimeoutSecs, nil)},
		{name: "largest memory", task: serverless(MaxMemoryMiB-plan.HostReserveMiB, 1, nil)},
		{name: "small memory", task: serverless(16, 0, nil)},
		{name: "memory too large", task: serverless(10145, 0, nil),
			errs: []string{`task "t": memory 10145 MiB needs a function of 10241 MiB, since the runtime that hosts the sandbox needs 96 MiB ` +
				`beside the task's own, and AWS Lambda gives a function at most 10240 MiB; set compute memory to 10144 or less`}},
		{name: "timeout too long", task: serverless(0, 901, nil),
			errs: []string{`task "t": timeout is 901 s; an AWS Lambda function runs at most 900 s`}},
		{name: "default memory from options", task: serverless(0, 0, nil),
			opts: Options{Defaults: Defaults{Serverless: ServerlessDefaults{MemoryMiB: 20000}}},
			errs: []string{`option "defaults": serverless memory 20000 MiB needs a function of 20096 MiB`, `task "t": memory 20000 MiB needs`}},
		{name: "default timeout from options", task: serverless(0, 0, nil),
			opts: Options{Defaults: Defaults{Serverless: ServerlessDefaults{TimeoutSecs: 1000}}},
			errs: []string{`option "defaults": serverless timeout 1000 s`, `task "t": timeout is 1000 s`}},
		{name: "bad architecture option", task: serverless(0, 0, nil), opts: Options{Arch: "amd64"},
			errs: []string{`option "arch": "amd64" is not a Lambda architecture; use arm64 or x86_64`}},
		{name: "architecture hint", task: serverless(0, 0, glacier.Hints{"aws_architecture": "x86_64"})},
		{name: "bad architecture hint", task: serverless(0, 0, glacier.Hints{"aws_architecture": "riscv"}),
			errs: []string{`task "t": aws_architecture "riscv" is not a Lambda architecture`}},
		{name: "log retention hint", task: serverless(0, 0, glacier.Hints{"aws_log_retention_days": "7"})},
		{name: "bad log retention hint", task: serverless(0, 0, glacier.Hints{"aws_log_retention_days": "10"}),
			errs: []string{`task "t": aws_log_retention_days "10" is not a retention CloudWatch Logs accepts`}},
		{name: "bad log retention option", task: serverless(0, 0, nil), opts: Options{Defaults: Defaults{LogRetentionDays: 2}},
			errs: []string{`option "defaults": log retention 2 days`}},
		{name: "unknown aws hints warn", task: serverless(0, 0, glacier.Hints{"aws_vpc": "x", "aws_layers": "y", "gcp_region": "z"}),
			warns: []string{`task "t": the AWS compiler does not know the hint "aws_layers"`, `task "t": the AWS compiler does not know the hint "aws_vpc"`}},
		{name: "local compute", task: glacier.Task{Compute: glacier.Local{}},
			errs: []string{`task "t": has local compute, which runs only on this machine and cannot be compiled for AWS`}},
		// Culprit by culprit, what every cloud checks comes before what
		// only AWS does.
		{name: "every problem at once", task: serverless(100000, 5000, glacier.Hints{"aws_architecture": "mips", "aws_x": "1"}),
			opts: Options{Prefix: "Bad_Prefix", Region: "moon-1"},
			errs: []string{`option "prefix": invalid prefix "Bad_Prefix"`, `option "region": "moon-1" is not an AWS region`,
				`task "t": memory 100000 MiB`, `task "t": aws_architecture "mips"`, `task "t": timeout is 5000 s`},
			warns: []string{`task "t": the AWS compiler does not know the hint "aws_x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs, warns := check(t, pipeline(t, tt.task), tt.opts)
			assertProblems(t, errs, tt.errs)
			assertProblems(t, warns, tt.warns)
		})
	}
}

func TestCompileRefusesNamingTheCulprit(t *testing.T) {
	p := pipeline(t, serverless(20000, 901, nil))
	_, err := p.Compile(context.Background(), New(Options{Dir: project(t), Out: t.TempDir()}))
	require.Error(t, err)
	var verr *glacier.ValidationError
	require.True(t, errors.As(err, &verr), "%v", err)
	assert.Len(t, verr.Problems, 2)
	assert.Contains(t, err.Error(), `cannot compile pipeline "p" for AWS`)
	assert.Contains(t, err.Error(), `task "t": memory 20000 MiB needs a function of 20096 MiB`)
	assert.Contains(t, err.Error(), `task "t": timeout is 901 s`)
}

func TestOptionsChecks(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		errs []string
	}{
		{name: "defaults"},
		{name: "good", opts: Options{Prefix: "prod-eu", Region: "eu-west-3", Arch: "x86_64",
			Tags: map[string]string{"team": "data", "cost center": "42/a"}}},
		{name: "gov region", opts: Options{Region: "us-gov-west-1"}},
		{name: "bad prefix", opts: Options{Prefix: "prod_"}, errs: []string{`option "prefix": invalid prefix "prod_"`}},
		{name: "reserved bucket prefix", opts: Options{Prefix: "sthree-x"}, errs: []string{`bucket names may not start with "sthree"`}},
		{name: "bad region", opts: Options{Region: "US-EAST-1"}, errs: []string{`option "region": "US-EAST-1" is not an AWS region name`}},
		{name: "bad tags", opts: Options{Tags: map[string]string{"aws:x": "1", "glacier:task": "2", "a*": "3", "": "4"}},
			errs: []string{`tag "": a key has 1 to 128`, `tag "a*": tags may hold only`, `tag "aws:x": keys starting with aws: are reserved`,
				`tag "glacier:task": keys starting with glacier: are set by the compiler`}},
		{name: "long tag value", opts: Options{Tags: map[string]string{"k": strings.Repeat("v", 257)}},
			errs: []string{`tag "k": a value has at most 256 characters`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs, _ := check(t, pipeline(t, serverless(0, 0, nil)), tt.opts)
			assertProblems(t, errs, tt.errs)
		})
	}
}

// TestMapConcurrencyLimit: a map task's max_concurrency over Distributed
// Map's limit is warned about, and the state machine runs at the limit.
func TestMapConcurrencyLimit(t *testing.T) {
	dir := project(t)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "logs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "logs", "a.log"), []byte("a"), 0o644))
	for _, tt := range []struct {
		concurrency int
		warns       []string
		written     float64
	}{
		{concurrency: MaxMapConcurrency, written: MaxMapConcurrency},
		{concurrency: MaxMapConcurrency + 1, written: MaxMapConcurrency, warns: []string{`task "t": max_concurrency is 10001; ` +
			`a Step Functions Distributed Map runs at most 10000 child executions at once, each a batch of 50 parts one after another, so at most 10000 parts run at once`}},
	} {
		task := serverless(0, 0, nil)
		task.Map, task.MaxConcurrency = "in", tt.concurrency
		p := pipeline(t, task, glacier.Dataset{Name: "in", Storage: glacier.ObjectStorage{}, Source: "logs", Partitioned: true},
			glacier.Dataset{Name: "out", Storage: glacier.ObjectStorage{}, Partitioned: true})
		errs, warns := check(t, p, Options{Dir: dir})
		assert.Empty(t, errs)
		assertProblems(t, warns, tt.warns)
		dep, _ := designFor(t, p, Options{Dir: dir})
		def, err := target{}.Definition(dep)
		require.NoError(t, err)
		var sm struct {
			States map[string]struct{ MaxConcurrency float64 }
		}
		require.NoError(t, json.Unmarshal(def.Data, &sm))
		assert.Equal(t, tt.written, sm.States["t"].MaxConcurrency)
	}
}

func TestEnvironmentLimit(t *testing.T) {
	p := glacier.New("p")
	var outs []string
	for i := range 40 {
		name := "dataset_with_a_rather_long_name_" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		require.NoError(t, p.AddDataset(glacier.Dataset{Name: name, Storage: glacier.ObjectStorage{}}))
		outs = append(outs, name)
	}
	require.NoError(t, p.AddTask(glacier.Task{Name: "wide", Module: "w.wasm", Outputs: outs, Compute: glacier.Serverless{}}))
	require.NoError(t, p.Validate().Err())
	errs, _ := check(t, p, Options{})
	assertProblems(t, errs, []string{`task "wide": touches 40 datasets, and naming their objects in GLACIER_DATASETS may take`})
}
