package task

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/sdk-guest/internal/memhost"
)

// newPartsHost returns a host with the partitioned input "logs", whose
// parts are the keys given (each holding its own key), and the partitioned
// output "out".
func newPartsHost(t *testing.T, keys ...string) *faultyHost {
	t.Helper()
	parts := make(map[string][]byte, len(keys))
	for _, k := range keys {
		parts[k] = []byte(k)
	}
	m, err := memhost.New(memhost.Config{
		Task:               "t",
		PartitionedInputs:  map[string]map[string][]byte{"logs": parts},
		PartitionedOutputs: []string{"out"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &faultyHost{Host: m}
}

// copyParts copies every part of "logs" to "out" under the same key.
func copyParts(c *Context) error {
	keys, err := c.Parts("logs")
	if err != nil {
		return err
	}
	for _, k := range keys {
		in, err := c.InputPart("logs", k)
		if err != nil {
			return err
		}
		out, err := c.OutputPart("out", k)
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

func TestPartsBuffer(t *testing.T) {
	for _, n := range []int{1, 10, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var keys []string
			size := 0
			for i := range n {
				k := fmt.Sprintf("day/%06d.log", i)
				keys = append(keys, k)
				size += len(k) + 1
			}
			f := newPartsHost(t, keys...)
			var calls []int
			f.parts = func(name string, buf []byte) (int, abi.Errno) {
				calls = append(calls, len(buf))
				return f.Host.Parts(name, buf)
			}
			var got []string
			o := run(f, func(c *Context) error {
				var err error
				got, err = c.Parts("logs")
				if err != nil {
					return err
				}
				return copyParts(c)
			})
			if o.Code != 0 {
				t.Fatal(o.Err)
			}
			if !slices.Equal(got, keys) {
				t.Errorf("Parts returned %d keys, want the %d sorted keys", len(got), len(keys))
			}
			want := []int{partsBufSize}
			if size > partsBufSize {
				want = append(want, size) // asked again, at the reported length
			}
			if !slices.Equal(calls[:len(want)], want) {
				t.Errorf("the first call to dataset_parts passed buffers of %v bytes, want %v", calls, want)
			}
			_, parts, err := f.Finish(0)
			if err != nil {
				t.Fatal(err)
			}
			if len(parts["out"]) != n || string(parts["out"][keys[n-1]]) != keys[n-1] {
				t.Errorf("out has %d parts, want the %d of logs", len(parts["out"]), n)
			}
		})
	}
}

// TestPartsHostFailures checks what the SDK makes of a runtime whose
// storage fails, or that breaks the ABI, while a task works part by part:
// the task fails with a message that names the dataset and the part, even
// when it ignores the error it got.
func TestPartsHostFailures(t *testing.T) {
	ignore := func(op func(c *Context) error) func(c *Context) error {
		return func(c *Context) error {
			if err := op(c); err == nil {
				return errors.New("the call succeeded on a failing host")
			}
			w, err := c.OutputPart("out", "k")
			if err != nil {
				return err
			}
			return w.Close()
		}
	}
	list := func(c *Context) error { _, err := c.Parts("logs"); return err }
	tests := []struct {
		name  string
		setup func(f *faultyHost)
		fn    func(*Context) error
		msg   string
		errno abi.Errno
	}{
		{
			name:  "listing fails in storage",
			setup: func(f *faultyHost) { f.parts = func(string, []byte) (int, abi.Errno) { return 0, abi.ErrnoIO } },
			fn:    ignore(list),
			msg:   `task: list the parts of input "logs": the storage behind the dataset failed`,
			errno: abi.ErrnoIO,
		},
		{
			name:  "listing canceled",
			setup: func(f *faultyHost) { f.parts = func(string, []byte) (int, abi.Errno) { return 0, abi.ErrnoCanceled } },
			fn:    ignore(list),
			msg:   `task: list the parts of input "logs": the invocation is being stopped (timeout or cancellation)`,
			errno: abi.ErrnoCanceled,
		},
		{
			name: "list keeps growing",
			setup: func(f *faultyHost) {
				f.parts = func(_ string, buf []byte) (int, abi.Errno) { return len(buf) + 1, abi.ErrnoRange }
			},
			fn:    ignore(list),
			msg:   `task: list the parts of input "logs": buffer too small`,
			errno: abi.ErrnoRange,
		},
		{
			name: "list overflows",
			setup: func(f *faultyHost) {
				f.parts = func(_ string, buf []byte) (int, abi.Errno) { return len(buf) + 1, abi.ErrnoSuccess }
			},
			fn:  ignore(list),
			msg: `task: list the parts of input "logs": the runtime reported 4097 bytes into a 4096-byte buffer`,
		},
		{
			name: "list without its last newline",
			setup: func(f *faultyHost) {
				f.parts = func(_ string, buf []byte) (int, abi.Errno) { return copy(buf, "a\nb"), abi.ErrnoSuccess }
			},
			fn:  ignore(list),
			msg: `task: list the parts of input "logs": the runtime sent a malformed list of keys`,
		},
		{
			name: "list with an empty key",
			setup: func(f *faultyHost) {
				f.parts = func(_ string, buf []byte) (int, abi.Errno) { return copy(buf, "a\n\nb\n"), abi.ErrnoSuccess }
			},
			fn:  ignore(list),
			msg: `task: list the parts of input "logs": the runtime sent a malformed list of keys`,
		},
		{
			name: "opening a part fails in storage",
			setup: func(f *faultyHost) {
				f.openPart = func(name, key string, mode uint32) (uint32, abi.Errno) {
					if mode == abi.ModeRead {
						return 0, abi.ErrnoIO
					}
					return f.Host.OpenPart(name, key, mode)
				}
			},
			fn:    ignore(func(c *Context) error { _, err := c.InputPart("logs", "a/b.log"); return err }),
			msg:   `task: open part "a/b.log" of input "logs": the storage behind the dataset failed`,
			errno: abi.ErrnoIO,
		},
		{
			name: "reading a part fails",
			setup: func(f *faultyHost) {
				f.read = func(uint32, []byte) (int, abi.Errno) { return 0, abi.ErrnoIO }
			},
			fn:    copyParts,
			msg:   `task: read part "a/b.log" of input "logs": the storage behind the dataset failed`,
			errno: abi.ErrnoIO,
		},
		{
			name: "writing a part fails",
			setup: func(f *faultyHost) {
				f.write = func(uint32, []byte) (int, abi.Errno) { return 0, abi.ErrnoIO }
			},
			fn:    copyParts,
			msg:   `task: write part "a/b.log" of output "out": the storage behind the dataset failed`,
			errno: abi.ErrnoIO,
		},
		{
			name: "the runtime refuses a key the SDK accepts",
			setup: func(f *faultyHost) {
				f.openPart = func(string, string, uint32) (uint32, abi.Errno) { return 0, abi.ErrnoInval }
			},
			fn:    func(c *Context) error { _, err := c.OutputPart("out", "k"); return err },
			msg:   `task: open part "k" of output "out": the runtime refused the dataset name or the part key`,
			errno: abi.ErrnoInval,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPartsHost(t, "a/b.log")
			tt.setup(f)
			o := run(f, tt.fn)
			if o.Code != exitError {
				t.Fatalf("exit code = %d, want %d (err %v)", o.Code, exitError, o.Err)
			}
			if o.Err.Error() != tt.msg {
				t.Errorf("error:\n got %s\nwant %s", o.Err, tt.msg)
			}
			if got := f.FailMessage(); got != tt.msg {
				t.Errorf("task_fail message = %q, want %q", got, tt.msg)
			}
			if tt.errno != 0 && !errors.Is(o.Err, tt.errno) {
				t.Errorf("errors.Is(err, %v) = false", tt.errno)
			}
		})
	}
}

func TestTargetString(t *testing.T) {
	tests := []struct {
		t    target
		want string
	}{
		{target{mode: abi.ModeRead, name: "raw"}, `input "raw"`},
		{target{mode: abi.ModeWrite, name: "out"}, `output "out"`},
		{target{mode: abi.ModeRead, name: "logs", key: "eu/1.log", part: true}, `part "eu/1.log" of input "logs"`},
		{target{mode: abi.ModeWrite, name: "out", part: true}, `part "" of output "out"`},
		{target{mode: abi.ModeWrite, name: "out", key: strings.Repeat("k", 600), part: true},
			`part "` + strings.Repeat("k", 40) + `"... of output "out"`},
	}
	for _, tt := range tests {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("%+v names itself %s, want %s", tt.t, got, tt.want)
		}
	}
}
