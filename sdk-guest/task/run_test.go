package task

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/sdk-guest/internal/memhost"
)

// faultyHost is the in-memory host with some calls replaced, to play a
// runtime whose storage fails or that breaks the ABI.
type faultyHost struct {
	*memhost.Host
	taskContext func(buf []byte) (int, abi.Errno)
	open        func(name string, mode uint32) (uint32, abi.Errno)
	read        func(h uint32, buf []byte) (int, abi.Errno)
	write       func(h uint32, buf []byte) (int, abi.Errno)
	close       func(h uint32) abi.Errno
	parts       func(name string, buf []byte) (int, abi.Errno)
	openPart    func(name, key string, mode uint32) (uint32, abi.Errno)
}

func (f *faultyHost) TaskContext(buf []byte) (int, abi.Errno) {
	if f.taskContext != nil {
		return f.taskContext(buf)
	}
	return f.Host.TaskContext(buf)
}

func (f *faultyHost) Open(name string, mode uint32) (uint32, abi.Errno) {
	if f.open != nil {
		return f.open(name, mode)
	}
	return f.Host.Open(name, mode)
}

func (f *faultyHost) Read(h uint32, buf []byte) (int, abi.Errno) {
	if f.read != nil {
		return f.read(h, buf)
	}
	return f.Host.Read(h, buf)
}

func (f *faultyHost) Write(h uint32, buf []byte) (int, abi.Errno) {
	if f.write != nil {
		return f.write(h, buf)
	}
	return f.Host.Write(h, buf)
}

func (f *faultyHost) Close(h uint32) abi.Errno {
	if f.close != nil {
		return f.close(h)
	}
	return f.Host.Close(h)
}

func (f *faultyHost) Parts(name string, buf []byte) (int, abi.Errno) {
	if f.parts != nil {
		return f.parts(name, buf)
	}
	return f.Host.Parts(name, buf)
}

func (f *faultyHost) OpenPart(name, key string, mode uint32) (uint32, abi.Errno) {
	if f.openPart != nil {
		return f.openPart(name, key, mode)
	}
	return f.Host.OpenPart(name, key, mode)
}

