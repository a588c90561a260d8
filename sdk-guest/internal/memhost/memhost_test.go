package memhost

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/abi"
)

func newHost(t *testing.T) *Host {
	t.Helper()
	h, err := New(Config{
		Task:    "clean",
		RunID:   "r1",
		Params:  map[string]string{"k": "v"},
		Inputs:  map[string][]byte{"in": []byte("hello"), "b": nil},
		Missing: []string{"gone"},
		Outputs: []string{"out", "other"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestTaskContext(t *testing.T) {
	h := newHost(t)
	n, e := h.TaskContext(make([]byte, 3))
	if e != abi.ErrnoRange || n <= 3 {
		t.Fatalf("TaskContext(3-byte buffer) = %d, %v; want the needed length and ErrnoRange", n, e)
	}
	buf := make([]byte, n)
	if m, e := h.TaskContext(buf); m != n || e != abi.ErrnoSuccess {
		t.Fatalf("TaskContext(%d-byte buffer) = %d, %v", n, m, e)
	}
	var tc abi.TaskContext
	if err := json.Unmarshal(buf, &tc); err != nil {
		t.Fatal(err)
	}
	want := abi.TaskContext{
		ABI: abi.Version, Task: "clean", RunID: "r1",
		Params:  map[string]string{"k": "v"},
		Inputs:  []string{"b", "gone", "in"},
		Outputs: []string{"other", "out"},
	}
	if !reflect.DeepEqual(tc, want) {
		t.Errorf("task context = %+v, want %+v", tc, want)
	}
}

func TestOpen(t *testing.T) {
	tests := []struct {
		name    string
		dataset string
		mode    uint32
		want    abi.Errno
	}{
		{"input", "in", abi.ModeRead, abi.ErrnoSuccess},
		{"empty input", "b", abi.ModeRead, abi.ErrnoSuccess},
		{"output", "out", abi.ModeWrite, abi.ErrnoSuccess},
		{"undeclared read", "nope", abi.ModeRead, abi.ErrnoAcces},
		{"undeclared write", "nope", abi.ModeWrite, abi.ErrnoAcces},
		{"read an output", "out", abi.ModeRead, abi.ErrnoAcces},
		{"write an input", "in", abi.ModeWrite, abi.ErrnoAcces},
		{"write a missing input", "gone", abi.ModeWrite, abi.ErrnoAcces},
		{"no version", "gone", abi.ModeRead, abi.ErrnoNoent},
		{"bad mode", "in", 2, abi.ErrnoInval},
		{"empty name", "", abi.ModeRead, abi.ErrnoInval},
		{"long name", strings.Repeat("a", abi.MaxNameLen+1), abi.ModeRead, abi.ErrnoInval},
		{"longest name", strings.Repeat("a", abi.MaxNameLen), abi.ModeRead, abi.ErrnoAcces},
		{"not UTF-8", "\xff", abi.ModeRead, abi.ErrnoInval},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t)
			if _, e := h.Open(tt.dataset, tt.mode); e != tt.want {
				t.Errorf("Open(%q, %d) = %v, want %v", tt.dataset, tt.mode, e, tt.want)
			}
		})
	}
}

func TestHandles(t *testing.T) {
	h := newHost(t)
	in, e := h.Open("in", abi.ModeRead)
	if e != 0 {
		t.Fatal(e)
	}
	out, e := h.Open("out", abi.ModeWrite)
	if e != 0 {
		t.Fatal(e)
	}
	if in == out {
		t.Fatalf("two open datasets share handle %d", in)
	}
	steps := []struct {
		what string
		got  abi.Errno
		want abi.Errno
	}{
		{"write to an input", second(h.Write(in, []byte("x"))), abi.ErrnoBadf},
		{"read from an output", second(h.Read(out, make([]byte, 1))), abi.ErrnoBadf},
		{"read an unknown handle", second(h.Read(999, make([]byte, 1))), abi.ErrnoBadf},
		{"write an unknown handle", second(h.Write(999, nil)), abi.ErrnoBadf},
		{"close an unknown handle", h.Close(999), abi.ErrnoBadf},
		{"reopen an open output", second(h.Open("out", abi.ModeWrite)), abi.ErrnoBusy},
		{"write", second(h.Write(out, []byte("abc"))), abi.ErrnoSuccess},
		{"close the output", h.Close(out), abi.ErrnoSuccess},
		{"close it again", h.Close(out), abi.ErrnoBadf},
		{"write after close", second(h.Write(out, []byte("x"))), abi.ErrnoBadf},
		{"read into an empty buffer", second(h.Read(in, nil)), abi.ErrnoInval},
		{"reopen a closed output", second(h.Open("out", abi.ModeWrite)), abi.ErrnoBusy},
	}
	for _, s := range steps {
		if s.got != s.want {
			t.Errorf("%s: %v, want %v", s.what, s.got, s.want)
		}
	}
	buf := make([]byte, 3)
	var got []byte
	for {
		n, e := h.Read(in, buf)
		if e != 0 {
			t.Fatal(e)
		}
		if n == 0 {
			break
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "hello" {
		t.Errorf("read %q, want hello", got)
	}
	if _, _, err := h.Finish(0); err == nil || !strings.Contains(err.Error(), "(dataset_write: handle 1 is \"in\", opened in mode 0)") {
		t.Errorf("Finish after bad handles = %v, want the first fault", err)
	}
}

func second[T any](_ T, e abi.Errno) abi.Errno { return e }

func TestMaxHandles(t *testing.T) {
	h := newHost(t)
	var first uint32
	for i := range abi.MaxHandles {
		hd, e := h.Open("in", abi.ModeRead)
		if e != 0 {
			t.Fatalf("open %d: %v", i, e)
		}
		if i == 0 {
			first = hd
		}
	}
	if _, e := h.Open("in", abi.ModeRead); e != abi.ErrnoMfile {
		t.Fatalf("open past the limit = %v, want ErrnoMfile", e)
	}
	if _, e := h.Open("out", abi.ModeWrite); e != abi.ErrnoMfile {
		t.Fatalf("open an output past the limit = %v, want ErrnoMfile", e)
	}
	if _, e := h.Open("undeclared", abi.ModeRead); e != abi.ErrnoMfile {
		t.Fatalf("open an undeclared dataset past the limit = %v, want ErrnoMfile (the limit is checked first)", e)
	}
	h.Close(first)
	if _, e := h.Open("out", abi.ModeWrite); e != 0 {
		t.Fatalf("open after a close = %v, want success", e)
	}
}

func TestFinish(t *testing.T) {
	tests := []struct {
		name      string
		code      int
		fail      string
		write     []string // outputs to open and write their own name to
		outs      map[string][]byte
		errText   string
		badHandle bool // close a handle that was never opened
	}{
		{name: "success", code: 0, write: []string{"out", "other"},
			outs: map[string][]byte{"out": []byte("out"), "other": []byte("other")}},
		{name: "output not opened", code: 0, write: []string{"out"},
			errText: `the task succeeded but did not write its declared output "other" (open and close the output even when it is empty, or remove it from the task's outputs)`},
		{name: "failure with a message", code: 1, fail: "bad row", write: []string{"out", "other"}, errText: "bad row"},
		{name: "failure without a message", code: 3, write: []string{"out", "other"}, errText: "exit code 3"},
		{name: "bad handle fails a success", code: 0, write: []string{"out", "other"}, badHandle: true,
			errText: "the task passed an invalid argument to the host (dataset_close: handle 77 is not open)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t)
			for _, o := range tt.write {
				hd, e := h.Open(o, abi.ModeWrite)
				if e != 0 {
					t.Fatal(e)
				}
				h.Write(hd, []byte(o)) // left open: Finish closes it
			}
			if tt.fail != "" {
				h.Fail(tt.fail)
			}
			if tt.badHandle {
				h.Close(77)
			}
			outs, parts, err := h.Finish(tt.code)
			if tt.errText != "" {
				if err == nil || err.Error() != tt.errText {
					t.Fatalf("Finish error = %v, want %q", err, tt.errText)
				}
				var ee *ExitError
				if tt.code != 0 && (!errors.As(err, &ee) || ee.Code != tt.code) {
					t.Errorf("Finish error = %#v, want an *ExitError with code %d", err, tt.code)
				}
				if outs != nil || parts != nil {
					t.Errorf("outputs %v and parts %v returned with an error", outs, parts)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(outs, tt.outs) {
				t.Errorf("outputs = %q, want %q", outs, tt.outs)
			}
			if len(parts) != 0 {
				t.Errorf("parts = %q, want none: no output is partitioned", parts)
			}
			if _, _, err := h.Finish(0); err == nil {
				t.Error("a second Finish succeeded")
			}
		})
	}
}

func TestFailKeepsTheLimit(t *testing.T) {
	h := newHost(t)
	h.Fail("first")
	h.Fail(strings.Repeat("é", abi.MaxFailMessage))
	if got := h.FailMessage(); len(got) != abi.MaxFailMessage || got != strings.Repeat("é", abi.MaxFailMessage/2) {
		t.Errorf("kept %d bytes, want the last message cut to %d", len(got), abi.MaxFailMessage)
	}
}

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"twice", Config{Inputs: map[string][]byte{"a": nil}, Outputs: []string{"a"}}, `dataset "a" is declared twice (as input and as output); declare each dataset once`},
		{"long", Config{Missing: []string{strings.Repeat("m", 300)}}, `missing input "` + strings.Repeat("m", 300) + `": the dataset name is 300 bytes long, over the limit of 256`},
		{"utf8", Config{Outputs: []string{"\xfe"}}, `output "\xfe": the dataset name is not valid UTF-8`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil || err.Error() != tt.want {
				t.Errorf("New error = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestTaskContextBytes checks the encoding against the host's: compact
// JSON, fields in order, no HTML escaping.
func TestTaskContextBytes(t *testing.T) {
	h, err := New(Config{Task: "t", RunID: "r-1", Params: map[string]string{"q": "<a&b>"},
		Inputs: map[string][]byte{"z": nil, "a": nil}, Outputs: []string{"o"}})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := h.TaskContext(nil)
	buf := make([]byte, n)
	h.TaskContext(buf)
	want := `{"abi":1,"task":"t","run_id":"r-1","params":{"q":"<a&b>"},"inputs":["a","z"],"outputs":["o"]}`
	if string(buf) != want {
		t.Errorf("task context =\n%s\nwant\n%s", buf, want)
	}
}
