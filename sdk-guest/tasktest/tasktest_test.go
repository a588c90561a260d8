package tasktest_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/sdk-guest/task"
	"github.com/glacier-pipeline/glacier/sdk-guest/tasktest"
)

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// copyWith returns a task that copies input "in" to output "out" with cp.
func copyWith(cp func(w io.Writer, r io.Reader) error) func(*task.Context) error {
	return func(t *task.Context) error {
		in, err := t.Input("in")
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := t.Output("out")
		if err != nil {
			return err
		}
		if err := cp(out, in); err != nil {
			return err
		}
		return out.Close()
	}
}

// onlyWriter and onlyReader hide io.WriterTo and io.ReaderFrom, so io.Copy
// takes its generic path.
type onlyWriter struct{ io.Writer }
type onlyReader struct{ io.Reader }

func TestStreaming(t *testing.T) {
	copiers := map[string]func(w io.Writer, r io.Reader) error{
		"io.Copy": func(w io.Writer, r io.Reader) error { _, err := io.Copy(w, r); return err },
		"ReadFrom": func(w io.Writer, r io.Reader) error {
			_, err := w.(io.ReaderFrom).ReadFrom(onlyReader{r})
			return err
		},
		"generic copy": func(w io.Writer, r io.Reader) error {
			_, err := io.Copy(onlyWriter{w}, onlyReader{r})
			return err
		},
		"small reads and writes": func(w io.Writer, r io.Reader) error {
			_, err := io.CopyBuffer(onlyWriter{w}, onlyReader{r}, make([]byte, 7))
			return err
		},
		"huge buffer": func(w io.Writer, r io.Reader) error {
			_, err := io.CopyBuffer(onlyWriter{w}, onlyReader{r}, make([]byte, 3<<20))
			return err
		},
		"ReadAll then one Write": func(w io.Writer, r io.Reader) error {
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			_, err = w.Write(b)
			return err
		},
		"bufio lines": func(w io.Writer, r io.Reader) error {
			bw := bufio.NewWriterSize(onlyWriter{w}, 100)
			br := bufio.NewReaderSize(onlyReader{r}, 16)
			for {
				line, err := br.ReadBytes('\n')
				if _, werr := bw.Write(line); werr != nil {
					return werr
				}
				if err == io.EOF {
					return bw.Flush()
				}
				if err != nil {
					return err
				}
			}
		},
	}
	sizes := []int{0, 1, 1000, 256<<10 - 1, 256 << 10, 256<<10 + 1, 3<<20 + 17}
	for name, cp := range copiers {
		for _, size := range sizes {
			t.Run(fmt.Sprintf("%s/%d", name, size), func(t *testing.T) {
				data := randomBytes(size, uint64(size))
				res, err := tasktest.Run(copyWith(cp), tasktest.Config{
					Inputs:  map[string][]byte{"in": data},
					Outputs: []string{"out"},
				})
				if err != nil {
					t.Fatal(err)
				}
				if got := res.Outputs["out"]; !bytes.Equal(got, data) {
					t.Fatalf("out has %d bytes, want the %d bytes of in", len(got), len(data))
				}
			})
		}
	}
}

