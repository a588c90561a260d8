package glacier_test

import (
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier"
)

// good returns a valid two-task pipeline that tests then break.
func good(t *testing.T) *glacier.Pipeline {
	t.Helper()
	p := glacier.New("etl")
	must(t, p.AddDataset(glacier.Dataset{Name: "raw", Storage: glacier.ObjectStorage{}, Source: "data/raw.csv"}))
	must(t, p.AddDataset(glacier.Dataset{Name: "clean", Storage: glacier.ObjectStorage{}}))
	must(t, p.AddDataset(glacier.Dataset{Name: "report", Storage: glacier.ObjectStorage{}}))
	must(t, p.AddTask(glacier.Task{Name: "clean", Build: "./tasks/clean", Inputs: []string{"raw"}, Outputs: []string{"clean"},
		Compute: glacier.Serverless{Memory: 512, Timeout: 60}}))
	must(t, p.AddTask(glacier.Task{Name: "report", Module: "report.wasm", Inputs: []string{"clean"}, Outputs: []string{"report"}}))
	return p
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestValidateGood(t *testing.T) {
	if ps := good(t).Validate(); len(ps) != 0 {
		t.Fatalf("good pipeline has problems: %v", ps)
	}
}

func TestValidateProblems(t *testing.T) {
	tests := []struct {
		name  string
		build func(t *testing.T) *glacier.Pipeline
		// want are substrings that must all appear in one error problem.
		want    []string
		warning bool
	}{
		{
			name: "cycle",
			build: func(t *testing.T) *glacier.Pipeline {
				p := glacier.New("loop")
				must(t, p.AddDataset(glacier.Dataset{Name: "a", Storage: glacier.ObjectStorage{}}))
				must(t, p.AddDataset(glacier.Dataset{Name: "b", Storage: glacier.ObjectStorage{}}))
				must(t, p.AddTask(glacier.Task{Name: "alpha", Module: "x.wasm", Inputs: []string{"b"}, Outputs: []string{"a"}}))
				must(t, p.AddTask(glacier.Task{Name: "beta", Module: "x.wasm", Inputs: []string{"a"}, Outputs: []string{"b"}}))
				return p
			},
			want: []string{"cycle: alpha -> beta -> alpha"},
		},
		{
			name: "self loop",
			build: func(t *testing.T) *glacier.Pipeline {
				p := glacier.New("loop")
				must(t, p.AddDataset(glacier.Dataset{Name: "a", Storage: glacier.ObjectStorage{}}))
				must(t, p.AddTask(glacier.Task{Name: "alpha", Module: "x.wasm", Inputs: []string{"a"}, Outputs: []string{"a"}}))
				return p
			},
			want: []string{"cycle: alpha -> alpha"},
		},
		{
			name: "orphan input",
			build: func(t *testing.T) *glacier.Pipeline {
				p := good(t)
				must(t, p.AddDataset(glacier.Dataset{Name: "lookup", Storage: glacier.ObjectStorage{}}))
				must(t, p.AddTask(glacier.Task{Name: "join", Module: "j.wasm", Inputs: []string{"lookup"}, Outputs: []string{"joined"}}))
				must(t, p.AddDataset(glacier.Dataset{Name: "joined", Storage: glacier.ObjectStorage{}}))
				return p
			},
			want: []string{`dataset "lookup"`, `task "join"`, "nothing produces it", "source"},
		},
		{
			name: "unused dataset",
			build: func(t *testing.T) *glacier.Pipeline {
				p := good(t)
				must(t, p.AddDataset(glacier.Dataset{Name: "stray", Storage: glacier.ObjectStorage{}}))
				return p
			},
			want: []string{`dataset "stray"`, "neither produced nor read"},
		},
		{
			name: "two producers",
			build: func(t *testing.T) *glacier.Pipeline {
				p := good(t)
				must(t, p.AddTask(glacier.Task{Name: "clean2", Module: "c.wasm", Inputs: []string{"raw"}, Outputs: []string{"clean"}}))
				return p
			},
			want: []string{`dataset "clean"`, `"clean"`, `"clean2"`, "2 producers"},
		},
		{
			name: "source and producer",
			build: func(t *testing.T) *glacier.Pipeline {
				p := good(t)
				must(t, p.AddTask(glacier.Task{Name: "fake", Module: "c.wasm", Inputs: []string{"clean"}, Outputs: []string{"raw"}}))
				return p
			},
			want: []string{`dataset "raw"`, `task "fake"`, "source"},
		},
		{
			name: "undeclared input",
			build: func(t *testing.T) *glacier.Pipeline {
				p := good(t)
				must(t, p.AddTask(glacier.Task{Name: "x", Module: "x.wasm", Inputs: []string{"ghost"}, Outputs: []string{"out"}}))
				must(t, p.AddDataset(glacier.Dataset{Name: "out", Storage: glacier.ObjectStorage{}}))
				return p
			},
			want: []string{`task "x"`, `reads dataset "ghost"`, "not declared"},
		},
		{
			name: "undeclared output",
			build: func(t *testing.T) *glacier.Pipeline {
				p := good(t)
				must(t, p.AddTask(glacier.Task{Name: "x", Module: "x.wasm", Inputs: []string{"raw"}, Outputs: []string{"ghost"}}))
				return p
			},
			want: []string{`task "x"`, `writes dataset "ghost"`, "not declared"},
		},
		{
			name: "no module",
			build: func(t *testing.T) *glacier.Pipeline {
				p := good(t)
				must(t, p.AddDataset(glacier.Dataset{Name: "out", Storage: glacier.ObjectStorage{}}))
				must(t, p.AddTask(glacier.Task{Name: "x", Inputs: []string{"raw"}, Outputs: []string{"out"}}))
				return p
			},
			want: []string{`task "x"`, "has no module", "build:"},
		},
		{
			name: "both build and module",
			build: func(t *testing.T) *glacier.Pipeline {
				p := good(t)
				must(t, p.AddDataset(glacier.Dataset{Name: "out", Storage: glacier.ObjectStorage{}}))
				must(t, p.AddTask(glacier.Task{Name: "x", Build: "./x", Module: "x.wasm", Inputs: []string{"raw"}, Outputs: []string{"out"}}))
				return p
			},
			want: []string{`task "x"`, "both build: and module:"},
		},
		{
			name: "no outputs",
			build: func(t *testing.T) *glacier.Pipeline {
				p := good(t)
				must(t, p.AddTask(glacier.Task{Name: "sink", Module: "x.wasm", Inputs: []string{"report"}}))
				return p
			},
			want: []string{`task "sink"`, "no outputs"},
		},
		{
			name:  "bad memory",
			build: withCompute(glacier.Serverless{Memory: -1}),
			want:  []string{`task "x"`, "memory is -1", "positive"},
		},
		{
			name:  "bad timeout",
			build: withCompute(glacier.Serverless{Timeout: -5}),
			want:  []string{`task "x"`, "timeout is -5"},
		},
		{
			name:  "bad compile budget",
			build: withCompute(glacier.Serverless{Compile: glacier.CompileBudget{MemoryMiB: -1, TimeoutSecs: -2}}),
			want:  []string{`task "x"`, "compile_memory is -1"},
		},
		{
			name:  "bad cpu",
			build: withCompute(glacier.Container{CPU: -0.5}),
			want:  []string{`task "x"`, "cpu is -0.5"},
		},
		{
			name:  "bad workers",
			build: withCompute(glacier.Local{Workers: -2}),
			want:  []string{`task "x"`, "workers is -2"},
		},
		{
			name:  "unknown compute type",
			build: withCompute(fakeCompute{}),
			want:  []string{`task "x"`, "unknown compute type", "serverless"},
		},
		{
			name: "unknown storage type",
			build: func(t *testing.T) *glacier.Pipeline {
				p := good(t)
				must(t, p.AddDataset(glacier.Dataset{Name: "odd", Storage: fakeStorage{}, Source: "x"}))
				return p
			},
			want: []string{`dataset "odd"`, "unknown storage type", "object"},
		},
		{
			name: "no storage",
			build: func(t *testing.T) *glacier.Pipeline {
				p := good(t)
				must(t, p.AddDataset(glacier.Dataset{Name: "bare", Source: "x"}))
				return p
			},
			want: []string{`dataset "bare"`, "no storage"},
		},
		{
			name:  "container compute is not runnable yet",
			build: withCompute(glacier.Container{CPU: 1}),
			want:  []string{`task "x"`, "container compute", "nothing runs yet", "serverless"},
		},
		{
			name:  "database storage is not runnable yet",
			build: withStorage(glacier.Database{}),
			want:  []string{`dataset "odd"`, "database storage", "nothing runs yet", "{type: object}"},
		},
		{
			name:  "cache storage is not runnable yet",
			build: withStorage(glacier.Cache{TTLSeconds: 60}),
			want:  []string{`dataset "odd"`, "cache storage", "nothing runs yet"},
		},
		{
			name:  "queue storage is not runnable yet",
			build: withStorage(glacier.Queue{}),
			want:  []string{`dataset "odd"`, "queue storage", "nothing runs yet"},
		},
		{
			name: "bad access pattern",
			build: func(t *testing.T) *glacier.Pipeline {
				p := good(t)
				must(t, p.AddDataset(glacier.Dataset{Name: "odd", Storage: glacier.ObjectStorage{AccessPattern: "often"}, Source: "x"}))
				return p
			},
			want: []string{`dataset "odd"`, `"often"`, `"frequent"`},
		},
		{
			name:  "invalid pipeline name",
			build: func(t *testing.T) *glacier.Pipeline { return glacier.New("My ETL") },
			want:  []string{`pipeline`, `"My ETL"`, "lowercase"},
		},
		{
			name:  "negative retries",
			build: withTask(glacier.Task{Name: "x", Module: "x.wasm", Inputs: []string{"raw"}, Outputs: []string{"out"}, Retries: -1}),
			want:  []string{`task "x"`, "retries is -1"},
		},
		{
			name:    "unknown hint prefix",
			build:   withCompute(glacier.Serverless{Hints: glacier.Hints{"ibm_tier": "gold", "aws_architecture": "arm64"}}),
			want:    []string{`task "x"`, `"ibm_tier"`, "unknown prefix"},
			warning: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := tt.build(t).Validate()
			list := ps.Errors()
			if tt.warning {
				list = ps.Warnings()
				if err := ps.Err(); err != nil {
					t.Errorf("a warning made the pipeline invalid: %v", err)
				}
			}
			for _, p := range list {
				if containsAll(p.String(), tt.want) {
					return
				}
			}
			t.Errorf("no problem mentions all of %q; got:\n%v", tt.want, ps)
		})
	}
}

