package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/glacier-pipeline/glacier/internal/conformance/tasks"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/sdk-guest/tasktest"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.rt != nil {
		shared.rt.Close(context.Background())
	}
	wasmbuild.Cleanup()
	os.Exit(code)
}

// shared is the runtime all tests use, so each module compiles once.
var shared struct {
	once sync.Once
	rt   *wasmrt.Runtime
	err  error
}

func sharedRuntime(t testing.TB) *wasmrt.Runtime {
	t.Helper()
	shared.once.Do(func() { shared.rt, shared.err = wasmrt.NewRuntime(context.Background()) })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.rt
}

// memStorage is a storage.Datasets in memory.
type memStorage struct {
	mu      sync.Mutex
	data    map[string][]byte
	parts   map[string][]string // each partitioned input's keys
	discard bool                // count written bytes instead of keeping them
}

func newStorage(inputs map[string][]byte) *memStorage {
	s := &memStorage{data: maps.Clone(inputs)}
	if s.data == nil {
		s.data = map[string][]byte{}
	}
	return s
}

func (s *memStorage) Open(_ context.Context, name string) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.data[name]
	if !ok {
		return nil, fmt.Errorf("dataset %q: %w", name, storage.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(d)), nil
}

func (s *memStorage) Stage(_ context.Context, name string) (storage.Staged, error) {
	return &memStaged{s: s, name: name}, nil
}

// A part is kept under its dataset's name, a NUL and its key.
func partName(dataset, key string) string { return dataset + "\x00" + key }

func (s *memStorage) PartKeys(_ context.Context, name string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys, ok := s.parts[name]
	if !ok {
		return nil, fmt.Errorf("dataset %q: %w", name, storage.ErrNotFound)
	}
	return slices.Sorted(slices.Values(keys)), nil
}

func (s *memStorage) OpenPart(ctx context.Context, name, key string) (io.ReadCloser, error) {
	return s.Open(ctx, partName(name, key))
}

func (s *memStorage) StagePart(ctx context.Context, name, key string) (storage.Staged, error) {
	return s.Stage(ctx, partName(name, key))
}

func (s *memStorage) get(name string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.data[name]
	return d, ok
}

type memStaged struct {
	s    *memStorage
	name string
	buf  bytes.Buffer
}

func (m *memStaged) Write(p []byte) (int, error) {
	if m.s.discard {
		return len(p), nil
	}
	return m.buf.Write(p)
}

func (m *memStaged) Commit(context.Context) error {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	m.s.data[m.name] = m.buf.Bytes()
	return nil
}

func (m *memStaged) Discard(context.Context) error { return nil }

// wasmRun is the outcome of a task under wasmrt.
type wasmRun struct {
	outputs map[string][]byte            // the committed outputs
	parts   map[string]map[string][]byte // the committed parts of partitioned outputs
	log     string
	err     error
}

// runWasm runs the module at path under wasmrt as the invocation cfg
// describes (in tasktest's terms), with the inputs in memory.
func runWasm(t *testing.T, path string, cfg tasktest.Config) wasmRun {
	t.Helper()
	ctx := context.Background()
	rt := sharedRuntime(t)
	wasm, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := rt.Load(ctx, wasm)
	if err != nil {
		t.Fatal(err)
	}
	store := newStorage(cfg.Inputs)
	inputs := append(slices.Collect(maps.Keys(cfg.Inputs)), cfg.MissingInputs...)
	outputs := slices.Clone(cfg.Outputs)
	var parted []string
	store.parts = map[string][]string{}
	for name, parts := range cfg.PartitionedInputs {
		for key, data := range parts {
			store.data[partName(name, key)] = data
			store.parts[name] = append(store.parts[name], key)
		}
		if store.parts[name] == nil {
			store.parts[name] = []string{}
		}
		inputs, parted = append(inputs, name), append(parted, name)
	}
	for _, name := range cfg.MissingPartitionedInputs {
		inputs, parted = append(inputs, name), append(parted, name)
	}
	for _, name := range cfg.PartitionedOutputs {
		outputs, parted = append(outputs, name), append(parted, name)
	}
	var log bytes.Buffer
	result, err := rt.Run(ctx, mod, wasmrt.Invocation{
		Task: cfg.Task, RunID: cfg.RunID, Params: cfg.Params,
		Inputs: inputs, Outputs: outputs, Part: cfg.Part, Partitioned: parted,
		Storage: store, Log: &log,
	})
	res := wasmRun{outputs: map[string][]byte{}, parts: map[string]map[string][]byte{}, log: log.String(), err: err}
	for _, o := range cfg.Outputs {
		if d, ok := store.get(o); ok {
			res.outputs[o] = d
		}
	}
	for name, written := range result.Parts {
		res.parts[name] = map[string][]byte{}
		for key := range written {
			if d, ok := store.get(partName(name, key)); ok {
				res.parts[name][key] = d
			}
		}
	}
	return res
}