func TestContext(t *testing.T) {
	params := map[string]string{"currency": "EUR", "limit": "10"}
	var (
		gotTask, gotRun     string
		gotIn, gotOut       []string
		gotParams           map[string]string
		gotCurrency, gotNon string
	)
	res, err := tasktest.Run(func(c *task.Context) error {
		gotTask, gotRun = c.Task(), c.RunID()
		gotIn, gotOut = c.Inputs(), c.Outputs()
		gotParams = c.Params()
		gotParams["currency"] = "changed" // a copy: must not reach Param
		gotCurrency, gotNon = c.Param("currency"), c.Param("nonexistent")
		c.Inputs()[0] = "changed"
		if c.Inputs()[0] != "a" {
			return errors.New("Inputs is not a copy")
		}
		c.Logf("hello %s", "log")
		c.Logf("already ended\n")
		for _, o := range c.Outputs() {
			w, err := c.Output(o)
			if err != nil {
				return err
			}
			w.Close()
		}
		return nil
	}, tasktest.Config{
		Task:    "clean",
		RunID:   "run-42",
		Params:  params,
		Inputs:  map[string][]byte{"b": nil, "a": nil},
		Outputs: []string{"z", "y"},
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"Task", gotTask, "clean"},
		{"RunID", gotRun, "run-42"},
		{"Inputs", gotIn, []string{"a", "b"}},
		{"Outputs", gotOut, []string{"y", "z"}},
		{"Param(currency)", gotCurrency, "EUR"},
		{"Param(nonexistent)", gotNon, ""},
		{"Params", fmt.Sprint(gotParams), fmt.Sprint(map[string]string{"currency": "changed", "limit": "10"})},
		{"Log", res.Log, "hello log\nalready ended\n"},
		{"ExitCode", res.ExitCode, 0},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if params["currency"] != "EUR" {
		t.Errorf("the task changed the caller's params map")
	}
}

func TestDefaultsAndLargeContext(t *testing.T) {
	big := strings.Repeat("x", 10000) // larger than the SDK's first context buffer
	var task_, run, p string
	var params map[string]string
	_, err := tasktest.Run(func(c *task.Context) error {
		task_, run, p, params = c.Task(), c.RunID(), c.Param("big"), c.Params()
		return nil
	}, tasktest.Config{Params: map[string]string{"big": big}})
	if err != nil {
		t.Fatal(err)
	}
	if task_ != "task" || run != "tasktest" || p != big || len(params) != 1 {
		t.Errorf("Task, RunID = %q, %q; Param(big) has %d bytes; want task, tasktest, %d bytes", task_, run, len(p), len(big))
	}
	_, err = tasktest.Run(func(c *task.Context) error {
		if ps := c.Params(); ps == nil || len(ps) != 0 {
			return fmt.Errorf("Params() = %#v, want an empty non-nil map", ps)
		}
		return nil
	}, tasktest.Config{})
	if err != nil {
		t.Error(err)
	}
}

// declared is the Config of the refusal tests.
var declared = tasktest.Config{
	Task:          "clean",
	Inputs:        map[string][]byte{"a": []byte("A"), "b": []byte("B")},
	MissingInputs: []string{"m"},
	Outputs:       []string{"x", "y"},
}

func TestOpenRefused(t *testing.T) {
	openInput := func(name string) func(*task.Context) error {
		return func(c *task.Context) error { _, err := c.Input(name); return err }
	}
	openOutput := func(name string) func(*task.Context) error {
		return func(c *task.Context) error { _, err := c.Output(name); return err }
	}
	tests := []struct {
		name  string
		cfg   tasktest.Config
		fn    func(*task.Context) error
		errno abi.Errno
		msg   string
	}{
		{"undeclared input", declared, openInput("z"), abi.ErrnoAcces,
			`task: open input "z": not a declared input of task "clean" (inputs: a, b, m); add it to inputs: in glacier.yaml`},
		{"typo of an input", declared, openInput("mm"), abi.ErrnoAcces,
			`task: open input "mm": not a declared input of task "clean" (inputs: a, b, m); did you mean "m"? If not, add "mm" to inputs: in glacier.yaml`},
		{"no inputs at all", tasktest.Config{Task: "gen", Outputs: []string{"x"}}, openInput("z"), abi.ErrnoAcces,
			`task: open input "z": not a declared input of task "gen" (inputs: none); add it to inputs: in glacier.yaml`},
		{"undeclared output", declared, openOutput("z"), abi.ErrnoAcces,
			`task: open output "z": not a declared output of task "clean" (outputs: x, y); add it to outputs: in glacier.yaml`},
		{"reading an output", declared, openInput("x"), abi.ErrnoAcces,
			`task: open input "x": it is an output of task "clean", and a task cannot read its own outputs; read it in a task that lists it under inputs: in glacier.yaml`},
		{"writing an input", declared, openOutput("a"), abi.ErrnoAcces,
			`task: open output "a": it is an input of task "clean", and a task cannot write its inputs; write a new dataset and list it under outputs: in glacier.yaml`},
		{"input without a version", declared, openInput("m"), abi.ErrnoNoent,
			`task: open input "m": the dataset has no version yet; give it a source: in glacier.yaml, or run the task that produces it first`},
		{"output opened twice", declared, func(c *task.Context) error {
			if _, err := c.Output("x"); err != nil {
				return err
			}
			_, err := c.Output("x")
			return err
		}, abi.ErrnoBusy,
			`task: open output "x": task "clean" already opened this output; open each output once and write it through one writer`},
		{"output reopened after close", declared, func(c *task.Context) error {
			w, err := c.Output("x")
			if err != nil {
				return err
			}
			w.Close()
			_, err = c.Output("x")
			return err
		}, abi.ErrnoBusy,
			`task: open output "x": task "clean" already opened this output; open each output once and write it through one writer`},
		{"too many open", declared, func(c *task.Context) error {
			for range abi.MaxHandles {
				if _, err := c.Input("a"); err != nil {
					return fmt.Errorf("below the limit: %w", err)
				}
			}
			_, err := c.Input("b")
			return err
		}, abi.ErrnoMfile,
			`task: open input "b": the task already holds 64 datasets open, the most allowed; close the ones it is done with`},
		{"empty name", declared, openInput(""), abi.ErrnoInval,
			`task: open input "": the dataset name is empty`},
		{"long name", declared, openOutput(strings.Repeat("n", abi.MaxNameLen+1)), abi.ErrnoInval,
			fmt.Sprintf(`task: open output %q: the dataset name is 257 bytes long, over the limit of 256`, strings.Repeat("n", abi.MaxNameLen+1))},
		{"name not UTF-8", declared, openInput("a\xff"), abi.ErrnoInval,
			`task: open input "a\xff": the dataset name is not valid UTF-8`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got error
			res, err := tasktest.Run(func(c *task.Context) error {
				got = tt.fn(c)
				return got
			}, tt.cfg)
			if got == nil {
				t.Fatal("the open succeeded, want it refused")
			}
			if got.Error() != tt.msg {
				t.Errorf("error:\n got %s\nwant %s", got, tt.msg)
			}
			if !errors.Is(got, tt.errno) {
				t.Errorf("errors.Is(err, %d %v) = false", tt.errno, tt.errno)
			}
			var te *tasktest.Error
			if !errors.As(err, &te) || te.ExitCode != 1 || te.Message != tt.msg || !errors.Is(err, tt.errno) {
				t.Errorf("Run error = %#v, want a *tasktest.Error with exit code 1 and the open's message", err)
			}
			if res.Outputs != nil || res.ExitCode != 1 {
				t.Errorf("Result = %+v, want no outputs and exit code 1", res)
			}
		})
	}
}