func TestValidateReportsEverything(t *testing.T) {
	p := glacier.New("etl")
	must(t, p.AddDataset(glacier.Dataset{Name: "a", Storage: glacier.ObjectStorage{}}))
	must(t, p.AddTask(glacier.Task{Name: "one", Inputs: []string{"a", "ghost"}, Outputs: []string{"a"},
		Compute: glacier.Serverless{Memory: -1, Timeout: -1}}))
	err := p.Validate().Err()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"cycle: one -> one", `"ghost"`, "no module", "memory is -1", "timeout is -1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestAddRejectsDuplicatesAndBadNames(t *testing.T) {
	p := good(t)
	for _, err := range []error{
		p.AddDataset(glacier.Dataset{Name: "raw", Storage: glacier.ObjectStorage{}}),
		p.AddTask(glacier.Task{Name: "clean"}),
	} {
		if err == nil || !strings.Contains(err.Error(), "declared twice") {
			t.Errorf("duplicate accepted or unclear: %v", err)
		}
	}
	for _, name := range []string{"", "Raw", "1st", "a b", "trailing_", strings.Repeat("a", 41), "ünï"} {
		if err := p.AddDataset(glacier.Dataset{Name: name}); err == nil || !strings.Contains(err.Error(), "lowercase") {
			t.Errorf("AddDataset(%q) = %v, want a name-rule error", name, err)
		}
	}
	for _, name := range []string{"a", "raw_orders", "daily-report", "x1", strings.Repeat("a", 40)} {
		if err := glacier.CheckName(name); err != nil {
			t.Errorf("CheckName(%q) = %v", name, err)
		}
	}
}

