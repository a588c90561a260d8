package aws

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
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
)

// check runs the compiler's checks on p and returns the problems as
// strings, errors and warnings apart.
func check(t *testing.T, p *glacier.Pipeline, opts Options) (errs, warns []string) {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = project(t)
	}
	pl, err := plan.New(p, nil)
	require.NoError(t, err)
	_, probs := design(pl, opts.resolve(p.Name()))
	for _, pr := range probs.Errors() {
		errs = append(errs, pr.String())
	}
	for _, pr := range probs.Warnings() {
		warns = append(warns, pr.String())
	}
	return errs, warns
}

// assertProblems checks that each of want is in exactly one problem, in
// order, and that there are no others.
func assertProblems(t *testing.T, got, want []string) {
	t.Helper()
	require.Len(t, got, len(want), "problems: %q", got)
	for i, w := range want {
		assert.Contains(t, got[i], w)
	}
}

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
		{name: "smallest and largest memory", task: serverless(MinMemoryMB, MaxTimeoutSecs, nil)},
		{name: "largest memory", task: serverless(MaxMemoryMB-plan.HostReserveMiB, 1, nil)},
		{name: "small memory", task: serverless(16, 0, nil)},
		{name: "memory too large", task: serverless(10145, 0, nil),
			errs: []string{`task "t": memory 10145 MiB needs a function of 10241 MiB, since the runtime that hosts the sandbox needs 96 MiB ` +
				`beside the task's own, and AWS Lambda gives a function at most 10240 MiB; set compute memory to 10144 or less`}},
		{name: "timeout too long", task: serverless(0, 901, nil),
			errs: []string{`task "t": timeout is 901 s; an AWS Lambda function runs at most 900 s`}},
		{name: "default memory from options", task: serverless(0, 0, nil),
			opts: Options{Defaults: Defaults{Serverless: ServerlessDefaults{MemoryMB: 20000}}},
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
		{name: "every problem at once", task: serverless(100000, 5000, glacier.Hints{"aws_architecture": "mips", "aws_x": "1"}),
			opts: Options{Prefix: "Bad_Prefix", Region: "moon-1"},
			errs: []string{`option "prefix": invalid prefix "Bad_Prefix"`, `option "region": "moon-1" is not an AWS region`,
				`task "t": aws_architecture "mips"`, `task "t": memory 100000 MiB`, `task "t": timeout is 5000 s`},
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

// TestFunctionMemory: a function has its task's memory and the runtime's
// reserve beside it, at least Lambda's smallest size.
func TestFunctionMemory(t *testing.T) {
	tests := []struct{ task, function int }{
		{1, 128},
		{32, 128},
		{33, 129},
		{256, 352},
		{512, 608},
		{10144, 10240},
	}
	for _, tt := range tests {
		pl, err := plan.New(pipeline(t, serverless(tt.task, 0, nil)), nil)
		require.NoError(t, err)
		dep, probs := design(pl, Options{Dir: project(t)}.resolve("p"))
		require.NoError(t, probs.Err())
		assert.Equal(t, tt.task, dep.Tasks[0].MemoryMiB, "the sandbox keeps the task's memory")
		assert.Equal(t, tt.function, dep.Tasks[0].FunctionMemoryMB, "function of a %d MiB task", tt.task)
		assert.Equal(t, tt.task, taskSpec(dep, dep.Tasks[0]).MemoryMiB, "the runtime caps the sandbox at the task's memory")
	}
}

// TestCompileBudgetReachesSpec: the task's compile budget is what the
// bootstrap enforces.
func TestCompileBudgetReachesSpec(t *testing.T) {
	task := glacier.Task{Compute: glacier.Serverless{Memory: 128, Compile: glacier.CompileBudget{MemoryMiB: 2048, TimeoutSecs: 90}}}
	pl, err := plan.New(pipeline(t, task), nil)
	require.NoError(t, err)
	dep, probs := design(pl, Options{Dir: project(t)}.resolve("p"))
	require.NoError(t, probs.Err())
	spec := taskSpec(dep, dep.Tasks[0])
	assert.Equal(t, 2048, spec.CompileMemoryMiB)
	assert.Equal(t, 90, spec.CompileTimeoutSecs)
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

func TestStorage(t *testing.T) {
	obj := func(s glacier.ObjectStorage) glacier.Storage { return s }
	hint := func(class string) glacier.Hints { return glacier.Hints{"aws_storage_class": class} }
	tests := []struct {
		name string
		// in is read by the task; out is written by it and read by nobody.
		in, out glacier.Storage
		wantIn  bucketPlan
		wantOut bucketPlan
		errs    []string
		warns   []string
	}{
		{name: "standard", in: obj(glacier.ObjectStorage{}), out: obj(glacier.ObjectStorage{}),
			wantIn: bucketPlan{Class: "STANDARD"}, wantOut: bucketPlan{Class: "STANDARD"}},
		{name: "versioning and retention", in: obj(glacier.ObjectStorage{Versioning: true, RetentionDays: 7}),
			out:    obj(glacier.ObjectStorage{RetentionDays: 30}),
			wantIn: bucketPlan{Class: "STANDARD", Versioning: true, RetentionDays: 7}, wantOut: bucketPlan{Class: "STANDARD", RetentionDays: 30}},
		{name: "access patterns", in: obj(glacier.ObjectStorage{AccessPattern: glacier.AccessInfrequent}),
			out:     obj(glacier.ObjectStorage{AccessPattern: glacier.AccessArchive}),
			wantIn:  bucketPlan{Class: "STANDARD_IA", SourceClass: "STANDARD_IA"},
			wantOut: bucketPlan{Class: "GLACIER_IR", TransitionTo: "GLACIER_IR"}},
		{name: "hint beats access pattern", in: obj(glacier.ObjectStorage{AccessPattern: glacier.AccessArchive, Hints: hint("STANDARD")}),
			out:    obj(glacier.ObjectStorage{Hints: hint("ONEZONE_IA")}),
			wantIn: bucketPlan{Class: "STANDARD"}, wantOut: bucketPlan{Class: "ONEZONE_IA", TransitionTo: "ONEZONE_IA", TransitionDays: 30}},
		{name: "intelligent tiering", in: obj(glacier.ObjectStorage{Hints: hint("INTELLIGENT_TIERING")}),
			out:     obj(glacier.ObjectStorage{Hints: hint("INTELLIGENT_TIERING")}),
			wantIn:  bucketPlan{Class: "INTELLIGENT_TIERING", SourceClass: "INTELLIGENT_TIERING"},
			wantOut: bucketPlan{Class: "INTELLIGENT_TIERING", TransitionTo: "INTELLIGENT_TIERING"}},
		{name: "archive classes for data nobody reads", in: obj(glacier.ObjectStorage{Hints: hint("GLACIER_IR")}),
			out:     obj(glacier.ObjectStorage{Hints: hint("DEEP_ARCHIVE")}),
			wantIn:  bucketPlan{Class: "GLACIER_IR", SourceClass: "GLACIER_IR"},
			wantOut: bucketPlan{Class: "DEEP_ARCHIVE", TransitionTo: "DEEP_ARCHIVE"}},
		{name: "glacier for data a task reads", in: obj(glacier.ObjectStorage{Hints: hint("GLACIER")}), out: obj(glacier.ObjectStorage{}),
			wantOut: bucketPlan{Class: "STANDARD"},
			errs:    []string{`dataset "in": aws_storage_class GLACIER objects must be restored before they can be read, and task "t" reads this dataset`}},
		{name: "not a storage class", in: obj(glacier.ObjectStorage{}), out: obj(glacier.ObjectStorage{Hints: hint("COLD")}),
			wantIn: bucketPlan{Class: "STANDARD"},
			errs:   []string{`dataset "out": aws_storage_class "COLD" is not an S3 storage class; use one of STANDARD, REDUCED_REDUNDANCY`}},
		{name: "lowercase is not a storage class", in: obj(glacier.ObjectStorage{Hints: hint("standard")}), out: obj(glacier.ObjectStorage{}),
			wantOut: bucketPlan{Class: "STANDARD"},
			errs:    []string{`dataset "in": aws_storage_class "standard" is not an S3 storage class`}},
		{name: "express one zone", in: obj(glacier.ObjectStorage{}), out: obj(glacier.ObjectStorage{Hints: hint("EXPRESS_ONEZONE")}),
			wantIn: bucketPlan{Class: "STANDARD"},
			errs:   []string{`dataset "out": aws_storage_class EXPRESS_ONEZONE exists only in S3 directory buckets`}},
		{name: "reduced redundancy", in: obj(glacier.ObjectStorage{Hints: hint("REDUCED_REDUNDANCY")}),
			out:     obj(glacier.ObjectStorage{Hints: hint("REDUCED_REDUNDANCY")}),
			wantIn:  bucketPlan{Class: "REDUCED_REDUNDANCY", SourceClass: "REDUCED_REDUNDANCY"},
			wantOut: bucketPlan{Class: "REDUCED_REDUNDANCY"},
			warns:   []string{`dataset "out": objects written by task "t" stay STANDARD: no S3 lifecycle rule moves objects to REDUCED_REDUNDANCY`}},
		{name: "expiry before transition", in: obj(glacier.ObjectStorage{}),
			out:     obj(glacier.ObjectStorage{AccessPattern: glacier.AccessInfrequent, RetentionDays: 30}),
			wantIn:  bucketPlan{Class: "STANDARD"},
			wantOut: bucketPlan{Class: "STANDARD_IA", RetentionDays: 30},
			warns:   []string{`dataset "out": objects expire after 30 days (retention_days), before S3 may move them to STANDARD_IA after 30`}},
		{name: "versioned expiry does not stop the transition", in: obj(glacier.ObjectStorage{}),
			out:     obj(glacier.ObjectStorage{AccessPattern: glacier.AccessInfrequent, RetentionDays: 7, Versioning: true}),
			wantIn:  bucketPlan{Class: "STANDARD"},
			wantOut: bucketPlan{Class: "STANDARD_IA", RetentionDays: 7, Versioning: true, TransitionTo: "STANDARD_IA", TransitionDays: 30}},
		{name: "unknown hint", in: obj(glacier.ObjectStorage{Hints: glacier.Hints{"aws_kms_key": "k"}}), out: obj(glacier.ObjectStorage{}),
			wantIn: bucketPlan{Class: "STANDARD"}, wantOut: bucketPlan{Class: "STANDARD"},
			warns: []string{`dataset "in": the AWS compiler does not know the hint "aws_kms_key" and ignores it; it knows aws_storage_class`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pipeline(t, serverless(0, 0, nil),
				glacier.Dataset{Name: "in", Storage: tt.in, Source: "in.csv"},
				glacier.Dataset{Name: "out", Storage: tt.out})
			dir := project(t)
			pl, err := plan.New(p, nil)
			require.NoError(t, err)
			dep, probs := design(pl, Options{Dir: dir}.resolve("p"))
			var errs, warns []string
			for _, pr := range probs.Errors() {
				errs = append(errs, pr.String())
			}
			for _, pr := range probs.Warnings() {
				warns = append(warns, pr.String())
			}
			assertProblems(t, errs, tt.errs)
			assertProblems(t, warns, tt.warns)
			got := map[string]bucketPlan{}
			for _, d := range dep.Datasets {
				got[d.Name] = d.Bucket
			}
			if _, ok := tt.in.(glacier.ObjectStorage); ok {
				assert.Equal(t, tt.wantIn, got["in"], "in")
			}
			if _, ok := tt.out.(glacier.ObjectStorage); ok {
				assert.Equal(t, tt.wantOut, got["out"], "out")
			}
		})
	}
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

func TestSourceMissing(t *testing.T) {
	p := pipeline(t, serverless(0, 0, nil))
	errs, _ := check(t, p, Options{Dir: t.TempDir()})
	assertProblems(t, errs, []string{`dataset "in": source in.csv does not exist`})
}

func TestBucketNameClash(t *testing.T) {
	p := pipeline(t, glacier.Task{Compute: glacier.Serverless{}, Inputs: []string{"a_b"}, Outputs: []string{"a-b"}},
		glacier.Dataset{Name: "a_b", Storage: glacier.ObjectStorage{}, Source: "in.csv"},
		glacier.Dataset{Name: "a-b", Storage: glacier.ObjectStorage{}})
	errs, _ := check(t, p, Options{})
	assertProblems(t, errs, []string{`dataset "a-b": would share the bucket name "p-a-b" with dataset "a_b"`})
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

func TestOutDirRefused(t *testing.T) {
	out := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o644))
	p := pipeline(t, serverless(0, 0, nil))
	_, err := p.Compile(context.Background(), New(Options{Dir: project(t), Out: out}))
	require.ErrorContains(t, err, "is not empty and is not an earlier output of this compiler")
	require.ErrorContains(t, err, `"# Written by glacier compile --target aws."`)
	assert.Equal(t, []string{"notes.txt"}, dirNames(t, out), "nothing is written")
	_, err = p.Compile(context.Background(), New(Options{Dir: project(t)}))
	require.ErrorContains(t, err, "Options.Out is empty")
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestIdents(t *testing.T) {
	ids := pulumiproject.NewIdents(programNames...)
	assert.Equal(t, "s3Dataset", ids.Add(pulumiproject.Camel("s3"), "Dataset"), "an import")
	assert.Equal(t, "errDataset", ids.Add(pulumiproject.Camel("err"), "Dataset"), "a variable of the program")
	assert.Equal(t, "newTaskFunction", ids.Add(pulumiproject.Camel("new_task"), "Function"), "a function of the program")
}