// errBoom is a task's own error.
var errBoom = errors.New("boom")

func TestFailure(t *testing.T) {
	long := strings.Repeat("é", abi.MaxFailMessage) // 2 bytes a rune: the cut lands mid-rune
	tests := []struct {
		name     string
		cfg      tasktest.Config
		fn       func(*task.Context) error
		code     int
		msg      string // the task_fail message
		isErr    error  // matched by errors.Is, if set
		panicVal any
		log      []string // substrings of the log
	}{
		{
			name: "returned error", cfg: tasktest.Config{Task: "clean", Outputs: []string{"x"}},
			fn: func(c *task.Context) error {
				w, _ := c.Output("x")
				fmt.Fprint(w, "partial")
				return fmt.Errorf("parse row 3: %w", errBoom)
			},
			code: 1, msg: "parse row 3: boom", isErr: errBoom,
			log: []string{`task "clean" failed: parse row 3: boom` + "\n"},
		},
		{
			name: "panic", cfg: tasktest.Config{Task: "p", Outputs: []string{"x"}},
			fn: func(c *task.Context) error {
				c.Output("x")
				var rows []string
				return errors.New(rows[len(c.Task())]) // a runtime panic
			},
			code: 2, msg: "panic: runtime error: index out of range [1] with length 0",
			log: []string{`task "p" failed: panic: runtime error: index out of range [1] with length 0`, "goroutine ", "tasktest_test.go"},
		},
		{
			name: "panic with an error", cfg: tasktest.Config{Task: "p"},
			fn:   func(*task.Context) error { panic(errBoom) },
			code: 2, msg: "panic: boom", isErr: errBoom, panicVal: errBoom,
		},
		{
			name: "panic with a string", cfg: tasktest.Config{Task: "p"},
			fn:   func(*task.Context) error { panic("bad state") },
			code: 2, msg: "panic: bad state", panicVal: "bad state",
		},
		{
			name: "output not written", cfg: tasktest.Config{Task: "clean", Outputs: []string{"x", "y"}},
			fn: func(c *task.Context) error {
				_, err := c.Output("y")
				return err
			},
			code: 1,
			msg:  `task: "clean" did not write declared output "x"; open every declared output with Output, even to write nothing, or remove it from outputs: in glacier.yaml`,
		},
		{
			name: "outputs not written", cfg: tasktest.Config{Task: "clean", Outputs: []string{"x", "y"}},
			fn:   func(c *task.Context) error { return nil },
			code: 1,
			msg:  `task: "clean" did not write declared outputs "x", "y"; open every declared output with Output, even to write nothing, or remove it from outputs: in glacier.yaml`,
		},
		{
			name: "empty error message", cfg: tasktest.Config{Task: "e"},
			fn:   func(c *task.Context) error { return errors.New("") },
			code: 1, msg: "the task function returned an error with an empty message (*errors.errorString)",
		},
		{
			name: "long message is cut at a rune boundary", cfg: tasktest.Config{Task: "l"},
			fn:   func(c *task.Context) error { return errors.New(long) },
			code: 1, msg: long[:abi.MaxFailMessage],
			log: []string{long}, // the log keeps the whole message
		},
		{
			name: "nil function", cfg: tasktest.Config{Task: "n"}, fn: nil,
			code: 1, msg: "task: Run was given a nil function",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tasktest.Run(tt.fn, tt.cfg)
			var te *tasktest.Error
			if !errors.As(err, &te) {
				t.Fatalf("Run error = %v, want a *tasktest.Error", err)
			}
			if te.ExitCode != tt.code || res.ExitCode != tt.code {
				t.Errorf("exit code = %d (Result %d), want %d", te.ExitCode, res.ExitCode, tt.code)
			}
			if te.Message != tt.msg {
				t.Errorf("message:\n got %q\nwant %q", te.Message, tt.msg)
			}
			if want := fmt.Sprintf("task %q failed: %s (exit code %d); nothing was committed", tt.cfg.Task, tt.msg, tt.code); err.Error() != want {
				t.Errorf("Error() = %q, want %q", err, want)
			}
			if tt.isErr != nil && !errors.Is(err, tt.isErr) {
				t.Errorf("errors.Is(err, %v) = false", tt.isErr)
			}
			if tt.panicVal != nil && te.Panic != tt.panicVal {
				t.Errorf("Panic = %v, want %v", te.Panic, tt.panicVal)
			}
			if tt.code == 1 && te.Panic != nil {
				t.Errorf("Panic = %v, want nil", te.Panic)
			}
			if res.Outputs != nil {
				t.Errorf("Outputs = %v, want none from a failed task", res.Outputs)
			}
			for _, s := range tt.log {
				if !strings.Contains(res.Log, s) {
					t.Errorf("log does not contain %q:\n%s", s, res.Log)
				}
			}
		})
	}
}