func TestLevels(t *testing.T) {
	p := glacier.New("diamond")
	for _, d := range []string{"src", "l", "r", "out"} {
		ds := glacier.Dataset{Name: d, Storage: glacier.ObjectStorage{}}
		if d == "src" {
			ds.Source = "src.csv"
		}
		must(t, p.AddDataset(ds))
	}
	must(t, p.AddTask(glacier.Task{Name: "join", Module: "m.wasm", Inputs: []string{"l", "r"}, Outputs: []string{"out"}}))
	must(t, p.AddTask(glacier.Task{Name: "right", Module: "m.wasm", Inputs: []string{"src"}, Outputs: []string{"r"}}))
	must(t, p.AddTask(glacier.Task{Name: "left", Module: "m.wasm", Inputs: []string{"src"}, Outputs: []string{"l"}}))
	levels, err := p.Levels()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range levels {
		var names []string
		for _, t := range l {
			names = append(names, t.Name)
		}
		got = append(got, strings.Join(names, ","))
	}
	if want := "right,left|join"; strings.Join(got, "|") != want {
		t.Errorf("levels = %q, want %q", strings.Join(got, "|"), want)
	}
	if up := p.Upstream("join"); strings.Join(up, ",") != "left,right" {
		t.Errorf("Upstream(join) = %v", up)
	}
}

func withCompute(c glacier.Compute) func(t *testing.T) *glacier.Pipeline {
	return withTask(glacier.Task{Name: "x", Module: "x.wasm", Inputs: []string{"raw"}, Outputs: []string{"out"}, Compute: c})
}

func withStorage(st glacier.Storage) func(t *testing.T) *glacier.Pipeline {
	return func(t *testing.T) *glacier.Pipeline {
		p := good(t)
		must(t, p.AddDataset(glacier.Dataset{Name: "odd", Storage: st, Source: "x"}))
		return p
	}
}

func withTask(task glacier.Task) func(t *testing.T) *glacier.Pipeline {
	return func(t *testing.T) *glacier.Pipeline {
		p := good(t)
		must(t, p.AddDataset(glacier.Dataset{Name: "out", Storage: glacier.ObjectStorage{}}))
		must(t, p.AddTask(task))
		return p
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

type fakeCompute struct{}

func (fakeCompute) ComputeType() string          { return "gpu" }
func (fakeCompute) ProviderHints() glacier.Hints { return nil }

type fakeStorage struct{}

func (fakeStorage) StorageType() string          { return "tape" }
func (fakeStorage) ProviderHints() glacier.Hints { return nil }
