// Package hostile makes the modules an attacker would give a task to take
// down the host while it loads them: counts that claim more entries than the
// file holds, data that would be blown up by merging, code that is slow or
// hungry to compile, module "files" that never end, and a module without
// memory that calls the host. Each is built from bytes, small, and comes
// with the refusal the host must give; the sandbox, the CLI and both cloud
// runtimes run the same list.
package hostile

import (
	"encoding/json"
	"os"
	"os/exec"
	"syscall"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmenc"
	"github.com/glacier-pipeline/glacier/schema"
)

// Kind is how the host must refuse a case.
type Kind string

// Kinds of refusal.
const (
	Invalid       Kind = "invalid"        // wasmrt.ErrInvalidModule
	Memory        Kind = "memory"         // wasmrt.ErrMemoryLimit, before anything ran
	CompileTime   Kind = "compile-time"   // wasmrt.ErrCompileBudget, its time
	CompileMemory Kind = "compile-memory" // wasmrt.ErrCompileBudget, its memory
)

// Failure returns the kind of failure the function runtimes and the
// packagers' module checker report for a refusal of kind k.
func (k Kind) Failure() fnspec.Kind {
	switch k {
	case Invalid:
		return fnspec.KindInvalidModule
	case Memory:
		return fnspec.KindMemoryLimit
	case CompileTime, CompileMemory:
		return fnspec.KindCompileBudget
	}
	return fnspec.KindError
}

// The limits the cases assume: run them with a task of MemoryMiB and a
// compile budget of CompileSeconds and CompileMemoryMiB. Real modules (a Go
// task of examples/etl) load well within that budget.
const (
	MemoryMiB        = 128
	TimeoutSeconds   = 3
	CompileSeconds   = 2
	CompileMemoryMiB = 256
)

// Case is one hostile module.
type Case struct {
	Name string
	// Wasm is the module, or nil when File makes it.
	Wasm []byte
	// File, when set, makes the module at path (a special file).
	File func(path string) error
	// Kind is how the host must refuse it, Says a fragment of the message.
	Kind Kind
	Says string
	// AtLoad: the module is well-formed, and it is the sandbox's load, not
	// the structural check (wasmcheck), that refuses it.
	AtLoad bool
}

// CompileTimeoutSeconds is the compile time budget to give c: CompileSeconds,
// except for a module that must exhaust the compile memory budget, which
// gets ample time, so that a machine slowed by other work never reports
// the time budget first.
func (c Case) CompileTimeoutSeconds() int {
	if c.Kind == CompileMemory {
		return 10 * CompileSeconds
	}
	return CompileSeconds
}

// WriteTo makes the case's module at path.
func (c Case) WriteTo(path string) error {
	if c.File != nil {
		return c.File(path)
	}
	return os.WriteFile(path, c.Wasm, 0o644)
}

const header = "\x00asm\x01\x00\x00\x00"

// bomb is 2^32-1 as LEB128: a count no module of this size can hold.
var bomb = []byte{0xff, 0xff, 0xff, 0xff, 0x0f}

