package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/schema"
)

const designExample = `name: etl
datasets:
  raw_orders:
    storage: {type: object, access_pattern: frequent, versioning: true, aws_storage_class: INTELLIGENT_TIERING}
    source: data/orders.csv
  clean_orders: {storage: {type: object}}
  report:       {storage: {type: object}}
tasks:
  clean:
    build: ./tasks/clean
    inputs: [raw_orders]
    outputs: [clean_orders]
    compute: {type: serverless, memory: 512, timeout: 60}
    params: {currency: EUR}
  report:
    module: ./prebuilt/report.wasm
    inputs: [clean_orders]
    outputs: [report]
    compute: {type: local}
`

func TestParseDesignExample(t *testing.T) {
	m, err := Parse("glacier.yaml", []byte(designExample))
	if err != nil {
		t.Fatal(err)
	}
	p := m.Pipeline
	if p.Name() != "etl" {
		t.Errorf("name = %q", p.Name())
	}
	raw, ok := p.Dataset("raw_orders")
	if !ok {
		t.Fatal("raw_orders missing")
	}
	want := glacier.Dataset{Name: "raw_orders", Source: "data/orders.csv", Storage: glacier.ObjectStorage{
		AccessPattern: glacier.AccessFrequent, Versioning: true,
		Hints: glacier.Hints{"aws_storage_class": "INTELLIGENT_TIERING"},
	}}
	if !reflect.DeepEqual(raw, want) {
		t.Errorf("raw_orders = %+v, want %+v", raw, want)
	}
	clean, _ := p.Task("clean")
	wantTask := glacier.Task{Name: "clean", Build: "./tasks/clean", Inputs: []string{"raw_orders"},
		Outputs: []string{"clean_orders"}, Compute: glacier.Serverless{Memory: 512, Timeout: 60},
		Params: map[string]string{"currency": "EUR"}}
	if !reflect.DeepEqual(clean, wantTask) {
		t.Errorf("clean = %+v, want %+v", clean, wantTask)
	}
	if got := m.Line("task", "report"); got != 15 {
		t.Errorf("task report declared on line %d, want 15", got)
	}
	if errs, warns := m.Diagnostics(); len(errs)+len(warns) != 0 {
		t.Errorf("diagnostics: %v %v", errs, warns)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // each must appear in the error
	}{
		{"typo in task key", "name: x\ntasks:\n  a:\n    module: a.wasm\n    outputz: [b]\n",
			[]string{`glacier.yaml:5: unknown key "outputz" in task "a"; did you mean "outputs"?`}},
		{"typo in top key", "name: x\ntask:\n  a: {}\n", []string{`glacier.yaml:2: unknown key "task"`, `"tasks"`}},
		{"unknown storage type", "name: x\ndatasets:\n  d: {storage: {type: blob}}\ntasks: {}\n",
			[]string{`glacier.yaml:3: dataset "d" storage has unknown type "blob"`}},
		{"storage without type", "name: x\ndatasets:\n  d: {storage: {versioning: true}}\ntasks: {}\n",
			[]string{`dataset "d" storage has no type:`}},
		{"unknown compute type", "name: x\ntasks:\n  a: {module: a.wasm, compute: {type: gpu}}\n",
			[]string{`task "a" compute has unknown type "gpu"; use one of container, local, serverless`}},
		{"key of another compute type", "name: x\ntasks:\n  a: {module: a.wasm, compute: {type: serverless, image: x}}\n",
			[]string{`unknown key "image" in task "a" compute (type serverless)`}},
		{"zero memory", "name: x\ntasks:\n  a: {module: a.wasm, compute: {type: serverless, memory: 0}}\n",
			[]string{`glacier.yaml:3: task "a" compute memory is 0; it must be positive`}},
		{"negative timeout", "name: x\ntasks:\n  a: {module: a.wasm, compute: {type: serverless, timeout: -3}}\n",
			[]string{`task "a" compute timeout is -3; it must be positive`}},
		{"name twice", "name: x\nname: y\ntasks:\n  a: {module: a.wasm}\n",
			[]string{`glacier.yaml:2: key "name" is given twice in one mapping, on lines 1 and 2; keep one`}},
		{"param twice", "name: x\ntasks:\n  a:\n    module: a.wasm\n    params: {n: 1, n: 2}\n",
			[]string{`glacier.yaml:5: key "n" is given twice in one mapping, on lines 5 and 5`}},
		{"outputs twice", "name: x\ndatasets:\n  o: {}\n  p: {}\ntasks:\n  a:\n    module: a.wasm\n    outputs: [o]\n    outputs: [p]\n",
			[]string{`glacier.yaml:9: key "outputs" is given twice in one mapping, on lines 8 and 9`}},
		{"task twice", "name: x\ntasks:\n  a: {module: a.wasm}\n  a: {module: b.wasm}\n",
			[]string{`glacier.yaml:4: key "a" is given twice in one mapping, on lines 3 and 4`}},
		{"tolerated failures not a percentage", "name: x\ntasks:\n  a: {module: a.wasm, map: i, tolerated_failures: some}\n",
			[]string{`glacier.yaml:3: task "a" tolerated_failures must be a percentage, like 5%, got "some"`}},
		{"partitioned not a boolean", "name: x\ndatasets:\n  d: {partitioned: yes please}\ntasks: {}\n",
			[]string{`dataset "d" partitioned must be true or false, got "yes please"`}},
		{"zero compile memory", "name: x\ntasks:\n  a: {module: a.wasm, compute: {type: local, compile_memory: 0}}\n",
			[]string{`task "a" compute compile_memory is 0; it must be positive`}},
		{"compile timeout not a number", "name: x\ntasks:\n  a: {module: a.wasm, compute: {type: serverless, compile_timeout: 1m}}\n",
			[]string{`task "a" compute compile_timeout must be a whole number, got "1m"`}},
		{"memory not a number", "name: x\ntasks:\n  a: {module: a.wasm, compute: {type: serverless, memory: lots}}\n",
			[]string{`task "a" compute memory must be a whole number, got "lots"`}},
		{"zero cpu", "name: x\ntasks:\n  a: {module: a.wasm, compute: {type: container, cpu: 0}}\n",
			[]string{`task "a" compute cpu is 0; it must be positive`}},
		{"inputs not a list", "name: x\ntasks:\n  a: {module: a.wasm, inputs: raw}\n",
			[]string{`task "a" inputs must be a list`}},
		{"bad bool", "name: x\ndatasets:\n  d: {storage: {type: object, versioning: maybe}}\ntasks: {}\n",
			[]string{`versioning must be true or false, got "maybe"`}},
		{"typo'd field with underscore", "name: x\ndatasets:\n  d: {storage: {type: object, acess_pattern: frequent}}\ntasks: {}\n",
			[]string{`unknown key "acess_pattern"`, `did you mean "access_pattern"?`}},
		{"no name", "tasks: {}\n", []string{"no name:"}},
		{"no tasks", "name: x\n", []string{"no tasks:"}},
		{"empty", "", []string{"empty"}},
		{"bad yaml", "name: x\ntasks: [\n", []string{"glacier.yaml:"}},
		{"unclosed brace, at its line", "name: x\ndatasets:\n  a: {}\ntasks:\n  t: {module: a.wasm, outputs: [a]\n  u: {module: b.wasm}\n",
			[]string{"glacier.yaml:5: did not find expected ',' or '}'"}},
		{"bad indentation, at its line", "name: x\ndatasets:\n  a: {}\ntasks:\n  t:\n    module: a.wasm\n   outputs: [a]\n",
			[]string{"glacier.yaml:7: did not find expected key"}},
		{"invalid dataset name", "name: x\ndatasets:\n  Raw Orders: {}\ntasks: {}\n",
			[]string{`glacier.yaml:3: dataset "Raw Orders": invalid name`, "lowercase"}},
		{"duplicate key", "name: x\ntasks:\n  a: {module: a.wasm}\n  a: {module: b.wasm}\n", []string{`glacier.yaml:4: task "a" is declared twice`}},
		{"param not scalar", "name: x\ntasks:\n  a: {module: a.wasm, params: {p: [1]}}\n", []string{`param "p" must be a single value`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("glacier.yaml", []byte(tt.yaml))
			var merr *Error
			if !errors.As(err, &merr) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestHints(t *testing.T) {
	m, err := Parse("g.yaml", []byte(`name: x
datasets:
  d: {storage: {type: object, gcp_storage_class: NEARLINE, ibm_tier: gold}, source: d.csv}
tasks:
  a: {module: a.wasm, inputs: [d], outputs: [e], compute: {type: serverless, aws_architecture: x86_64}}
`))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := m.Pipeline.Dataset("d")
	if got := d.Storage.ProviderHints(); !reflect.DeepEqual(got, glacier.Hints{"gcp_storage_class": "NEARLINE", "ibm_tier": "gold"}) {
		t.Errorf("hints = %v", got)
	}
	errs, warns := m.Diagnostics()
	if len(warns) != 1 || !strings.Contains(warns[0], `g.yaml:3: dataset "d": provider hint "ibm_tier" has an unknown prefix`) {
		t.Errorf("warnings = %q", warns)
	}
	// e is undeclared: the diagnostic points at task a's line.
	if len(errs) != 1 || !strings.HasPrefix(errs[0], `g.yaml:5: task "a": writes dataset "e"`) {
		t.Errorf("errors = %q", errs)
	}
}

func TestDiagnosticsPositions(t *testing.T) {
	src := `name: bad
datasets:
  a: {storage: {type: object}}
  b: {storage: {type: object}}
  c: {storage: {type: object}}
tasks:
  alpha: {module: m.wasm, inputs: [b], outputs: [a]}
  beta:  {module: m.wasm, inputs: [a], outputs: [b]}
  gamma: {module: m.wasm, inputs: [ghost], outputs: [c]}
  delta: {module: m.wasm, inputs: [a], outputs: [c]}
`
	m, err := Parse("glacier.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	errs, _ := m.Diagnostics()
	all := strings.Join(errs, "\n")
	for _, want := range []string{
		"glacier.yaml:6: pipeline: cycle: alpha -> beta -> alpha",
		`glacier.yaml:9: task "gamma": reads dataset "ghost", which is not declared`,
		`glacier.yaml:5: dataset "c": has 2 producers ("gamma", "delta")`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	p := glacier.New("round")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(p.AddDataset(glacier.Dataset{Name: "src", Source: "data/in.csv", Storage: glacier.ObjectStorage{
		AccessPattern: glacier.AccessArchive, Versioning: true, Encryption: true, RetentionDays: 30,
		Hints: glacier.Hints{"aws_storage_class": "GLACIER", "azure_tier": "cool"}}}))
	must(p.AddDataset(glacier.Dataset{Name: "db", Storage: glacier.Database{Encryption: true, RetentionDays: 7}}))
	must(p.AddDataset(glacier.Dataset{Name: "kv", Storage: glacier.Cache{TTLSeconds: 60}}))
	must(p.AddDataset(glacier.Dataset{Name: "q", Storage: glacier.Queue{RetentionDays: 4, Hints: glacier.Hints{"gcp_x": "1"}}}))
	must(p.AddTask(glacier.Task{Name: "a", Build: "./tasks/a", Inputs: []string{"src"}, Outputs: []string{"db", "kv"},
		Compute: glacier.Container{Image: "img", CPU: 0.5, Memory: 1024, Timeout: 10, Hints: glacier.Hints{"aws_cpu_arch": "arm64"}},
		Params:  map[string]string{"n": "10", "flag": "true", "empty": "", "s": "a: b"}, Retries: 3}))
	must(p.AddTask(glacier.Task{Name: "b", Module: "b.wasm", Inputs: []string{"db", "kv"}, Outputs: []string{"q"},
		Compute: glacier.Local{Workers: 2, Memory: 64, Timeout: 5, Compile: glacier.CompileBudget{MemoryMiB: 2048, TimeoutSecs: 90}}}))
	must(p.AddTask(glacier.Task{Name: "c", Module: "c.wasm", Inputs: []string{"q"}, Outputs: []string{"q2"},
		Compute: glacier.Serverless{Memory: 128, Timeout: 900, Compile: glacier.CompileBudget{TimeoutSecs: 30}}}))
	must(p.AddDataset(glacier.Dataset{Name: "q2", Storage: glacier.ObjectStorage{}}))
	must(p.AddDataset(glacier.Dataset{Name: "logs", Source: "logs/**/*.log", Partitioned: true, Storage: glacier.ObjectStorage{}}))
	must(p.AddDataset(glacier.Dataset{Name: "parsed", Partitioned: true, Storage: glacier.ObjectStorage{}}))
	must(p.AddTask(glacier.Task{Name: "parse", Module: "p.wasm", Inputs: []string{"logs", "q2"}, Outputs: []string{"parsed"},
		Map: "logs", ToleratedFailures: 2.5, MaxConcurrency: 40}))
	must(p.AddDataset(glacier.Dataset{Name: "typed", Storage: glacier.ObjectStorage{}, Schema: &schema.Schema{Format: schema.CSV, Columns: []schema.Column{
		{Name: "id", Type: schema.Integer}, {Name: "cur", Type: schema.String, Nullable: true, Pattern: "[A-Z]{3}", Enum: []string{"EUR", "USD"}}}}}))
	must(p.AddDataset(glacier.Dataset{Name: "events", Storage: glacier.ObjectStorage{}, Schema: &schema.Schema{Format: schema.JSONL,
		JSONSchema: []byte(`{"properties":{"a":{"type":"integer"}},"type":"object"}`)}}))
	must(p.AddTask(glacier.Task{Name: "typing", Module: "t.wasm", Inputs: []string{"parsed"}, Outputs: []string{"typed", "events"}}))

	data, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse("rt.yaml", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if !reflect.DeepEqual(m.Pipeline, p) {
		t.Errorf("round trip changed the pipeline:\n%s\ngot  %+v\nwant %+v", data, m.Pipeline, p)
	}
	again, err := Marshal(m.Pipeline)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(data) {
		t.Errorf("second marshal differs:\n%s\n---\n%s", data, again)
	}
}

func TestExamplesRoundTrip(t *testing.T) {
	for _, path := range exampleManifests(t) {
		t.Run(path, func(t *testing.T) {
			m, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if errs, _ := m.Diagnostics(); len(errs) > 0 {
				t.Fatalf("example is invalid:\n%s", strings.Join(errs, "\n"))
			}
			data, err := Marshal(m.Pipeline)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(path, data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Pipeline, m.Pipeline) {
				t.Errorf("round trip changed %s:\n%s", path, data)
			}
		})
	}
}

// exampleManifests returns every glacier.yaml under examples/.
func exampleManifests(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("../examples/*/glacier.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no example manifests found (%v)", err)
	}
	return paths
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "glacier.yaml"))
	if err == nil || !strings.Contains(err.Error(), "glacier init") {
		t.Errorf("err = %v", err)
	}
}

func TestLoadSetsDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "glacier.yaml")
	if err := os.WriteFile(path, []byte(designExample), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Dir != dir || m.Resolve("data/x.csv") != filepath.Join(dir, "data", "x.csv") {
		t.Errorf("Dir = %q, Resolve = %q", m.Dir, m.Resolve("data/x.csv"))
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(designExample))
	f.Add([]byte("name: x\ntasks:\n  a: {module: a.wasm, compute: {type: container, cpu: 1e400}}\n"))
	f.Add([]byte("name: [\n"))
	f.Add([]byte("&a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("f.yaml", data)
		if m == nil {
			if err == nil {
				t.Fatal("nil manifest without an error")
			}
			return
		}
		m.Diagnostics()
		if err == nil {
			if _, err := Marshal(m.Pipeline); err != nil {
				t.Fatalf("a parsed manifest does not marshal: %v", err)
			}
		}
	})
}
