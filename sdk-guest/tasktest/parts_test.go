package tasktest_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/sdk-guest/task"
	"github.com/glacier-pipeline/glacier/sdk-guest/tasktest"
)

// copyParts copies every part of input "in" to output "out" under the
// same key.
func copyParts(c *task.Context) error {
	keys, err := c.Parts("in")
	if err != nil {
		return err
	}
	for _, key := range keys {
		in, err := c.InputPart("in", key)
		if err != nil {
			return err
		}
		out, err := c.OutputPart("out", key)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			return err
		}
		if err := errors.Join(in.Close(), out.Close()); err != nil {
			return err
		}
	}
	return nil
}

func TestCopyParts(t *testing.T) {
	many := map[string][]byte{}
	for i := range 500 { // about 11 KiB of keys: more than one buffer
		many[fmt.Sprintf("2026/%03d/access.log", i)] = randomBytes(i, uint64(i))
	}
	tests := map[string]map[string][]byte{
		"one part":   {"a": []byte("A")},
		"nested":     {"eu/2026/12.csv": []byte("x,y\n"), "us/2026/12.csv": randomBytes(300<<10, 7), "eu/2026/11.csv": nil},
		"many parts": many,
	}
	for name, parts := range tests {
		t.Run(name, func(t *testing.T) {
			var keys []string
			res, err := tasktest.Run(func(c *task.Context) error {
				var err error
				if keys, err = c.Parts("in"); err != nil {
					return err
				}
				return copyParts(c)
			}, tasktest.Config{
				PartitionedInputs:  map[string]map[string][]byte{"in": parts},
				PartitionedOutputs: []string{"out"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := slices.Sorted(maps.Keys(parts)); !slices.Equal(keys, want) {
				t.Errorf("Parts = %d keys, want the %d keys sorted", len(keys), len(want))
			}
			got := res.OutputParts["out"]
			if len(got) != len(parts) {
				t.Fatalf("out has %d parts, want %d", len(got), len(parts))
			}
			for k, data := range parts {
				if b, ok := got[k]; !ok || !bytes.Equal(b, data) {
					t.Errorf("part %q of out: present %v, %d bytes; want the %d bytes of in's", k, ok, len(b), len(data))
				}
			}
			if len(res.Outputs) != 0 {
				t.Errorf("Outputs = %v, want none: out is partitioned", res.Outputs)
			}
		})
	}
}

func TestNoParts(t *testing.T) {
	res, err := tasktest.Run(func(c *task.Context) error {
		keys, err := c.Parts("in")
		if err != nil {
			return err
		}
		if keys == nil || len(keys) != 0 {
			return fmt.Errorf("Parts = %#v, want an empty list", keys)
		}
		w, err := c.OutputPart("out", "nothing")
		if err != nil {
			return err
		}
		return w.Close()
	}, tasktest.Config{
		PartitionedInputs:  map[string]map[string][]byte{"in": {}},
		PartitionedOutputs: []string{"out"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]map[string][]byte{"out": {"nothing": nil}}; !reflect.DeepEqual(res.OutputParts, want) {
		t.Errorf("OutputParts = %q, want %q", res.OutputParts, want)
	}
}

// splitByDay writes each line "day,amount" of input "orders" to the part
// of output "daily" keyed by its day: the fan-out that precedes a map task.
func splitByDay(c *task.Context) error {
	in, err := c.Input("orders")
	if err != nil {
		return err
	}
	defer in.Close()
	byDay := map[string]*bytes.Buffer{}
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		day, _, _ := strings.Cut(lines.Text(), ",")
		if byDay[day] == nil {
			byDay[day] = new(bytes.Buffer)
		}
		fmt.Fprintln(byDay[day], lines.Text())
	}
	if err := lines.Err(); err != nil {
		return err
	}
	for _, day := range slices.Sorted(maps.Keys(byDay)) {
		out, err := c.OutputPart("daily", day+".csv")
		if err != nil {
			return err
		}
		if _, err := byDay[day].WriteTo(out); err != nil {
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
	}
	return nil
}

func TestWriteParts(t *testing.T) {
	res, err := tasktest.Run(splitByDay, tasktest.Config{
		Inputs:             map[string][]byte{"orders": []byte("2026-12-01,3\n2026-12-02,4\n2026-12-01,5\n")},
		PartitionedOutputs: []string{"daily"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string][]byte{"daily": {
		"2026-12-01.csv": []byte("2026-12-01,3\n2026-12-01,5\n"),
		"2026-12-02.csv": []byte("2026-12-02,4\n"),
	}}
	if !reflect.DeepEqual(res.OutputParts, want) {
		t.Errorf("OutputParts = %q, want %q", res.OutputParts, want)
	}
}

// total is a map task: each invocation sums the amounts of one day's part
// of "daily" into that day's part of "totals".
func total(c *task.Context) error {
	in, err := c.Input("daily")
	if err != nil {
		return err
	}
	defer in.Close()
	sum := 0
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		var n int
		_, amount, _ := strings.Cut(lines.Text(), ",")
		if _, err := fmt.Sscan(amount, &n); err != nil {
			return fmt.Errorf("part %s: %w", c.Part(), err)
		}
		sum += n
	}
	if err := lines.Err(); err != nil {
		return err
	}
	out, err := c.Output("totals")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s %d\n", strings.TrimSuffix(c.Part(), ".csv"), sum)
	return out.Close()
}

func TestMapInvocation(t *testing.T) {
	var part string
	var partitioned []string
	res, err := tasktest.Run(func(c *task.Context) error {
		part, partitioned = c.Part(), c.Partitioned()
		return total(c)
	}, tasktest.Config{
		Task:    "total",
		Part:    "2026-12-01.csv",
		Inputs:  map[string][]byte{"daily": []byte("2026-12-01,3\n2026-12-01,5\n")},
		Outputs: []string{"totals"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if part != "2026-12-01.csv" || len(partitioned) != 0 {
		t.Errorf("Part, Partitioned = %q, %q; want the key and nothing", part, partitioned)
	}
	if got := string(res.Outputs["totals"]); got != "2026-12-01 8\n" {
		t.Errorf("totals = %q", got)
	}
	if len(res.OutputParts) != 0 {
		t.Errorf("OutputParts = %q, want none", res.OutputParts)
	}

	// The invocation's error names the part.
	_, err = tasktest.Run(total, tasktest.Config{
		Task:    "total",
		Part:    "2026-12-02.csv",
		Inputs:  map[string][]byte{"daily": []byte("2026-12-02,x\n")},
		Outputs: []string{"totals"},
	})
	var te *tasktest.Error
	if !errors.As(err, &te) || !strings.HasPrefix(te.Message, "part 2026-12-02.csv: ") {
		t.Errorf("error = %v, want one naming the part", err)
	}
}

func TestNotMapping(t *testing.T) {
	var part string
	var partitioned, inputs, outputs []string
	_, err := tasktest.Run(func(c *task.Context) error {
		part, partitioned, inputs, outputs = c.Part(), c.Partitioned(), c.Inputs(), c.Outputs()
		return copyParts(c)
	}, tasktest.Config{
		Inputs:             map[string][]byte{"whole": nil},
		PartitionedInputs:  map[string]map[string][]byte{"in": {"k": nil}},
		PartitionedOutputs: []string{"out"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if part != "" || !slices.Equal(partitioned, []string{"in", "out"}) ||
		!slices.Equal(inputs, []string{"in", "whole"}) || !slices.Equal(outputs, []string{"out"}) {
		t.Errorf("Part, Partitioned, Inputs, Outputs = %q, %q, %q, %q", part, partitioned, inputs, outputs)
	}
}

// partsDeclared is the Config of the refusal tests.
var partsDeclared = tasktest.Config{
	Task:                     "split",
	Inputs:                   map[string][]byte{"whole": []byte("w")},
	Outputs:                  []string{"report"},
	PartitionedInputs:        map[string]map[string][]byte{"logs": {"a.log": []byte("A")}},
	MissingPartitionedInputs: []string{"later"},
	PartitionedOutputs:       []string{"daily"},
}

func TestPartsRefused(t *testing.T) {
	list := func(name string) func(*task.Context) error {
		return func(c *task.Context) error { _, err := c.Parts(name); return err }
	}
	inputPart := func(name, key string) func(*task.Context) error {
		return func(c *task.Context) error { _, err := c.InputPart(name, key); return err }
	}
	outputPart := func(name, key string) func(*task.Context) error {
		return func(c *task.Context) error { _, err := c.OutputPart(name, key); return err }
	}
	twice := func(close bool) func(*task.Context) error {
		return func(c *task.Context) error {
			w, err := c.OutputPart("daily", "d1")
			if err != nil {
				return err
			}
			if close {
				w.Close()
			}
			if _, err := c.OutputPart("daily", "d2"); err != nil {
				return fmt.Errorf("another key: %w", err)
			}
			_, err = c.OutputPart("daily", "d1")
			return err
		}
	}
	mapCfg := tasktest.Config{Task: "total", Part: "2026-12-01.csv",
		Inputs: map[string][]byte{"daily": nil}, Outputs: []string{"totals"}}
	const rule = "a part key is UTF-8 text of 1 to 512 bytes: segments separated by '/', none of them empty, '.' or '..', with no control characters and no '\\'"
	tests := []struct {
		name  string
		cfg   tasktest.Config
		fn    func(*task.Context) error
		errno abi.Errno
		msg   string
	}{
		{"Input of a partitioned input", partsDeclared, func(c *task.Context) error { _, err := c.Input("logs"); return err }, abi.ErrnoPartitioned,
			`task: open input "logs": the dataset is partitioned; list its parts with Parts and open each with InputPart`},
		{"Input of a partitioned input without a version", partsDeclared, func(c *task.Context) error { _, err := c.Input("later"); return err }, abi.ErrnoPartitioned,
			`task: open input "later": the dataset is partitioned; list its parts with Parts and open each with InputPart`},
		{"ReadJSON of a partitioned input", partsDeclared, func(c *task.Context) error { return task.ReadJSON(c, "logs", new(any)) }, abi.ErrnoPartitioned,
			`task: open input "logs": the dataset is partitioned; list its parts with Parts and open each with InputPart`},
		{"Output of a partitioned output", partsDeclared, func(c *task.Context) error { _, err := c.Output("daily"); return err }, abi.ErrnoPartitioned,
			`task: open output "daily": the dataset is partitioned; write each of its parts with OutputPart`},
		{"Parts of a whole input", partsDeclared, list("whole"), abi.ErrnoNotPartitioned,
			`task: list the parts of input "whole": the dataset is not partitioned; open it whole with Input`},
		{"InputPart of a whole input", partsDeclared, inputPart("whole", "a.log"), abi.ErrnoNotPartitioned,
			`task: open part "a.log" of input "whole": the dataset is not partitioned; open it whole with Input`},
		{"OutputPart of a whole output", partsDeclared, outputPart("report", "a.log"), abi.ErrnoNotPartitioned,
			`task: open part "a.log" of output "report": the dataset is not partitioned; open it whole with Output`},
		{"Parts of the mapped input", mapCfg, list("daily"), abi.ErrnoNotPartitioned,
			`task: list the parts of input "daily": the dataset is not partitioned; open it whole with Input (this invocation of map task "total" runs over part "2026-12-01.csv": its mapped input and its outputs are that one part)`},
		{"OutputPart in a map invocation", mapCfg, outputPart("totals", "2026-12-01.csv"), abi.ErrnoNotPartitioned,
			`task: open part "2026-12-01.csv" of output "totals": the dataset is not partitioned; open it whole with Output (this invocation of map task "total" runs over part "2026-12-01.csv": its mapped input and its outputs are that one part)`},
		{"Parts of an undeclared input", partsDeclared, list("log"), abi.ErrnoAcces,
			`task: list the parts of input "log": not a declared input of task "split" (inputs: later, logs, whole); did you mean "logs"? If not, add "log" to inputs: in glacier.yaml`},
		{"Parts of an output", partsDeclared, list("daily"), abi.ErrnoAcces,
			`task: list the parts of input "daily": it is an output of task "split", and a task cannot read its own outputs; read it in a task that lists it under inputs: in glacier.yaml`},
		{"OutputPart of an input", partsDeclared, outputPart("logs", "a.log"), abi.ErrnoAcces,
			`task: open part "a.log" of output "logs": it is an input of task "split", and a task cannot write its inputs; write a new dataset and list it under outputs: in glacier.yaml`},
		{"Parts without a version", partsDeclared, list("later"), abi.ErrnoNoent,
			`task: list the parts of input "later": the dataset has no version yet; give it a source: in glacier.yaml, or run the task that produces it first`},
		{"InputPart without a version", partsDeclared, inputPart("later", "a.log"), abi.ErrnoNoent,
			`task: open part "a.log" of input "later": the dataset has no version yet; give it a source: in glacier.yaml, or run the task that produces it first`},
		{"InputPart of no such part", partsDeclared, inputPart("logs", "b.log"), abi.ErrnoNoent,
			`task: open part "b.log" of input "logs": the input has no part with that key; Parts lists the keys it has`},
		{"OutputPart twice", partsDeclared, twice(false), abi.ErrnoBusy,
			`task: open part "d1" of output "daily": task "split" already opened this part; open each part of an output once and write it through one writer`},
		{"OutputPart again after close", partsDeclared, twice(true), abi.ErrnoBusy,
			`task: open part "d1" of output "daily": task "split" already opened this part; open each part of an output once and write it through one writer`},
		{"InputPart with a bad key", partsDeclared, inputPart("logs", "../a.log"), abi.ErrnoInval,
			`task: open part "../a.log" of input "logs": the part key has a segment ".."; ` + rule},
		{"InputPart with an empty key", partsDeclared, inputPart("logs", ""), abi.ErrnoInval,
			`task: open part "" of input "logs": the part key is empty; ` + rule},
		{"OutputPart with a bad key", partsDeclared, outputPart("daily", "2026\\12"), abi.ErrnoInval,
			`task: open part "2026\\12" of output "daily": the part key holds '\'; ` + rule},
		{"OutputPart with a key too long", partsDeclared, outputPart("daily", strings.Repeat("k", 1000)), abi.ErrnoInval,
			`task: open part "` + strings.Repeat("k", 40) + `"... of output "daily": the part key is 1000 bytes long, over the limit of 512; ` + rule},
		{"Parts with an empty name", partsDeclared, list(""), abi.ErrnoInval,
			`task: list the parts of input "": the dataset name is empty`},
		{"OutputPart with a bad name", partsDeclared, outputPart("d\xff", "k"), abi.ErrnoInval,
			`task: open part "k" of output "d\xff": the dataset name is not valid UTF-8`},
		{"too many open", partsDeclared, func(c *task.Context) error {
			for range abi.MaxHandles {
				if _, err := c.InputPart("logs", "a.log"); err != nil {
					return fmt.Errorf("below the limit: %w", err)
				}
			}
			_, err := c.OutputPart("daily", "d")
			return err
		}, abi.ErrnoMfile,
			`task: open part "d" of output "daily": the task already holds 64 datasets open, the most allowed; close the ones it is done with`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got error
			res, err := tasktest.Run(func(c *task.Context) error {
				got = tt.fn(c)
				return got
			}, tt.cfg)
			if got == nil {
				t.Fatal("the call succeeded, want it refused")
			}
			if got.Error() != tt.msg {
				t.Errorf("error:\n got %s\nwant %s", got, tt.msg)
			}
			if !errors.Is(got, tt.errno) {
				t.Errorf("errors.Is(err, %d %v) = false", tt.errno, tt.errno)
			}
			var te *tasktest.Error
			if !errors.As(err, &te) || te.ExitCode != 1 || te.Message != tt.msg {
				t.Errorf("Run error = %#v, want a *tasktest.Error with exit code 1 and the call's message", err)
			}
			if res.Outputs != nil || res.OutputParts != nil {
				t.Errorf("Result = %+v, want no outputs", res)
			}
		})
	}
}

// TestBadKeyFailsTheTask checks that a part written under a bad key fails
// the task even when the task ignores the error, as the runtime does, while
// a bad key read is the task's to handle.
func TestBadKeyFailsTheTask(t *testing.T) {
	writeBadThenGood := func(c *task.Context) error {
		c.OutputPart("daily", "a//b") // error ignored
		w, err := c.OutputPart("daily", "a/b")
		if err != nil {
			return err
		}
		return w.Close()
	}
	res, err := tasktest.Run(writeBadThenGood, tasktest.Config{Task: "split", PartitionedOutputs: []string{"daily"}})
	var te *tasktest.Error
	if !errors.As(err, &te) || te.ExitCode != 1 || !errors.Is(err, abi.ErrnoInval) ||
		!strings.HasPrefix(te.Message, `task: open part "a//b" of output "daily": the part key has an empty segment; a part key is `) {
		t.Fatalf("Run error = %v, want the task failed with exit code 1, naming the bad key", err)
	}
	if res.OutputParts != nil {
		t.Errorf("OutputParts = %q, want none from a failed task", res.OutputParts)
	}

	res, err = tasktest.Run(func(c *task.Context) error {
		if _, err := c.InputPart("logs", "a//b"); !errors.Is(err, abi.ErrnoInval) {
			return fmt.Errorf("InputPart with a bad key: %v, want ErrnoInval", err)
		}
		w, err := c.OutputPart("daily", "a/b")
		if err != nil {
			return err
		}
		return w.Close()
	}, tasktest.Config{
		PartitionedInputs:  map[string]map[string][]byte{"logs": {"a/b": nil}},
		PartitionedOutputs: []string{"daily"},
	})
	if err != nil {
		t.Fatalf("a task that read a bad key and went on failed: %v", err)
	}
	if _, ok := res.OutputParts["daily"]["a/b"]; !ok {
		t.Errorf("OutputParts = %q, want daily's part a/b", res.OutputParts)
	}
}

func TestPartitionedOutputNotWritten(t *testing.T) {
	tests := []struct {
		name string
		cfg  tasktest.Config
		msg  string
	}{
		{"partitioned", tasktest.Config{Task: "split", PartitionedOutputs: []string{"daily"}},
			`task: "split" wrote no part of declared partitioned output "daily"; write at least one part of each with OutputPart, or remove it from outputs: in glacier.yaml`},
		{"two partitioned", tasktest.Config{Task: "split", PartitionedOutputs: []string{"b", "a"}},
			`task: "split" wrote no part of declared partitioned outputs "a", "b"; write at least one part of each with OutputPart, or remove it from outputs: in glacier.yaml`},
		{"both kinds", tasktest.Config{Task: "split", Outputs: []string{"report"}, PartitionedOutputs: []string{"daily"}},
			`task: "split" did not write declared output "report"; open every declared output with Output, even to write nothing, or remove it from outputs: in glacier.yaml; ` +
				`and "split" wrote no part of declared partitioned output "daily"; write at least one part of each with OutputPart, or remove it from outputs: in glacier.yaml`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tasktest.Run(func(*task.Context) error { return nil }, tt.cfg)
			var te *tasktest.Error
			if !errors.As(err, &te) || te.Message != tt.msg {
				t.Errorf("Run error = %v, want message\n%s", err, tt.msg)
			}
		})
	}
}

// An optional partitioned input: a task may treat one without a version
// as empty, as it may a whole input.
func TestOptionalPartitionedInput(t *testing.T) {
	res, err := tasktest.Run(func(c *task.Context) error {
		keys, err := c.Parts("later")
		if errors.Is(err, abi.ErrnoNoent) {
			keys, err = nil, nil
		}
		if err != nil {
			return err
		}
		w, err := c.Output("count")
		if err != nil {
			return err
		}
		fmt.Fprint(w, len(keys))
		return w.Close()
	}, tasktest.Config{MissingPartitionedInputs: []string{"later"}, Outputs: []string{"count"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Outputs["count"]); got != "0" {
		t.Errorf("count = %q", got)
	}
}

func TestBadPartsConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  tasktest.Config
		msg  string
	}{
		{"whole and partitioned", tasktest.Config{Inputs: map[string][]byte{"d": nil}, PartitionedInputs: map[string]map[string][]byte{"d": nil}},
			`tasktest: bad Config: dataset "d" is declared twice (as input and as partitioned input); declare each dataset once`},
		{"bad key", tasktest.Config{PartitionedInputs: map[string]map[string][]byte{"d": {"a/./b": nil}}},
			`tasktest: bad Config: partitioned input "d": part "a/./b": the part key has a segment "."; a part key is `},
		{"bad part", tasktest.Config{Part: "a\tb"},
			`tasktest: bad Config: part "a\tb": the part key holds the control character U+0009; a part key is `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran := false
			res, err := tasktest.Run(func(*task.Context) error { ran = true; return nil }, tt.cfg)
			if err == nil || !strings.HasPrefix(err.Error(), tt.msg) {
				t.Errorf("error = %v, want %q", err, tt.msg)
			}
			if ran || res != nil {
				t.Errorf("the task ran (%v) or a Result came back (%v) for a bad Config", ran, res)
			}
		})
	}
}