func module(sections ...[]byte) []byte {
	m := []byte(header)
	for _, s := range sections {
		m = append(m, s...)
	}
	return m
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// Sections of a module with one function () -> ().
var (
	oneType = wasmenc.Section(1, []byte{1, 0x60, 0, 0})
	oneFunc = wasmenc.Section(3, []byte{1, 0})
)

// code is a code section with one body.
func code(body []byte) []byte {
	return wasmenc.Section(10, cat([]byte{1}, wasmenc.ULEB(uint64(len(body))), body))
}

// functions is a module of n functions, each nesting depth blocks.
func functions(n, depth int) []byte {
	body := []byte{0}
	for range depth {
		body = append(body, 0x02, 0x40)
	}
	for range depth {
		body = append(body, 0x0b)
	}
	body = append(body, 0x0b)
	entry := cat(wasmenc.ULEB(uint64(len(body))), body)
	fs := wasmenc.ULEB(uint64(n))
	cs := wasmenc.ULEB(uint64(n))
	for range n {
		fs = append(fs, 0)
		cs = append(cs, entry...)
	}
	return module(oneType, wasmenc.Section(3, fs), wasmenc.Section(10, cs))
}

// straightLine is a module of one function of n i32.const 0; drop pairs:
// within every limit, and some 60 times its size in compiler memory.
func straightLine(n int) []byte {
	body := []byte{0}
	for range n {
		body = append(body, 0x41, 0, 0x1a)
	}
	return module(oneType, oneFunc, code(append(body, 0x0b)))
}

// sparseData is a module whose memory starts at 1 GiB and whose 262,144
// one-byte data segments lie 4 KiB apart, so merging them would write 1 GiB.
func sparseData() []byte {
	const segs = 1 << 18
	data := wasmenc.ULEB(segs)
	for i := range segs {
		data = append(data, 0)
		data = append(data, wasmenc.I32Const(uint32(i*4096))...)
		data = append(data, 0x0b, 1, 'x')
	}
	start := []byte{2, 0, 0x0b} // a body of 2 bytes: no locals, end
	return module(oneType, oneFunc,
		wasmenc.Section(5, cat([]byte{1, 0}, wasmenc.ULEB(1<<14))),
		wasmenc.Section(7, cat([]byte{2}, wasmenc.Name("_start"), []byte{0, 0}, wasmenc.Name("memory"), []byte{2, 0})),
		wasmenc.Section(10, cat([]byte{1}, start)),
		wasmenc.Section(11, data))
}

// NoMemoryHostCall is a module without memory whose _start calls
// glacier_v1.task_context(0, 0, 0). The host refuses it at load, since a
// task must export its memory; a test that bypasses that check uses it to
// show that the host functions survive it anyway.
func NoMemoryHostCall() []byte {
	return wasmenc.Module{
		Imports: []wasmenc.Import{{Module: "glacier_v1", Name: "task_context", Params: 3, Results: 1}},
		Funcs: []wasmenc.Func{{Export: "_start", Body: cat(
			wasmenc.I32Const(0), wasmenc.I32Const(0), wasmenc.I32Const(0), wasmenc.Call(0), []byte{wasmenc.OpDrop})}},
	}.Encode()
}

// Cases returns every hostile module.
func Cases() []Case {
	countBomb := func(name string, id byte, what string) Case {
		return Case{Name: name + " count", Wasm: module(wasmenc.Section(id, cat(bomb, []byte{0}))), Kind: Invalid,
			Says: "declares 4294967295 " + what + ", but only 1 byte follows"}
	}
	return []Case{
		countBomb("export", 7, "exports"),
		countBomb("import", 2, "imports"),
		countBomb("type", 1, "types"),
		countBomb("function", 3, "functions"),
		countBomb("table", 4, "tables"),
		countBomb("global", 6, "globals"),
		countBomb("element", 9, "element segments"),
		countBomb("code", 10, "function bodies"),
		countBomb("data", 11, "data segments"),
		{Name: "data count section", Wasm: module(wasmenc.Section(12, bomb)), Kind: Invalid,
			Says: "declares 4294967295 data segments; a task module may declare at most"},
		{Name: "locals count", Wasm: module(oneType, oneFunc, code(cat([]byte{1}, bomb, []byte{0x7f, 0x0b}))), Kind: Invalid,
			Says: "locals; a task module's functions may declare at most"},
		{Name: "local groups count", Wasm: module(oneType, oneFunc, code(cat(bomb, []byte{0x0b}))), Kind: Invalid,
			Says: "declares 4294967295 local groups"},
		{Name: "element segment entries", Wasm: module(oneType, oneFunc,
			wasmenc.Section(4, []byte{1, 0x70, 0, 1}),
			wasmenc.Section(9, cat([]byte{1, 0, 0x41, 0, 0x0b}, bomb, []byte{0}))), Kind: Invalid,
			Says: "declares 4294967295 element entries"},
		{Name: "br_table labels", Wasm: module(oneType, oneFunc, code(cat([]byte{0, 0x41, 0, 0x0e}, bomb, []byte{0x0b}))), Kind: Invalid,
			Says: "declares 4294967295 br_table labels"},
		{Name: "data segment size", Wasm: module(wasmenc.Section(11, cat([]byte{1, 1}, bomb, []byte{0}))), Kind: Invalid,
			Says: "a data segment of 4294967295 bytes"},
		{Name: "function names", Wasm: module(wasmenc.Section(0, cat(wasmenc.Name("name"), []byte{1, 6}, bomb, []byte{0}))), Kind: Invalid,
			Says: "declares 4294967295 function names"},
		{Name: "sparse data segments", Wasm: sparseData(), Kind: Memory,
			Says: "needs 1024 MiB of memory to start, more than the task's 128 MiB limit"},
		{Name: "50,000 nested blocks", Wasm: functions(1, 50_000), Kind: Invalid,
			Says: "nests blocks more than"},
		{Name: "a million and one functions", Wasm: functions(1_000_001, 0), Kind: Invalid,
			Says: "declares 1000001 functions; a task module may declare at most"},
		{Name: "slow to compile", Wasm: functions(40, 9_000), Kind: CompileTime,
			Says: "module too costly to compile: reading and compiling it took longer than its compile budget of 2s"},
		{Name: "hungry to compile", Wasm: straightLine(2_000_000), Kind: CompileMemory,
			Says: "module too costly to compile: reading and compiling it needed more than its compile budget of 256 MiB"},
		{Name: "host call without memory", Wasm: NoMemoryHostCall(), Kind: Invalid, AtLoad: true,
			Says: `exports no memory named "memory"`},
		{Name: "8 GiB sparse file", File: sparseFile, Kind: Invalid,
			Says: "is 8589934592 bytes; a task module may be at most"},
		{Name: "link to /dev/zero", File: linkTo("/dev/zero"), Kind: Invalid,
			Says: "(a link to /dev/zero) is a character device, not a regular file"},
		{Name: "FIFO", File: fifo, Kind: Invalid,
			Says: "is a named pipe (FIFO), not a regular file"},
		{Name: "directory", File: directory, Kind: Invalid,
			Says: "is a directory, not a regular file"},
	}
}

func sparseFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Write([]byte(header)); err != nil {
		return err
	}
	return f.Truncate(8 << 30)
}