// taskLines drops the host's own lines from a wasmrt log, leaving what the
// task wrote.
func taskLines(log string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(log, "\n") {
		if !strings.HasPrefix(l, "glacier: ") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// lines returns reproducible CSV-like text with n lines, some ending in CRLF.
func lines(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "%d,%s,%d.%02d", i, []string{"EUR", "USD", "GBP"}[r.IntN(3)], r.IntN(10000), r.IntN(100))
		if i%7 == 0 {
			b.WriteString("\r")
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

func random(n int) []byte {
	r := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestSDKTaskSameUnderWasmrtAndTasktest runs tasks.Conformance as a Wasm
// module under wasmrt and natively under tasktest, and requires the same
// outputs, the same log and the same failures.
func TestSDKTaskSameUnderWasmrtAndTasktest(t *testing.T) {
	module := wasmbuild.Build(t, "testdata/sdktask")
	text := lines(40000)
	config := func(mode string, in []byte) tasktest.Config {
		return tasktest.Config{
			Task:          "conf",
			RunID:         "run-7",
			Params:        map[string]string{"mode": mode, "prefix": "> "},
			Inputs:        map[string][]byte{"in": in},
			MissingInputs: []string{"later"},
			Outputs:       []string{"out", "summary"},
		}
	}
	tests := []struct {
		name    string
		cfg     tasktest.Config
		code    int    // 0 for success
		message string // the failure message, if code != 0
	}{
		{name: "transform", cfg: config("transform", text)},
		{name: "transform empty", cfg: config("transform", nil)},
		{name: "copy", cfg: config("copy", random(3<<20+17))},
		{name: "json", cfg: config("json", []byte(`{"b":[1,2.5,"x<y"],"a":null}`))},
		{name: "optional input", cfg: config("optional", nil)},
		{name: "returned error", cfg: config("fail", text), code: 1,
			message: `row 3 of "in" is bad: unparseable amount`},
		{name: "panic", cfg: config("panic", text), code: 2,
			message: `panic: mode panic: giving up`},
		{name: "undeclared input", cfg: config("undeclared", text), code: 1,
			message: `task: open input "secret": not a declared input of task "conf" (inputs: in, later); add it to inputs: in glacier.yaml`},
		{name: "reading an output", cfg: config("read-output", text), code: 1,
			message: `task: open input "summary": it is an output of task "conf", and a task cannot read its own outputs; read it in a task that lists it under inputs: in glacier.yaml`},
		{name: "writing an input", cfg: config("write-input", text), code: 1,
			message: `task: open output "in": it is an input of task "conf", and a task cannot write its inputs; write a new dataset and list it under outputs: in glacier.yaml`},
		{name: "missing output", cfg: config("missing-output", text), code: 1,
			message: `task: "conf" did not write declared output "summary"; open every declared output with Output, even to write nothing, or remove it from outputs: in glacier.yaml`},
		{name: "bad JSON", cfg: config("json", []byte(`{"a":`)), code: 1,
			message: `task: read JSON input "in": unexpected EOF`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			native, nerr := tasktest.Run(tasks.Conformance, tt.cfg)
			wasm := runWasm(t, module, tt.cfg)

			if tt.code == 0 {
				if nerr != nil || wasm.err != nil {
					t.Fatalf("want success; tasktest: %v; wasmrt: %v\nwasm log:\n%s", nerr, wasm.err, wasm.log)
				}
				for _, o := range tt.cfg.Outputs {
					if !bytes.Equal(native.Outputs[o], wasm.outputs[o]) {
						t.Errorf("output %q differs: tasktest %d bytes %.200q, wasmrt %d bytes %.200q",
							o, len(native.Outputs[o]), native.Outputs[o], len(wasm.outputs[o]), wasm.outputs[o])
					}
				}
				if len(native.Outputs["out"]) == 0 && len(tt.cfg.Inputs["in"]) > 0 {
					t.Error("out is empty although in is not")
				}
				var sum tasks.Summary
				if err := json.Unmarshal(wasm.outputs["summary"], &sum); err != nil || sum.Task != "conf" || sum.RunID != "run-7" {
					t.Errorf("summary = %s (%v), want the task's name and run ID", wasm.outputs["summary"], err)
				}
				if got, want := taskLines(wasm.log), native.Log; got != want {
					t.Errorf("logs differ:\nwasmrt:   %q\ntasktest: %q", got, want)
				}
				return
			}

			var te *tasktest.Error
			if !errors.As(nerr, &te) {
				t.Fatalf("tasktest: error %v, want a *tasktest.Error", nerr)
			}
			var we *wasmrt.ExitError
			if !errors.As(wasm.err, &we) {
				t.Fatalf("wasmrt: error %v, want an *wasmrt.ExitError\nlog:\n%s", wasm.err, wasm.log)
			}
			if te.ExitCode != tt.code || we.ExitCode() != tt.code {
				t.Errorf("exit codes: tasktest %d, wasmrt %d; want %d", te.ExitCode, we.ExitCode(), tt.code)
			}
			if te.Message != tt.message || we.Message() != tt.message {
				t.Errorf("messages:\ntasktest: %s\nwasmrt:   %s\nwant:     %s", te.Message, we.Message(), tt.message)
			}
			if nerr.Error() != wasm.err.Error() {
				t.Errorf("errors read differently:\ntasktest: %v\nwasmrt:   %v", nerr, wasm.err)
			}
			if native.Outputs != nil || len(wasm.outputs) != 0 {
				t.Errorf("a failed task's outputs were kept: tasktest %q, wasmrt %q", native.Outputs, wasm.outputs)
			}
			// The first line of the failure report is the same; a panic's
			// stack then differs between native code and Wasm.
			nfirst, _, _ := strings.Cut(native.Log, "\n")
			if !strings.Contains(wasm.log, nfirst+"\n") {
				t.Errorf("wasmrt log lacks tasktest's report %q:\n%s", nfirst, wasm.log)
			}
		})
	}
}

// TestWATCopy runs the WAT module next to the Go task: both copy "in" to
// "out", so their outputs must be the same bytes as the input.
func TestWATCopy(t *testing.T) {
	sdkModule := wasmbuild.Build(t, "testdata/sdktask")
	for _, size := range []int{0, 1, 65536, 65537, 5<<20 + 3} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			data := random(size)
			watCfg := tasktest.Config{Task: "copy", RunID: "r", Inputs: map[string][]byte{"in": data}, Outputs: []string{"out"}}
			wat := runWasm(t, "../../testdata/wasm/wat/copy.wasm", watCfg)
			if wat.err != nil {
				t.Fatalf("WAT copy: %v\n%s", wat.err, wat.log)
			}
			goCfg := tasktest.Config{
				Task: "copy", RunID: "r", Params: map[string]string{"mode": "copy"},
				Inputs: map[string][]byte{"in": data}, Outputs: []string{"out", "summary"},
			}
			sdk := runWasm(t, sdkModule, goCfg)
			if sdk.err != nil {
				t.Fatalf("Go copy: %v\n%s", sdk.err, sdk.log)
			}
			native, err := tasktest.Run(tasks.Conformance, goCfg)
			if err != nil {
				t.Fatal(err)
			}
			for name, got := range map[string][]byte{
				"WAT under wasmrt":  wat.outputs["out"],
				"Go under wasmrt":   sdk.outputs["out"],
				"Go under tasktest": native.Outputs["out"],
			} {
				if !bytes.Equal(got, data) {
					t.Errorf("%s: out has %d bytes, not the %d bytes of in", name, len(got), len(data))
				}
			}
		})
	}
}