func TestCutMessageIsValidUTF8(t *testing.T) {
	msg := "x" + strings.Repeat("é", abi.MaxFailMessage) // the limit falls inside a rune
	_, err := tasktest.Run(func(*task.Context) error { return errors.New(msg) }, tasktest.Config{})
	var te *tasktest.Error
	if !errors.As(err, &te) {
		t.Fatalf("Run error = %v", err)
	}
	if len(te.Message) != abi.MaxFailMessage-1 || !strings.HasPrefix(msg, te.Message) {
		t.Errorf("message has %d bytes, want the first %d bytes of the error", len(te.Message), abi.MaxFailMessage-1)
	}
}

func TestOutputsLeftOpenAreCommitted(t *testing.T) {
	res, err := tasktest.Run(func(c *task.Context) error {
		a, err := c.Output("a")
		if err != nil {
			return err
		}
		b, err := c.Output("b")
		if err != nil {
			return err
		}
		in, err := c.Input("in")
		if err != nil {
			return err
		}
		fmt.Fprint(a, "small, still buffered")
		_, err = b.Write(make([]byte, 300<<10))
		_ = in // left open too
		return err
	}, tasktest.Config{Inputs: map[string][]byte{"in": []byte("x")}, Outputs: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Outputs["a"]); got != "small, still buffered" {
		t.Errorf("a = %q", got)
	}
	if got := len(res.Outputs["b"]); got != 300<<10 {
		t.Errorf("b has %d bytes, want %d", got, 300<<10)
	}
}

func TestEmptyOutput(t *testing.T) {
	res, err := tasktest.Run(func(c *task.Context) error {
		_, err := c.Output("empty")
		return err
	}, tasktest.Config{Outputs: []string{"empty"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := res.Outputs["empty"]; !ok || len(got) != 0 {
		t.Errorf("Outputs = %#v, want empty present and empty", res.Outputs)
	}
}

func TestUseAfterClose(t *testing.T) {
	_, err := tasktest.Run(func(c *task.Context) error {
		in, err := c.Input("in")
		if err != nil {
			return err
		}
		out, err := c.Output("out")
		if err != nil {
			return err
		}
		if err := in.Close(); err != nil {
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
		if err := in.Close(); err != nil {
			return fmt.Errorf("second Close of an input: %w", err)
		}
		if err := out.Close(); err != nil {
			return fmt.Errorf("second Close of an output: %w", err)
		}
		var errs []error
		if _, err := in.Read(make([]byte, 1)); !errors.Is(err, fs.ErrClosed) || !strings.Contains(err.Error(), `read input "in"`) {
			errs = append(errs, fmt.Errorf("Read after Close: %v", err))
		}
		if _, err := in.(io.WriterTo).WriteTo(io.Discard); !errors.Is(err, fs.ErrClosed) {
			errs = append(errs, fmt.Errorf("WriteTo after Close: %v", err))
		}
		if _, err := out.Write([]byte("x")); !errors.Is(err, fs.ErrClosed) || !strings.Contains(err.Error(), `write output "out"`) {
			errs = append(errs, fmt.Errorf("Write after Close: %v", err))
		}
		if _, err := out.(io.ReaderFrom).ReadFrom(strings.NewReader("x")); !errors.Is(err, fs.ErrClosed) {
			errs = append(errs, fmt.Errorf("ReadFrom after Close: %v", err))
		}
		return errors.Join(errs...)
	}, tasktest.Config{Inputs: map[string][]byte{"in": []byte("data")}, Outputs: []string{"out"}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestClosedHandlesFreeSlots(t *testing.T) {
	_, err := tasktest.Run(func(c *task.Context) error {
		for i := range 3 * abi.MaxHandles {
			in, err := c.Input("in")
			if err != nil {
				return fmt.Errorf("open %d: %w", i, err)
			}
			if err := in.Close(); err != nil {
				return err
			}
		}
		return nil
	}, tasktest.Config{Inputs: map[string][]byte{"in": nil}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestJSON(t *testing.T) {
	type order struct {
		ID   int    `json:"id"`
		Note string `json:"note"`
	}
	tests := []struct {
		name    string
		in      string
		want    []order
		wantOut string
		errMsg  string
	}{
		{name: "round trip", in: `[{"id":1,"note":"a<b & c"}]`, want: []order{{1, "a<b & c"}},
			wantOut: `[{"id":1,"note":"a<b & c"}]` + "\n"},
		{name: "surrounding space", in: " \n[{\"id\":2}]\n\n", want: []order{{2, ""}}, wantOut: `[{"id":2,"note":""}]` + "\n"},
		{name: "empty", in: "", errMsg: `task: read JSON input "in": the dataset is empty`},
		{name: "two values", in: "[]\n[]", errMsg: `task: read JSON input "in": more than one JSON value; ReadJSON reads a dataset that holds exactly one`},
		{name: "bad JSON", in: "[{", errMsg: `task: read JSON input "in": unexpected EOF`},
		{name: "wrong type", in: `{"id":1}`, errMsg: `task: read JSON input "in": json: cannot unmarshal object into Go value of type []tasktest_test.order`},
		{name: "garbage after", in: "[] }", errMsg: `task: read JSON input "in": after the first value: invalid character '}' looking for beginning of value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []order
			res, err := tasktest.Run(func(c *task.Context) error {
				if err := task.ReadJSON(c, "in", &got); err != nil {
					return err
				}
				return task.WriteJSON(c, "out", got)
			}, tasktest.Config{Inputs: map[string][]byte{"in": []byte(tt.in)}, Outputs: []string{"out"}})
			if tt.errMsg != "" {
				var te *tasktest.Error
				if !errors.As(err, &te) || te.Message != tt.errMsg {
					t.Fatalf("error = %v, want message %q", err, tt.errMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("decoded %v, want %v", got, tt.want)
			}
			if string(res.Outputs["out"]) != tt.wantOut {
				t.Errorf("out = %q, want %q", res.Outputs["out"], tt.wantOut)
			}
		})
	}
}

func TestJSONErrors(t *testing.T) {
	tests := []struct {
		name string
		fn   func(*task.Context) error
		msg  string
	}{
		{"undeclared input", func(c *task.Context) error { return task.ReadJSON(c, "nope", new(any)) },
			`task: open input "nope": not a declared input of task "j" (inputs: in); add it to inputs: in glacier.yaml`},
		{"undeclared output", func(c *task.Context) error { return task.WriteJSON(c, "nope", 1) },
			`task: open output "nope": not a declared output of task "j" (outputs: out); add it to outputs: in glacier.yaml`},
		{"unencodable", func(c *task.Context) error { return task.WriteJSON(c, "out", func() {}) },
			`task: write JSON output "out": json: unsupported type: func()`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tasktest.Run(tt.fn, tasktest.Config{Task: "j", Inputs: map[string][]byte{"in": []byte("1")}, Outputs: []string{"out"}})
			var te *tasktest.Error
			if !errors.As(err, &te) || te.Message != tt.msg {
				t.Fatalf("error = %v, want message %q", err, tt.msg)
			}
		})
	}
}

func TestBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  tasktest.Config
		msg  string
	}{
		{"input and output", tasktest.Config{Inputs: map[string][]byte{"d": nil}, Outputs: []string{"d"}},
			`tasktest: bad Config: dataset "d" is declared twice (as input and as output); declare each dataset once`},
		{"output twice", tasktest.Config{Outputs: []string{"d", "d"}},
			`tasktest: bad Config: dataset "d" is declared twice (as output and as output); declare each dataset once`},
		{"missing and present", tasktest.Config{Inputs: map[string][]byte{"d": nil}, MissingInputs: []string{"d"}},
			`tasktest: bad Config: dataset "d" is declared twice (as input and as missing input); declare each dataset once`},
		{"empty name", tasktest.Config{Outputs: []string{""}},
			`tasktest: bad Config: output "": the dataset name is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran := false
			res, err := tasktest.Run(func(*task.Context) error { ran = true; return nil }, tt.cfg)
			if err == nil || err.Error() != tt.msg {
				t.Errorf("error = %v, want %q", err, tt.msg)
			}
			if ran || res != nil {
				t.Errorf("the task ran (%v) or a Result came back (%v) for a bad Config", ran, res)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	const n = 8
	outs := make([]string, n)
	for i := range outs {
		outs[i] = fmt.Sprintf("out%d", i)
	}
	res, err := tasktest.Run(func(c *task.Context) error {
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				in, err := c.Input("in")
				if err != nil {
					errs[i] = err
					return
				}
				defer in.Close()
				w, err := c.Output(outs[i])
				if err != nil {
					errs[i] = err
					return
				}
				_, errs[i] = io.Copy(w, in)
				c.Logf("copied %d", i)
				// Leave w open: Run closes it.
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	}, tasktest.Config{Inputs: map[string][]byte{"in": randomBytes(100000, 1)}, Outputs: outs})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if !bytes.Equal(res.Outputs[o], randomBytes(100000, 1)) {
			t.Errorf("%s differs from in", o)
		}
	}
	if lines := strings.Count(res.Log, "\n"); lines != n {
		t.Errorf("log has %d lines, want %d:\n%s", lines, n, res.Log)
	}
}

func TestJSONLines(t *testing.T) {
	type event struct {
		ID   int    `json:"id"`
		Kind string `json:"kind"`
	}
	long := `{"id":3,"kind":"` + strings.Repeat("x", 200<<10) + `"}`
	tests := []struct {
		name   string
		in     string
		want   []event
		errMsg string
	}{
		{name: "records", in: "{\"id\":1,\"kind\":\"a\"}\n{\"id\":2}\r\n", want: []event{{1, "a"}, {2, ""}}},
		{name: "no final newline", in: "{\"id\":1}\n{\"id\":2}", want: []event{{1, ""}, {2, ""}}},
		{name: "blank lines", in: "\n{\"id\":1}\n  \n\n{\"id\":2}\n", want: []event{{1, ""}, {2, ""}}},
		{name: "empty", in: ""},
		{name: "a line longer than the buffer", in: "{\"id\":1}\n" + long + "\n", want: []event{{1, ""}, {3, strings.Repeat("x", 200<<10)}}},
		{name: "bad line", in: "{\"id\":1}\n{\"id\":\"two\"}\n", want: []event{{1, ""}},
			errMsg: `task: read JSON Lines input "in": line 2: json: cannot unmarshal string into Go struct field event.id of type int`},
		{name: "two values on a line", in: "{\"id\":1} {\"id\":2}\n",
			errMsg: `task: read JSON Lines input "in": line 1: invalid character '{' after top-level value`},
		{name: "fn stops it", in: "{\"id\":1}\n{\"id\":-1}\n{\"id\":3}\n", want: []event{{1, ""}},
			errMsg: `task: read JSON Lines input "in": line 2: negative id`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []event
			_, err := tasktest.Run(func(c *task.Context) error {
				return task.ReadJSONLines(c, "in", func(e event) error {
					if e.ID < 0 {
						return errors.New("negative id")
					}
					got = append(got, e)
					return nil
				})
			}, tasktest.Config{Inputs: map[string][]byte{"in": []byte(tt.in)}})
			if tt.errMsg != "" {
				var te *tasktest.Error
				if !errors.As(err, &te) || te.Message != tt.errMsg {
					t.Fatalf("error = %v, want message %q", err, tt.errMsg)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("decoded %d records %.200v, want %d", len(got), got, len(tt.want))
			}
		})
	}
}

func TestJSONLinesTooLong(t *testing.T) {
	in := bytes.Repeat([]byte("x"), task.MaxJSONLine+2)
	_, err := tasktest.Run(func(c *task.Context) error {
		return task.ReadJSONLines(c, "in", func(any) error { return nil })
	}, tasktest.Config{Inputs: map[string][]byte{"in": in}})
	var te *tasktest.Error
	if !errors.As(err, &te) || te.Message != `task: read JSON Lines input "in": line 1 is longer than 16 MiB; is it JSON Lines?` {
		t.Fatalf("error = %v", err)
	}
}