func linkTo(target string) func(string) error {
	return func(path string) error { return os.Symlink(target, path) }
}

func fifo(path string) error { return syscall.Mkfifo(path, 0o644) }

func directory(path string) error { return os.Mkdir(path, 0o755) }

// PeakRSS returns the peak resident memory, in bytes, of the exited
// process cmd ran and of every descendant it waited for: the kernel's own
// high-water mark of the largest of them (getrusage's ru_maxrss), so no
// peak between samples is missed.
func PeakRSS(cmd *exec.Cmd) (int64, bool) {
	if cmd.ProcessState == nil {
		return 0, false
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, false
	}
	return ru.Maxrss << 10, true
}

// PeakBound is the most PeakRSS may be for a process that loads a hostile
// module: the compile budget, and room for the program itself.
const PeakBound = (CompileMemoryMiB + 160) << 20

// RunCase is a module that loads and then, as it runs, drives the host to
// allocate memory outside its linear memory. Run it with a task memory of
// RunMemoryMiB: the host must hold the task to RunPeakBound, and the guest
// must see the failure Says names.
type RunCase struct {
	Name string
	Wasm []byte
	Says string
	// Schema, when set, is the contract of the task's one output, "out";
	// the guest writes what breaks it. Kind is then fnspec.KindContract,
	// and otherwise fnspec.KindTrap.
	Schema *schema.Schema
	Kind   fnspec.Kind
}

// Contract returns c.Schema encoded, as a task spec or a job carries it.
func (c RunCase) Contract() json.RawMessage {
	if c.Schema == nil {
		return nil
	}
	b, err := c.Schema.Encode()
	if err != nil {
		panic(err)
	}
	return b
}

// Manifest returns the schema: line of the output's declaration in a
// glacier.yaml, or "".
func (c RunCase) Manifest() string {
	if c.Schema == nil {
		return ""
	}
	return "schema: " + string(c.Contract())
}

// RunMemoryMiB is the memory limit of the task a RunCase runs in.
const RunMemoryMiB = 64

// RunPeakBound is the most the resident memory of the process running a
// RunCase may reach: the task's memory, the overhead docs/sandbox.md
// ("Memory outside the limit") documents, and room for the program itself.
const RunPeakBound = (RunMemoryMiB + 192) << 20