// TestWATParts runs the WAT module that copies a partitioned input part by
// part next to the Go task doing the same, under wasmrt and under
// tasktest: every copy must hold the input's parts, byte for byte.
func TestWATParts(t *testing.T) {
	sdkModule := wasmbuild.Build(t, "testdata/sdktask")
	in := map[string][]byte{"a": random(0), "b/c.log": random(65537), "é/ü": random(3), "2026/12/01.csv": lines(100)}
	watCfg := tasktest.Config{Task: "parts", RunID: "r", PartitionedInputs: map[string]map[string][]byte{"in": in}, PartitionedOutputs: []string{"out"}}
	wat := runWasm(t, "../../testdata/wasm/wat/parts.wasm", watCfg)
	if wat.err != nil {
		t.Fatalf("WAT parts: %v\n%s", wat.err, wat.log)
	}
	goCfg := watCfg
	goCfg.Params, goCfg.Outputs = map[string]string{"mode": "parts"}, []string{"summary"}
	sdk := runWasm(t, sdkModule, goCfg)
	if sdk.err != nil {
		t.Fatalf("Go parts: %v\n%s", sdk.err, sdk.log)
	}
	native, err := tasktest.Run(tasks.Conformance, goCfg)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]map[string][]byte{
		"WAT under wasmrt":  wat.parts["out"],
		"Go under wasmrt":   sdk.parts["out"],
		"Go under tasktest": native.OutputParts["out"],
	} {
		if len(got) != len(in) {
			t.Errorf("%s: out has %d parts, want %d", name, len(got), len(in))
		}
		for key, want := range in {
			if !bytes.Equal(got[key], want) {
				t.Errorf("%s: part %q has %d bytes, not the %d of the input's", name, key, len(got[key]), len(want))
			}
		}
	}
	if !bytes.Equal(sdk.outputs["summary"], native.Outputs["summary"]) {
		t.Errorf("summaries differ:\nwasmrt:   %s\ntasktest: %s", sdk.outputs["summary"], native.Outputs["summary"])
	}
}