func newFaulty(t *testing.T) *faultyHost {
	t.Helper()
	m, err := memhost.New(memhost.Config{
		Task:    "t",
		Inputs:  map[string][]byte{"in": []byte(strings.Repeat("line\n", 100000))},
		Outputs: []string{"out"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &faultyHost{Host: m}
}

// careless copies in to out line by line and ignores every error but the
// opens', as a hasty task might.
func careless(c *Context) error {
	in, err := c.Input("in")
	if err != nil {
		return err
	}
	out, err := c.Output("out")
	if err != nil {
		return err
	}
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		fmt.Fprintln(out, lines.Text())
	}
	out.Close()
	return nil
}

func TestHostFailures(t *testing.T) {
	calls := 0
	failAfter := func(n int, e abi.Errno) func() (bool, abi.Errno) {
		calls = 0
		return func() (bool, abi.Errno) {
			calls++
			return calls > n, e
		}
	}
	tests := []struct {
		name  string
		setup func(f *faultyHost)
		fn    func(*Context) error
		msg   string
		errno abi.Errno // matched by errors.Is on the outcome, if not 0
	}{
		{
			name: "write fails, task ignores it",
			setup: func(f *faultyHost) {
				fail := failAfter(1, abi.ErrnoIO)
				f.write = func(h uint32, buf []byte) (int, abi.Errno) {
					if bad, e := fail(); bad {
						return 0, e
					}
					return f.Host.Write(h, buf)
				}
			},
			fn:    careless,
			msg:   `task: write output "out": the storage behind the dataset failed`,
			errno: abi.ErrnoIO,
		},
		{
			name: "read fails, task ignores it",
			setup: func(f *faultyHost) {
				fail := failAfter(1, abi.ErrnoIO)
				f.read = func(h uint32, buf []byte) (int, abi.Errno) {
					if bad, e := fail(); bad {
						return 0, e
					}
					return f.Host.Read(h, buf)
				}
			},
			fn:    careless,
			msg:   `task: read input "in": the storage behind the dataset failed`,
			errno: abi.ErrnoIO,
		},
		{
			name: "canceled",
			setup: func(f *faultyHost) {
				f.read = func(uint32, []byte) (int, abi.Errno) { return 0, abi.ErrnoCanceled }
			},
			fn:    careless,
			msg:   `task: read input "in": the invocation is being stopped (timeout or cancellation)`,
			errno: abi.ErrnoCanceled,
		},
		{
			name: "closing an output fails",
			setup: func(f *faultyHost) {
				f.close = func(uint32) abi.Errno { return abi.ErrnoIO }
			},
			fn: func(c *Context) error {
				_, err := c.Output("out")
				return err // Run closes it and sees the failure
			},
			msg:   `task: close output "out": the storage behind the dataset failed`,
			errno: abi.ErrnoIO,
		},
		{
			name: "bad handle",
			setup: func(f *faultyHost) {
				f.write = func(uint32, []byte) (int, abi.Errno) { return 0, abi.ErrnoBadf }
			},
			fn:    careless,
			msg:   `task: write output "out": the runtime does not know the handle (bad handle)`,
			errno: abi.ErrnoBadf,
		},
		{
			name: "open fails in storage",
			setup: func(f *faultyHost) {
				f.open = func(string, uint32) (uint32, abi.Errno) { return 0, abi.ErrnoIO }
			},
			fn: func(c *Context) error {
				c.Input("in") // ignored, still fails the task
				_, err := c.Output("out")
				if err == nil {
					return errors.New("Output succeeded on a failing host")
				}
				return nil
			},
			msg:   `task: open input "in": the storage behind the dataset failed`,
			errno: abi.ErrnoIO,
		},
		{
			name: "runtime refuses a name the SDK accepts",
			setup: func(f *faultyHost) {
				f.open = func(string, uint32) (uint32, abi.Errno) { return 0, abi.ErrnoInval }
			},
			fn:    func(c *Context) error { _, err := c.Input("in"); return err },
			msg:   `task: open input "in": the runtime refused the dataset name`,
			errno: abi.ErrnoInval,
		},
		{
			name: "unknown errno",
			setup: func(f *faultyHost) {
				f.open = func(string, uint32) (uint32, abi.Errno) { return 0, 99 }
			},
			fn:    func(c *Context) error { _, err := c.Input("in"); return err },
			msg:   `task: open input "in": unknown errno`,
			errno: 99,
		},
		{
			name: "write makes no progress",
			setup: func(f *faultyHost) {
				f.write = func(uint32, []byte) (int, abi.Errno) { return 0, abi.ErrnoSuccess }
			},
			fn:  careless,
			msg: `task: write output "out": the runtime reported 0 bytes written of 262140`,
		},
		{
			name: "read overflows",
			setup: func(f *faultyHost) {
				f.read = func(_ uint32, buf []byte) (int, abi.Errno) { return len(buf) + 1, abi.ErrnoSuccess }
			},
			fn:  careless,
			msg: `task: read input "in": the runtime reported 8193 bytes read into a 8192-byte buffer`,
		},
		{
			name: "task context unreadable",
			setup: func(f *faultyHost) {
				f.taskContext = func([]byte) (int, abi.Errno) { return 0, abi.ErrnoFault }
			},
			fn:    careless,
			msg:   `task: read the task context from the runtime: pointer or length outside guest memory`,
			errno: abi.ErrnoFault,
		},
		{
			name: "task context keeps growing",
			setup: func(f *faultyHost) {
				f.taskContext = func(buf []byte) (int, abi.Errno) { return len(buf) + 1, abi.ErrnoRange }
			},
			fn:    careless,
			msg:   `task: read the task context from the runtime: buffer too small`,
			errno: abi.ErrnoRange,
		},
		{
			name: "task context overflows",
			setup: func(f *faultyHost) {
				f.taskContext = func(buf []byte) (int, abi.Errno) { return len(buf) + 1, abi.ErrnoSuccess }
			},
			fn:  careless,
			msg: `task: read the task context from the runtime: it reported 4097 bytes into a 4096-byte buffer`,
		},
		{
			name: "task context not JSON",
			setup: func(f *faultyHost) {
				f.taskContext = func(buf []byte) (int, abi.Errno) { return copy(buf, "{"), abi.ErrnoSuccess }
			},
			fn:  careless,
			msg: `task: decode the task context from the runtime: invalid task context JSON: it ends too soon`,
		},
		{
			name: "another ABI version",
			setup: func(f *faultyHost) {
				f.taskContext = func(buf []byte) (int, abi.Errno) { return copy(buf, `{"abi":2,"task":"t"}`), abi.ErrnoSuccess }
			},
			fn:  careless,
			msg: `task: the runtime speaks ABI version 2, but this SDK speaks version 1; rebuild the task with an SDK that matches the runtime`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFaulty(t)
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

// TestShortWrites checks that the writer completes writes a host accepts
// only in part.
func TestShortWrites(t *testing.T) {
	f := newFaulty(t)
	f.write = func(h uint32, buf []byte) (int, abi.Errno) {
		return f.Host.Write(h, buf[:min(len(buf), 1000)])
	}
	f.read = func(h uint32, buf []byte) (int, abi.Errno) {
		return f.Host.Read(h, buf[:min(len(buf), 777)])
	}
	if o := run(f, careless); o.Code != 0 {
		t.Fatalf("run failed: %v", o.Err)
	}
	outs, _, err := f.Finish(0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(outs["out"]), len("line\n")*100000; got != want {
		t.Errorf("out has %d bytes, want %d", got, want)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abc", 3, "abc"},
		{"abc", 2, "ab"},
		{"aé", 2, "a"},  // é is 2 bytes
		{"a€b", 3, "a"}, // € is 3 bytes
		{"a€b", 4, "a€"},
		{"", 0, ""},
	}
	for _, tt := range tests {
		if got := truncate(tt.s, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

// TestRunNative checks what Run does outside the runtime: it re-runs this
// test binary as a program that calls Run.
func TestRunNative(t *testing.T) {
	if os.Getenv("GLACIER_TASK_RUN_NATIVE") == "1" {
		Run(func(*Context) error { return nil })
		fmt.Println("Run returned")
		os.Exit(0)
	}
	if runtime.GOOS == "wasip1" {
		t.Skip("this test checks the native build")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestRunNative$")
	cmd.Env = append(os.Environ(), "GLACIER_TASK_RUN_NATIVE=1")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("Run exited with %v, want exit code 2; stderr:\n%s", err, stderr.String())
	}
	if strings.Contains(stdout.String(), "Run returned") {
		t.Error("Run returned instead of exiting")
	}
	for _, want := range []string{"GOOS=wasip1 GOARCH=wasm", "sdk-guest/tasktest", "glacier run"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not mention %q:\n%s", want, stderr.String())
		}
	}
}

// TestBuffersGrow streams inputs of several sizes through each way of
// reading and writing a dataset, and checks that the bytes arrive intact,
// that a small dataset never gets more than the smallest buffer, and that a
// large one reaches full-size host calls.
func TestBuffersGrow(t *testing.T) {
	type onlyReader struct{ io.Reader } // hides WriterTo, so io.Copy uses ReadFrom
	copies := map[string]func(out io.Writer, in io.Reader) error{
		"small reads and writes": func(out io.Writer, in io.Reader) error {
			buf := make([]byte, 100)
			for {
				n, err := in.Read(buf)
				if _, werr := out.Write(buf[:n]); werr != nil {
					return werr
				}
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
			}
		},
		"WriteTo": func(out io.Writer, in io.Reader) error {
			_, err := io.Copy(out, in)
			return err
		},
		"ReadFrom": func(out io.Writer, in io.Reader) error {
			_, err := io.Copy(out, onlyReader{in})
			return err
		},
	}
	for name, copyFn := range copies {
		for _, size := range []int{0, 10, minBufSize - 1, minBufSize, minBufSize + 1, 3*bufSize + 7} {
			t.Run(fmt.Sprintf("%s/%d", name, size), func(t *testing.T) {
				data := make([]byte, size)
				for i := range data {
					data[i] = byte(i * 7)
				}
				m, err := memhost.New(memhost.Config{Task: "t", Inputs: map[string][]byte{"in": data}, Outputs: []string{"out"}})
				if err != nil {
					t.Fatal(err)
				}
				f := &faultyHost{Host: m}
				var maxRead, maxWrite int
				f.read = func(h uint32, buf []byte) (int, abi.Errno) {
					maxRead = max(maxRead, len(buf))
					return f.Host.Read(h, buf)
				}
				f.write = func(h uint32, buf []byte) (int, abi.Errno) {
					maxWrite = max(maxWrite, len(buf))
					return f.Host.Write(h, buf)
				}
				o := run(f, func(c *Context) error {
					in, err := c.Input("in")
					if err != nil {
						return err
					}
					out, err := c.Output("out")
					if err != nil {
						return err
					}
					if err := copyFn(out, in); err != nil {
						return err
					}
					return out.Close()
				})
				if o.Code != 0 {
					t.Fatalf("run failed: %v", o.Err)
				}
				outs, _, err := f.Finish(0)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(outs["out"], data) {
					t.Fatalf("out has %d bytes that differ from the %d of in", len(outs["out"]), len(data))
				}
				if size < minBufSize && (maxRead > minBufSize || maxWrite > minBufSize) {
					t.Errorf("a %d-byte dataset used host calls of %d bytes to read and %d to write; want at most %d", size, maxRead, maxWrite, minBufSize)
				}
				if size > 2*bufSize && (maxRead < bufSize || maxWrite < bufSize) {
					t.Errorf("a %d-byte dataset used host calls of at most %d bytes to read and %d to write; want %d", size, maxRead, maxWrite, bufSize)
				}
			})
		}
	}
}