// RunCases returns every run-time case.
func RunCases() []RunCase {
	// grow grows table 0 by n null entries and traps if that is refused.
	grow := func(n uint32) []byte {
		return cat(wasmenc.RefNullFunc, wasmenc.I32Const(n), wasmenc.TableGrow(0),
			wasmenc.I32Const(0xffffffff), []byte{wasmenc.OpI32Eq, wasmenc.OpIf, 0x40, wasmenc.OpUnreachable, wasmenc.OpEnd})
	}
	orders := &schema.Schema{Format: schema.CSV, Columns: []schema.Column{{Name: "id", Type: schema.Integer}, {Name: "amount", Type: schema.Number}}}
	return []RunCase{
		{Name: "violating record", Schema: orders, Kind: fnspec.KindContract,
			Says: `dataset "out": line 3 (record 2), column 2 "amount": "oops" is not a number`,
			Wasm: writesOut([]byte("id,amount\n1,2.5\n2,oops\n3,4\n"), 1)},
		{Name: "truncated last record", Schema: orders, Kind: fnspec.KindContract,
			Says: `dataset "out": line 3 (record 2): the last record has no line ending`,
			Wasm: writesOut([]byte("id,amount\n1,2.5\n2,3"), 1)},
		{Name: "a record that never ends", Schema: &schema.Schema{Format: schema.JSONL}, Kind: fnspec.KindContract,
			Says: "the record is longer than 16 MiB without a line ending",
			Wasm: writesOut(make([]byte, 64<<10), 1024)},
		{Name: "table.grow by 2^27 entries", Kind: fnspec.KindTrap, Says: "unreachable", Wasm: wasmenc.Module{
			Tables:   []wasmenc.Table{{Min: 1}},
			Funcs:    []wasmenc.Func{{Export: "_start", Body: cat(grow(1<<26), grow(1<<26))}},
			MemPages: 1,
		}.Encode()},
		{Name: "unbounded recursion", Kind: fnspec.KindTrap, Says: "stack overflow", Wasm: wasmenc.Module{
			Funcs:    []wasmenc.Func{{Export: "_start", Body: wasmenc.Call(1)}, {Body: wasmenc.Call(1)}},
			MemPages: 1,
		}.Encode()},
	}
}

// writesOut is a module that opens output "out" and writes data to it n
// times, ignoring what the host answers, then returns: its exit is clean,
// so only the host's contract check can fail it.
func writesOut(data []byte, n uint32) []byte {
	const (
		name    = 0  // "out"
		handle  = 16 // the handle dataset_open writes
		written = 24 // n_ptr of dataset_write
		count   = 32 // the loop's counter
		buf     = 4096
	)
	load := func(addr uint32) []byte { return cat(wasmenc.I32Const(addr), []byte{0x28, 0x02, 0x00}) }
	body := cat(
		// dataset_open("out", ModeWrite, &handle)
		wasmenc.I32Const(name), wasmenc.I32Const(3), wasmenc.I32Const(1), wasmenc.I32Const(handle), wasmenc.Call(0), []byte{wasmenc.OpDrop},
		[]byte{0x02, 0x40, 0x03, 0x40}, // block, loop
		load(handle), wasmenc.I32Const(buf), wasmenc.I32Const(uint32(len(data))), wasmenc.I32Const(written), wasmenc.Call(1), []byte{wasmenc.OpDrop},
		// count++, and go round while count < n
		wasmenc.I32Const(count), load(count), wasmenc.I32Const(1), []byte{0x6a, 0x36, 0x02, 0x00},
		load(count), wasmenc.I32Const(n), []byte{0x49, 0x0d, 0x00},
		[]byte{wasmenc.OpEnd, wasmenc.OpEnd},
	)
	pages := uint32((buf+len(data))>>16) + 1
	return wasmenc.Module{
		Imports: []wasmenc.Import{
			{Module: abi.ModuleName, Name: abi.FuncDatasetOpen, Params: 4, Results: 1},
			{Module: abi.ModuleName, Name: abi.FuncDatasetWrite, Params: 4, Results: 1},
		},
		Funcs:    []wasmenc.Func{{Export: "_start", Body: body}},
		MemPages: pages,
		Data:     []wasmenc.Data{{Offset: name, Bytes: []byte("out")}, {Offset: buf, Bytes: data}},
	}.Encode()
}