// TestWATCopyFailures checks the WAT module's failure path: task_fail, then
// exit code 1, and nothing committed.
func TestWATCopyFailures(t *testing.T) {
	tests := []struct {
		name string
		cfg  tasktest.Config
		msg  string
	}{
		{"input without a version", tasktest.Config{Task: "copy", MissingInputs: []string{"in"}, Outputs: []string{"out"}},
			`copy: cannot open input "in"`},
		{"output not declared", tasktest.Config{Task: "copy", Inputs: map[string][]byte{"in": []byte("x")}, Outputs: []string{"other"}},
			`copy: cannot open output "out"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runWasm(t, "../../testdata/wasm/wat/copy.wasm", tt.cfg)
			var we *wasmrt.ExitError
			if !errors.As(res.err, &we) || we.ExitCode() != 1 || we.Message() != tt.msg {
				t.Fatalf("error = %v, want exit code 1 with message %q", res.err, tt.msg)
			}
			if len(res.outputs) != 0 {
				t.Errorf("outputs committed: %q", res.outputs)
			}
		})
	}
}

// BenchmarkSDKCopy measures streaming through the SDK under wasmrt: the
// time to copy 64 MiB from an input to an output, instantiation and the
// host's hashing of the output included. The storage keeps nothing, so the
// number is the data plane's.
func BenchmarkSDKCopy(b *testing.B) {
	module := wasmbuild.Build(b, "testdata/sdktask")
	for _, bench := range []struct {
		name, path string
		params     map[string]string
		outputs    []string
	}{
		{"Go", module, map[string]string{"mode": "copy"}, []string{"out", "summary"}},
		{"WAT", "../../testdata/wasm/wat/copy.wasm", nil, []string{"out"}},
	} {
		b.Run(bench.name, func(b *testing.B) {
			ctx := context.Background()
			rt := sharedRuntime(b)
			wasm, err := os.ReadFile(bench.path)
			if err != nil {
				b.Fatal(err)
			}
			mod, err := rt.Load(ctx, wasm)
			if err != nil {
				b.Fatal(err)
			}
			data := random(64 << 20)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				store := newStorage(map[string][]byte{"in": data})
				store.discard = true
				_, err := rt.Run(ctx, mod, wasmrt.Invocation{
					Task: "copy", Params: bench.params, Inputs: []string{"in"}, Outputs: bench.outputs, Storage: store,
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
