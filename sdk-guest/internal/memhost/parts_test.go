package memhost

import (
	"reflect"
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/abi"
)

// newPartsHost declares every kind of dataset: whole and partitioned,
// with and without a version.
func newPartsHost(t *testing.T) *Host {
	t.Helper()
	h, err := New(Config{
		Task:    "split",
		Inputs:  map[string][]byte{"whole": []byte("w")},
		Missing: []string{"gone"},
		Outputs: []string{"out"},
		PartitionedInputs: map[string]map[string][]byte{
			"logs":  {"b/2.log": []byte("two"), "a.log": []byte("one"), "b/10.log": nil},
			"empty": {},
		},
		MissingPartitioned: []string{"later"},
		PartitionedOutputs: []string{"byday", "other"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestPartsContextBytes(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"partitioned", Config{Task: "t", RunID: "r",
			Inputs:             map[string][]byte{"a": nil},
			PartitionedInputs:  map[string]map[string][]byte{"p": {"k": nil}},
			MissingPartitioned: []string{"m"},
			PartitionedOutputs: []string{"z", "o"}},
			`{"abi":1,"task":"t","run_id":"r","inputs":["a","m","p"],"outputs":["o","z"],"partitioned":["m","o","p","z"]}`},
		{"map invocation", Config{Task: "t", RunID: "r", Part: "eu/<2026>&12.csv",
			Inputs: map[string][]byte{"in": nil}, Outputs: []string{"out"}},
			`{"abi":1,"task":"t","run_id":"r","inputs":["in"],"outputs":["out"],"part":"eu/<2026>&12.csv"}`},
		{"map invocation with a partitioned input", Config{Task: "t", RunID: "r", Part: "k",
			Inputs: map[string][]byte{"in": nil}, PartitionedInputs: map[string]map[string][]byte{"all": nil}},
			`{"abi":1,"task":"t","run_id":"r","inputs":["all","in"],"part":"k","partitioned":["all"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			n, _ := h.TaskContext(nil)
			buf := make([]byte, n)
			h.TaskContext(buf)
			if string(buf) != tt.want {
				t.Errorf("task context =\n%s\nwant\n%s", buf, tt.want)
			}
		})
	}
}

func TestParts(t *testing.T) {
	tests := []struct {
		name    string
		dataset string
		want    abi.Errno
		list    string
	}{
		{"partitioned input", "logs", abi.ErrnoSuccess, "a.log\nb/10.log\nb/2.log\n"},
		{"no parts", "empty", abi.ErrnoSuccess, ""},
		{"no version", "later", abi.ErrnoNoent, ""},
		{"whole input", "whole", abi.ErrnoNotPartitioned, ""},
		{"whole input without a version", "gone", abi.ErrnoNotPartitioned, ""},
		{"partitioned output", "byday", abi.ErrnoAcces, ""},
		{"whole output", "out", abi.ErrnoAcces, ""},
		{"undeclared", "nope", abi.ErrnoAcces, ""},
		{"empty name", "", abi.ErrnoInval, ""},
		{"long name", strings.Repeat("n", abi.MaxNameLen+1), abi.ErrnoInval, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newPartsHost(t)
			buf := make([]byte, 100)
			n, e := h.Parts(tt.dataset, buf)
			if e != tt.want {
				t.Fatalf("Parts(%q) = %d, %v; want %v", tt.dataset, n, e, tt.want)
			}
			if e == abi.ErrnoSuccess && string(buf[:n]) != tt.list {
				t.Errorf("Parts(%q) listed %q, want %q", tt.dataset, buf[:n], tt.list)
			}
		})
	}
}

func TestPartsRange(t *testing.T) {
	h := newPartsHost(t)
	const list = "a.log\nb/10.log\nb/2.log\n"
	for _, size := range []int{0, 1, len(list) - 1} {
		buf := make([]byte, size)
		if n, e := h.Parts("logs", buf); n != len(list) || e != abi.ErrnoRange {
			t.Errorf("Parts into %d bytes = %d, %v; want %d, ErrnoRange", size, n, e, len(list))
		}
	}
	buf := make([]byte, len(list))
	if n, e := h.Parts("logs", buf); n != len(list) || e != abi.ErrnoSuccess || string(buf) != list {
		t.Errorf("Parts into %d bytes = %d, %v, %q", len(list), n, e, buf)
	}
	// The zero-length buffer of an input with no parts is large enough.
	if n, e := h.Parts("empty", nil); n != 0 || e != abi.ErrnoSuccess {
		t.Errorf("Parts(empty, nil) = %d, %v; want 0, success", n, e)
	}
}

func TestOpenPartitioned(t *testing.T) {
	tests := []struct {
		dataset string
		mode    uint32
		want    abi.Errno
	}{
		{"logs", abi.ModeRead, abi.ErrnoPartitioned},
		{"later", abi.ModeRead, abi.ErrnoPartitioned}, // before ErrnoNoent
		{"byday", abi.ModeWrite, abi.ErrnoPartitioned},
		{"byday", abi.ModeRead, abi.ErrnoAcces}, // access first
		{"logs", abi.ModeWrite, abi.ErrnoAcces},
		{"gone", abi.ModeRead, abi.ErrnoNoent},
	}
	for _, tt := range tests {
		h := newPartsHost(t)
		if _, e := h.Open(tt.dataset, tt.mode); e != tt.want {
			t.Errorf("Open(%q, %d) = %v, want %v", tt.dataset, tt.mode, e, tt.want)
		}
	}
}

func TestOpenPart(t *testing.T) {
	tests := []struct {
		name    string
		dataset string
		key     string
		mode    uint32
		want    abi.Errno
	}{
		{"read a part", "logs", "b/2.log", abi.ModeRead, abi.ErrnoSuccess},
		{"read an empty part", "logs", "b/10.log", abi.ModeRead, abi.ErrnoSuccess},
		{"read no such part", "logs", "c.log", abi.ModeRead, abi.ErrnoNoent},
		{"read an input without a version", "later", "a.log", abi.ModeRead, abi.ErrnoNoent},
		{"read a whole input", "whole", "a.log", abi.ModeRead, abi.ErrnoNotPartitioned},
		{"read a whole input without a version", "gone", "a.log", abi.ModeRead, abi.ErrnoNotPartitioned},
		{"read an output", "byday", "a.log", abi.ModeRead, abi.ErrnoAcces},
		{"read undeclared", "nope", "a.log", abi.ModeRead, abi.ErrnoAcces},
		{"write a part", "byday", "2026-12-01", abi.ModeWrite, abi.ErrnoSuccess},
		{"write a whole output", "out", "2026-12-01", abi.ModeWrite, abi.ErrnoNotPartitioned},
		{"write an input", "logs", "a.log", abi.ModeWrite, abi.ErrnoAcces},
		{"bad mode", "logs", "a.log", 2, abi.ErrnoInval},
		{"empty name", "", "a.log", abi.ModeRead, abi.ErrnoInval},
		{"read a bad key", "logs", "../a.log", abi.ModeRead, abi.ErrnoInval},
		{"read a bad key of an undeclared input", "nope", "", abi.ModeRead, abi.ErrnoInval},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newPartsHost(t)
			if _, e := h.OpenPart(tt.dataset, tt.key, tt.mode); e != tt.want {
				t.Errorf("OpenPart(%q, %q, %d) = %v, want %v", tt.dataset, tt.key, tt.mode, e, tt.want)
			}
			if h.fault != "" {
				t.Errorf("OpenPart recorded a fault: %s", h.fault)
			}
		})
	}
}

func TestOpenPartHandles(t *testing.T) {
	h := newPartsHost(t)
	in, e := h.OpenPart("logs", "b/2.log", abi.ModeRead)
	if e != 0 {
		t.Fatal(e)
	}
	buf := make([]byte, 10)
	if n, e := h.Read(in, buf); e != 0 || string(buf[:n]) != "two" {
		t.Errorf("Read = %q, %v; want the part's bytes", buf[:n], e)
	}
	if n, e := h.Read(in, buf); n != 0 || e != 0 {
		t.Errorf("Read at the end = %d, %v", n, e)
	}
	steps := []struct {
		what string
		got  abi.Errno
		want abi.Errno
	}{
		{"read a part again", second(h.OpenPart("logs", "b/2.log", abi.ModeRead)), abi.ErrnoSuccess},
		{"write a part", second(h.OpenPart("byday", "d1", abi.ModeWrite)), abi.ErrnoSuccess},
		{"write it again", second(h.OpenPart("byday", "d1", abi.ModeWrite)), abi.ErrnoBusy},
		{"write another part", second(h.OpenPart("byday", "d2", abi.ModeWrite)), abi.ErrnoSuccess},
		{"the same key of another output", second(h.OpenPart("other", "d1", abi.ModeWrite)), abi.ErrnoSuccess},
		{"a whole output by name", second(h.Open("out", abi.ModeWrite)), abi.ErrnoSuccess},
	}
	for _, s := range steps {
		if s.got != s.want {
			t.Errorf("%s: %v, want %v", s.what, s.got, s.want)
		}
	}
	for range abi.MaxHandles - len(h.handles) {
		if _, e := h.OpenPart("logs", "a.log", abi.ModeRead); e != 0 {
			t.Fatal(e)
		}
	}
	if _, e := h.OpenPart("nope", "a.log", abi.ModeRead); e != abi.ErrnoMfile {
		t.Errorf("OpenPart past the limit = %v, want ErrnoMfile (the limit comes before access)", e)
	}
	if _, e := h.OpenPart("logs", "a//b", abi.ModeRead); e != abi.ErrnoInval {
		t.Errorf("OpenPart with a bad key past the limit = %v, want ErrnoInval (the key comes first)", e)
	}
}

func TestFinishParts(t *testing.T) {
	h := newPartsHost(t)
	write := func(name, key, data string) {
		hd, e := h.OpenPart(name, key, abi.ModeWrite)
		if e != 0 {
			t.Fatalf("OpenPart(%q, %q) = %v", name, key, e)
		}
		h.Write(hd, []byte(data))
	}
	write("byday", "d1", "one")
	write("byday", "x/d2", "")
	write("other", "d1", "other")
	hd, _ := h.Open("out", abi.ModeWrite)
	h.Write(hd, []byte("whole"))
	outs, parts, err := h.Finish(0)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]byte{"out": []byte("whole")}; !reflect.DeepEqual(outs, want) {
		t.Errorf("outputs = %q, want %q", outs, want)
	}
	want := map[string]map[string][]byte{
		"byday": {"d1": []byte("one"), "x/d2": nil},
		"other": {"d1": []byte("other")},
	}
	if !reflect.DeepEqual(parts, want) {
		t.Errorf("parts = %q, want %q", parts, want)
	}
}

func TestFinishPartsRefused(t *testing.T) {
	tests := []struct {
		name string
		fn   func(h *Host)
		code int
		want string
	}{
		{"a partitioned output without parts", func(h *Host) {
			h.OpenPart("byday", "d1", abi.ModeWrite)
			h.Open("out", abi.ModeWrite)
		}, 0, `the task succeeded but wrote no part of its declared partitioned output "other" (write at least one part, or remove it from the task's outputs)`},
		{"nothing written", func(h *Host) {}, 0,
			`the task succeeded but did not write its declared output "out" (open and close the output even when it is empty, or remove it from the task's outputs), ` +
				`and wrote no part of its declared partitioned output "byday", "other" (write at least one part, or remove it from the task's outputs)`},
		{"a bad key written to", func(h *Host) {
			for _, o := range []string{"byday", "other"} {
				h.OpenPart(o, "ok", abi.ModeWrite)
			}
			h.Open("out", abi.ModeWrite)
			if _, e := h.OpenPart("byday", "2026/./12", abi.ModeWrite); e != abi.ErrnoInval {
				t.Errorf("OpenPart with a bad key = %v, want ErrnoInval", e)
			}
			h.OpenPart("byday", "", abi.ModeWrite) // only the first is reported
		}, 0, `the task passed an invalid argument to the host (dataset_open_part: output "byday": part "2026/./12": the part key has a segment "."; ` + keyRule + `)`},
		{"a bad key written to, and an exit code", func(h *Host) {
			h.OpenPart("undeclared", "a\\b", abi.ModeWrite)
			h.Fail("the task's own message")
		}, 1, `the task passed an invalid argument to the host (dataset_open_part: output "undeclared": part "a\\b": the part key holds '\'; ` + keyRule + `)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newPartsHost(t)
			tt.fn(h)
			outs, parts, err := h.Finish(tt.code)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Finish error =\n%v\nwant\n%s", err, tt.want)
			}
			if outs != nil || parts != nil {
				t.Errorf("Finish kept outputs %q and parts %q", outs, parts)
			}
		})
	}
}

const keyRule = "a part key is UTF-8 text of 1 to 512 bytes: segments separated by '/', none of them empty, '.' or '..', with no control characters and no '\\'"

func TestNewRefusesParts(t *testing.T) {
	long := strings.Repeat("k", abi.MaxKeyLen+1)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"whole and partitioned", Config{Inputs: map[string][]byte{"a": nil}, PartitionedOutputs: []string{"a"}},
			`dataset "a" is declared twice (as input and as partitioned output); declare each dataset once`},
		{"partitioned twice", Config{PartitionedInputs: map[string]map[string][]byte{"a": nil}, MissingPartitioned: []string{"a"}},
			`dataset "a" is declared twice (as partitioned input and as missing partitioned input); declare each dataset once`},
		{"bad part key", Config{PartitionedInputs: map[string]map[string][]byte{"a": {"x/../y": nil}}},
			`partitioned input "a": part "x/../y": the part key has a segment ".."; ` + keyRule},
		{"long part key", Config{PartitionedInputs: map[string]map[string][]byte{"a": {long: nil}}},
			`partitioned input "a": part "` + long[:40] + `"...: the part key is 513 bytes long, over the limit of 512; ` + keyRule},
		{"bad current part", Config{Part: "/abs"},
			`part "/abs": the part key has an empty segment; ` + keyRule},
		{"bad partitioned output name", Config{PartitionedOutputs: []string{""}},
			`partitioned output "": the dataset name is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil || err.Error() != tt.want {
				t.Errorf("New error =\n%v\nwant\n%s", err, tt.want)
			}
		})
	}
}

// TestOpenPartFolderClash: as in the runtime, writing a part inside
// another, or named as the folder of another, fails the task.
func TestOpenPartFolderClash(t *testing.T) {
	for first, second := range map[string]string{"d1": "d1/x", "d2/x": "d2"} {
		h := newPartsHost(t)
		if _, e := h.OpenPart("byday", first, abi.ModeWrite); e != abi.ErrnoSuccess {
			t.Fatal(e)
		}
		if _, e := h.OpenPart("byday", second, abi.ModeWrite); e != abi.ErrnoInval {
			t.Errorf("writing %q after %q = %v, want ErrnoInval", second, first, e)
		}
		if !strings.Contains(h.fault, "a key may not be the folder of another key") {
			t.Errorf("writing %q after %q recorded %q, want a fault naming the rule", second, first, h.fault)
		}
	}
}
