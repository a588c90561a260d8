// Package wasmcheck checks a WebAssembly module's structure, and what it
// declares, before any engine compiles it.
//
// Engines size their tables from the counts a module declares: a 16-byte
// module declaring 2^32-1 exports made wazero allocate until the kernel
// killed it. Check reads the binary once, front to back, allocating nothing
// in proportion to what the module declares, and refuses
//   - any count that cannot fit in the bytes that follow it (every entry
//     takes at least one byte), and any other malformed structure it meets;
//   - what exceeds a Limits: functions, locals, nesting depth, data and
//     element segments, imports, exports, tables, types, globals and the
//     size of a function body. The defaults are far above what real Go, C
//     and Rust modules declare and far below what exhausts a host
//     (docs/sandbox.md has the measurements).
//
// Check is not a validator: a module it accepts may still be refused by the
// engine (a type mismatch, an unknown import). Its job is that the engine
// only ever sees a module whose cost is bounded by its size.
//
// The package needs nothing beyond the standard library, so the compilers that
// package modules check them exactly as the sandbox will.
package wasmcheck

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Limits bound what a module may declare. A zero field means its default
// (DefaultLimits).
type Limits struct {
	// Size is the largest module, in bytes.
	Size int64
	// Functions bounds the functions the module defines; Imports, Exports,
	// Types and Globals bound those sections' entries.
	Functions, Imports, Exports, Types, Globals int
	// LocalsPerFunction bounds the locals one function declares, Locals
	// those of all functions together.
	LocalsPerFunction, Locals int
	// FunctionSize bounds one function body, in bytes.
	FunctionSize int
	// NestingDepth bounds how deeply blocks, loops and ifs nest, and
	// BlocksPerFunction how many one function has: compiling a function
	// takes time that grows faster than the number of its blocks.
	NestingDepth, BlocksPerFunction int
	// DataSegments and ElementSegments bound those segments.
	DataSegments, ElementSegments int
	// TableSize bounds the entries of all of a module's tables together,
	// and of all its element segments. The engine keeps a table in host
	// memory, outside the linear memory a task's limit caps, so the sandbox
	// also makes it the most the tables may grow to.
	TableSize int
}

// Defaults. docs/sandbox.md ("Module limits") gives what real modules
// declare beside each.
const (
	DefaultSize              = 250 << 20 // AWS Lambda's limit for an unzipped function
	DefaultFunctions         = 1_000_000
	DefaultImports           = 10_000
	DefaultExports           = 100_000
	DefaultTypes             = 100_000
	DefaultGlobals           = 100_000
	DefaultLocalsPerFunction = 50_000
	DefaultLocals            = 10_000_000
	DefaultFunctionSize      = 8 << 20
	DefaultNestingDepth      = 10_000
	DefaultBlocksPerFunction = 10_000
	DefaultDataSegments      = 1_000_000
	DefaultElementSegments   = 100_000
	DefaultTableSize         = 1 << 20
)

// DefaultLimits returns the limits a zero Limits stands for.
func DefaultLimits() Limits {
	return Limits{}.WithDefaults()
}

// WithDefaults returns l with each zero (or negative) limit replaced by
// its default.
func (l Limits) WithDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.Size <= 0 {
		l.Size = DefaultSize
	}
	def(&l.Functions, DefaultFunctions)
	def(&l.Imports, DefaultImports)
	def(&l.Exports, DefaultExports)
	def(&l.Types, DefaultTypes)
	def(&l.Globals, DefaultGlobals)
	def(&l.LocalsPerFunction, DefaultLocalsPerFunction)
	def(&l.Locals, DefaultLocals)
	def(&l.FunctionSize, DefaultFunctionSize)
	def(&l.NestingDepth, DefaultNestingDepth)
	def(&l.BlocksPerFunction, DefaultBlocksPerFunction)
	def(&l.DataSegments, DefaultDataSegments)
	def(&l.ElementSegments, DefaultElementSegments)
	def(&l.TableSize, DefaultTableSize)
	return l
}

// Stats is what a checked module declares: the figures Limits bound, and
// its memory.
type Stats struct {
	Size                                        int64
	Functions, Imports, Exports, Types, Globals int
	// MaxLocals is the most locals one function declares; Locals the sum.
	MaxLocals, Locals int
	// MaxFunctionSize is the largest function body, in bytes.
	MaxFunctionSize int
	// MaxNestingDepth is the deepest nesting of blocks in any function,
	// MaxBlocks the most blocks, loops and ifs in one.
	MaxNestingDepth, MaxBlocks    int
	DataSegments, ElementSegments int
	// DataBytes is the bytes of all data segments together.
	DataBytes int64
	// TableEntries is the initial size of all tables together;
	// ElementEntries the entries of all element segments.
	TableEntries, ElementEntries int
	// Memories is the number of memories defined (not imported);
	// MemoryMinPages is the initial size of the first, in 64 KiB pages.
	Memories       int
	MemoryMinPages uint32
	// Start reports a start section: a function the engine runs while it
	// instantiates the module.
	Start bool
	// OtherImport names the first import that is not a function, as
	// "module.name (kind)", or is empty.
	OtherImport string
}

// ErrMalformed matches errors for a module that is not well-formed
// WebAssembly; ErrLimit those for a module beyond a Limits.
var (
	ErrMalformed = errors.New("malformed module")
	ErrLimit     = errors.New("module exceeds a limit")
)

// Error describes why a module was refused.
type Error struct {
	// Kind is ErrMalformed or ErrLimit.
	Kind error
	// Section names the section ("code", "export", ...), or is empty for
	// the module as a whole.
	Section string
	// Offset is the byte offset in the module where the problem is.
	Offset int
	// Msg says what is wrong.
	Msg string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Section == "" {
		return fmt.Sprintf("%v: %s", e.Kind, e.Msg)
	}
	return fmt.Sprintf("%v: %s section (at byte %d): %s", e.Kind, e.Section, e.Offset, e.Msg)
}

// Is reports whether target is the error's Kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Section ids, from the core specification.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
)

var sectionNames = [...]string{"custom", "type", "import", "function", "table", "memory", "global",
	"export", "start", "element", "code", "data", "data count"}

// order is each section's place in a module; custom sections go anywhere.
var order = [...]int{secType: 1, secImport: 2, secFunction: 3, secTable: 4, secMemory: 5, secGlobal: 6,
	secExport: 7, secStart: 8, secElement: 9, secDataCount: 10, secCode: 11, secData: 12}

// Check checks wasm against l and returns what it declares. It takes time
// linear in len(wasm) and memory independent of it; its error is an *Error.
func Check(wasm []byte, l Limits) (Stats, error) {
	l = l.WithDefaults()
	c := &checker{r: reader{b: wasm, end: len(wasm)}, l: l}
	c.st.Size = int64(len(wasm))
	if int64(len(wasm)) > l.Size {
		return c.st, &Error{Kind: ErrLimit, Msg: fmt.Sprintf("the module is %d bytes; a task module may be at most %d bytes", len(wasm), l.Size)}
	}
	err := c.module()
	return c.st, err
}

type checker struct {
	r  reader
	l  Limits
	st Stats

	steps       int  // loop iterations, for the tests: at most one per byte
	funcDecls   int  // entries of the function section
	dataCount   int  // the data count section's value, or -1
	codeSeen    bool // the code section was read
	importFuncs int
}

func (c *checker) module() error {
	r := &c.r
	if len(r.b) < 8 || string(r.b[:4]) != "\x00asm" {
		return &Error{Kind: ErrMalformed, Msg: "it does not start with the WebAssembly magic number \\0asm; it is not a WebAssembly binary"}
	}
	if v := r.b[4:8]; string(v) != "\x01\x00\x00\x00" {
		return &Error{Kind: ErrMalformed, Msg: fmt.Sprintf("binary format version %x; only version 1 is supported", v)}
	}
	r.pos = 8
	c.dataCount = -1
	last := 0
	seen := map[byte]bool{}
	for r.pos < len(r.b) {
		start := r.pos
		id := r.b[r.pos]
		r.pos++
		r.sec = "module"
		if int(id) < len(sectionNames) {
			r.sec = sectionNames[id]
		}
		size, err := r.u32("section size")
		if err != nil {
			return err
		}
		if uint64(size) > uint64(len(r.b)-r.pos) {
			return r.malformed(start, "declares %d bytes, but only %s", size, follow(len(r.b)-r.pos))
		}
		if id >= byte(len(sectionNames)) {
			return r.malformed(start, "unknown section id %d", id)
		}
		if id != secCustom {
			if seen[id] {
				return r.malformed(start, "appears twice")
			}
			seen[id] = true
			if order[id] < last {
				return r.malformed(start, "is out of order")
			}
			last = order[id]
		}
		r.end = r.pos + int(size)
		if err := c.section(id); err != nil {
			return err
		}
		if r.pos != r.end {
			return r.malformed(r.pos, "declares %d bytes, but its contents end after %d", size, r.pos-(r.end-int(size)))
		}
		r.end = len(r.b)
	}
	r.sec = ""
	if c.funcDecls > 0 && !c.codeSeen {
		return &Error{Kind: ErrMalformed, Msg: fmt.Sprintf("the function section declares %d functions, but there is no code section", c.funcDecls)}
	}
	if c.dataCount >= 0 && c.dataCount != c.st.DataSegments {
		return &Error{Kind: ErrMalformed, Msg: fmt.Sprintf("the data count section says %d segments, but the data section has %d", c.dataCount, c.st.DataSegments)}
	}
	return nil
}

func (c *checker) section(id byte) error {
	switch id {
	case secCustom:
		return c.custom()
	case secType:
		return c.types()
	case secImport:
		return c.imports()
	case secFunction:
		n, err := c.vec("functions", c.l.Functions, 1)
		if err != nil {
			return err
		}
		c.funcDecls = n
		c.st.Functions = n
		for range n {
			if _, err := c.r.u32("type index"); err != nil {
				return err
			}
		}
		return nil
	case secTable:
		n, err := c.vec("tables", 100, 2)
		if err != nil {
			return err
		}
		for range n {
			if err := c.table(); err != nil {
				return err
			}
		}
		return nil
	case secMemory:
		n, err := c.vec("memories", 1, 2)
		if err != nil {
			return err
		}
		for range n {
			if err := c.memory(); err != nil {
				return err
			}
		}
		return nil
	case secGlobal:
		n, err := c.vec("globals", c.l.Globals, 3)
		if err != nil {
			return err
		}
		c.st.Globals = n
		for range n {
			if err := c.valType(); err != nil {
				return err
			}
			if m, err := c.r.byte("mutability"); err != nil {
				return err
			} else if m > 1 {
				return c.r.malformed(c.r.pos-1, "bad global mutability %#x", m)
			}
			if err := c.constExpr(); err != nil {
				return err
			}
		}
		return nil
	case secExport:
		n, err := c.vec("exports", c.l.Exports, 3)
		if err != nil {
			return err
		}
		c.st.Exports = n
		for range n {
			if err := c.name("export name"); err != nil {
				return err
			}
			if k, err := c.r.byte("export kind"); err != nil {
				return err
			} else if k > 3 {
				return c.r.malformed(c.r.pos-1, "bad export kind %#x", k)
			}
			if _, err := c.r.u32("export index"); err != nil {
				return err
			}
		}
		return nil
	case secStart:
		c.st.Start = true
		_, err := c.r.u32("start function")
		return err
	case secElement:
		return c.elements()
	case secCode:
		return c.code()
	case secData:
		return c.data()
	case secDataCount:
		n, err := c.r.u32("data count")
		if err != nil {
			return err
		}
		if int64(n) > int64(c.l.DataSegments) {
			return c.r.limit(c.r.pos, "declares %d data segments; a task module may declare at most %d", n, c.l.DataSegments)
		}
		c.dataCount = int(n)
		return nil
	}
	return nil
}

// vec reads a vector's count, refusing one whose entries, at least minSize
// bytes each, cannot fit in what remains of the section, or that exceeds
// limit.
func (c *checker) vec(what string, limit, minSize int) (int, error) {
	r := &c.r
	at := r.pos
	n, err := r.u32(what, "count")
	if err != nil {
		return 0, err
	}
	if left := r.end - r.pos; uint64(n)*uint64(minSize) > uint64(left) {
		return 0, r.malformed(at, "declares %d %s, but only %s, too few for them", n, what, follow(left))
	}
	if int64(n) > int64(limit) {
		return 0, r.limit(at, "declares %d %s; a task module may declare at most %d", n, what, limit)
	}
	c.steps += int(n)
	return int(n), nil
}

// follow says how many bytes follow.
func follow(n int) string {
	if n == 1 {
		return "1 byte follows"
	}
	return fmt.Sprintf("%d bytes follow", n)
}

func (c *checker) custom() error {
	r := &c.r
	at := r.pos
	n, err := r.u32("custom section name length")
	if err != nil {
		return err
	}
	if uint64(n) > uint64(r.end-r.pos) {
		return r.malformed(at, "its name of %d bytes does not fit", n)
	}
	name := r.b[r.pos : r.pos+int(n)]
	if !utf8.Valid(name) {
		return r.malformed(at, "its name is not UTF-8")
	}
	r.pos += int(n)
	if string(name) == "name" {
		return c.names()
	}
	r.pos = r.end
	return nil
}

// names checks the subsections of the name section that engines decode:
// the module name, function names and local names.
func (c *checker) names() error {
	r := &c.r
	sectionEnd := r.end
	defer func() { r.end = sectionEnd }()
	for r.pos < sectionEnd {
		c.steps++
		at := r.pos
		id, err := r.byte("name subsection id")
		if err != nil {
			return err
		}
		size, err := r.u32("name subsection size")
		if err != nil {
			return err
		}
		if uint64(size) > uint64(sectionEnd-r.pos) {
			return r.malformed(at, "name subsection %d declares %d bytes, but only %s", id, size, follow(sectionEnd-r.pos))
		}
		r.end = r.pos + int(size)
		switch id {
		case 0:
			err = c.name("module name")
		case 1:
			err = c.nameMap("function names")
		case 2:
			var n int
			n, err = c.vec("functions with local names", c.l.Functions+c.l.Imports, 2)
			for i := 0; err == nil && i < n; i++ {
				if _, err = r.u32("function index"); err == nil {
					err = c.nameMap("local names")
				}
			}
		default:
			r.pos = r.end
		}
		if err != nil {
			return err
		}
		if r.pos != r.end {
			return r.malformed(at, "name subsection %d declares %d bytes, but its contents end after %d", id, size, r.pos-at)
		}
		r.end = sectionEnd
	}
	return nil
}

func (c *checker) nameMap(what string) error {
	n, err := c.vec(what, c.l.Functions+c.l.Imports+c.l.Locals, 2)
	if err != nil {
		return err
	}
	for range n {
		if _, err := c.r.u32("index"); err != nil {
			return err
		}
		if err := c.name(what); err != nil {
			return err
		}
	}
	return nil
}

// name reads a UTF-8 name.
func (c *checker) name(what string) error {
	r := &c.r
	at := r.pos
	n, err := r.u32(what, "length")
	if err != nil {
		return err
	}
	if uint64(n) > uint64(r.end-r.pos) {
		return r.malformed(at, "%s of %d bytes, but only %s", what, n, follow(r.end-r.pos))
	}
	if !utf8.Valid(r.b[r.pos : r.pos+int(n)]) {
		return r.malformed(at, "%s is not UTF-8", what)
	}
	r.pos += int(n)
	return nil
}

func (c *checker) types() error {
	n, err := c.vec("types", c.l.Types, 3)
	if err != nil {
		return err
	}
	c.st.Types = n
	r := &c.r
	for range n {
		at := r.pos
		form, err := r.byte("type form")
		if err != nil {
			return err
		}
		if form != 0x60 {
			return r.malformed(at, "type form %#x is not a function type (0x60)", form)
		}
		for _, what := range []string{"parameters", "results"} {
			k, err := c.vec(what, r.end, 1)
			if err != nil {
				return err
			}
			for range k {
				if err := c.valType(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (c *checker) imports() error {
	n, err := c.vec("imports", c.l.Imports, 4)
	if err != nil {
		return err
	}
	c.st.Imports = n
	r := &c.r
	for range n {
		modStart := r.pos
		if err := c.name("import module name"); err != nil {
			return err
		}
		nameStart := r.pos
		if err := c.name("import name"); err != nil {
			return err
		}
		at := r.pos
		kind, err := r.byte("import kind")
		if err == nil && kind != 0 && c.st.OtherImport == "" {
			c.st.OtherImport = importName(r.b[modStart:nameStart], r.b[nameStart:at]) + " (" + [...]string{"", "table", "memory", "global", "tag"}[min(kind, 4)] + ")"
		}
		if err != nil {
			return err
		}
		switch kind {
		case 0:
			c.importFuncs++
			_, err = r.u32("type index")
		case 1:
			err = c.table()
		case 2:
			_, err = c.limitsMin("memory")
		case 3:
			if err = c.valType(); err == nil {
				_, err = r.byte("mutability")
			}
		default:
			return r.malformed(at, "bad import kind %#x", kind)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// importName formats an import's module and name, each given with its
// length prefix, as module.name.
func importName(mod, name []byte) string {
	strip := func(b []byte) string {
		for i, c := range b {
			if c < 0x80 {
				return string(b[i+1:])
			}
		}
		return ""
	}
	return strip(mod) + "." + strip(name)
}

func (c *checker) table() error {
	r := &c.r
	at := r.pos
	t, err := r.byte("table element type")
	if err != nil {
		return err
	}
	if t != 0x70 && t != 0x6f {
		return r.malformed(at, "table element type %#x is not a reference type", t)
	}
	at = r.pos
	min, err := c.limitsMin("table")
	if err != nil {
		return err
	}
	if int64(c.st.TableEntries)+int64(min) > int64(c.l.TableSize) {
		return r.limit(at, "tables of %d entries in all; a task module's tables may hold at most %d", int64(c.st.TableEntries)+int64(min), c.l.TableSize)
	}
	c.st.TableEntries += int(min)
	return nil
}

func (c *checker) memory() error {
	min, err := c.limitsMin("memory")
	if err != nil {
		return err
	}
	if c.st.Memories == 0 {
		c.st.MemoryMinPages = min
	}
	c.st.Memories++
	return nil
}

// limitsMin reads a limits pair and returns its minimum.
func (c *checker) limitsMin(what string) (uint32, error) {
	r := &c.r
	at := r.pos
	flags, err := r.byte(what, "limits")
	if err != nil {
		return 0, err
	}
	if flags > 1 {
		return 0, r.malformed(at, "%s limits flag %#x (shared or 64-bit) is not supported", what, flags)
	}
	min, err := r.u32(what, "minimum")
	if err != nil {
		return 0, err
	}
	if flags == 1 {
		max, err := r.u32(what, "maximum")
		if err != nil {
			return 0, err
		}
		if max < min {
			return 0, r.malformed(at, "%s maximum %d is below its minimum %d", what, max, min)
		}
	}
	if what == "memory" && min > 1<<16 {
		return 0, r.malformed(at, "memory of %d pages; WebAssembly memories have at most 65536 (4 GiB)", min)
	}
	return min, nil
}

func (c *checker) valType() error {
	r := &c.r
	at := r.pos
	t, err := r.byte("value type")
	if err != nil {
		return err
	}
	switch t {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		return nil
	}
	return r.malformed(at, "unknown value type %#x", t)
}

func (c *checker) elements() error {
	n, err := c.vec("element segments", c.l.ElementSegments, 2)
	if err != nil {
		return err
	}
	c.st.ElementSegments = n
	r := &c.r
	for range n {
		at := r.pos
		flags, err := r.u32("element segment flags")
		if err != nil {
			return err
		}
		if flags > 7 {
			return r.malformed(at, "bad element segment flags %d", flags)
		}
		if flags&2 != 0 && flags&1 == 0 { // an explicit table index
			if _, err := r.u32("table index"); err != nil {
				return err
			}
		}
		if flags&1 == 0 { // active: an offset
			if err := c.constExpr(); err != nil {
				return err
			}
		}
		if flags&3 != 0 { // an element kind or reference type
			if _, err := r.byte("element kind"); err != nil {
				return err
			}
		}
		exprs := flags&4 != 0
		at = r.pos
		k, err := c.vec("element entries", r.end, 1)
		if err != nil {
			return err
		}
		c.st.ElementEntries += k
		if c.st.ElementEntries > c.l.TableSize {
			return r.limit(at, "element segments with %d entries in all; a task module may have at most %d", c.st.ElementEntries, c.l.TableSize)
		}
		for range k {
			if exprs {
				err = c.constExpr()
			} else {
				_, err = r.u32("function index")
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *checker) data() error {
	n, err := c.vec("data segments", c.l.DataSegments, 2)
	if err != nil {
		return err
	}
	c.st.DataSegments = n
	r := &c.r
	for range n {
		at := r.pos
		flags, err := r.u32("data segment flags")
		if err != nil {
			return err
		}
		switch flags {
		case 0:
			err = c.constExpr()
		case 1:
		case 2:
			if _, err = r.u32("memory index"); err == nil {
				err = c.constExpr()
			}
		default:
			return r.malformed(at, "bad data segment flags %d", flags)
		}
		if err != nil {
			return err
		}
		at = r.pos
		size, err := r.u32("data segment size")
		if err != nil {
			return err
		}
		if uint64(size) > uint64(r.end-r.pos) {
			return r.malformed(at, "a data segment of %d bytes, but only %s", size, follow(r.end-r.pos))
		}
		r.pos += int(size)
		c.st.DataBytes += int64(size)
	}
	return nil
}

func (c *checker) code() error {
	c.codeSeen = true
	r := &c.r
	at := r.pos
	n, err := c.vec("function bodies", c.l.Functions, 2)
	if err != nil {
		return err
	}
	if n != c.funcDecls {
		return r.malformed(at, "has %d function bodies, but the function section declares %d functions", n, c.funcDecls)
	}
	sectionEnd := r.end
	defer func() { r.end = sectionEnd }()
	for i := range n {
		at := r.pos
		size, err := r.u32("function body size")
		if err != nil {
			return err
		}
		if uint64(size) > uint64(sectionEnd-r.pos) {
			return r.malformed(at, "function %d's body of %d bytes, but only %s", c.importFuncs+i, size, follow(sectionEnd-r.pos))
		}
		if int64(size) > int64(c.l.FunctionSize) {
			return r.limit(at, "function %d's body is %d bytes; a task module's function bodies may be at most %d", c.importFuncs+i, size, c.l.FunctionSize)
		}
		c.st.MaxFunctionSize = max(c.st.MaxFunctionSize, int(size))
		r.end = r.pos + int(size)
		if err := c.body(c.importFuncs + i); err != nil {
			return err
		}
		if r.pos != r.end {
			return r.malformed(r.pos, "function %d's body has %d bytes after its final end", c.importFuncs+i, r.end-r.pos)
		}
		r.end = sectionEnd
	}
	return nil
}

func (c *checker) body(fn int) error {
	r := &c.r
	at := r.pos
	groups, err := c.vec("local groups", r.end, 2)
	if err != nil {
		return err
	}
	var locals uint64
	for range groups {
		k, err := r.u32("local count")
		if err != nil {
			return err
		}
		locals += uint64(k)
		if locals > uint64(c.l.LocalsPerFunction) {
			return r.limit(at, "function %d declares at least %d locals; a task module's functions may declare at most %d", fn, locals, c.l.LocalsPerFunction)
		}
		if err := c.valType(); err != nil {
			return err
		}
	}
	c.st.MaxLocals = max(c.st.MaxLocals, int(locals))
	c.st.Locals += int(locals)
	if c.st.Locals > c.l.Locals {
		return r.limit(at, "functions declare %d locals in all by function %d; a task module may declare at most %d", c.st.Locals, fn, c.l.Locals)
	}
	depth, err := c.expr(fn)
	if err != nil {
		return err
	}
	c.st.MaxNestingDepth = max(c.st.MaxNestingDepth, depth)
	return nil
}

// constExpr reads a constant expression up to its end.
func (c *checker) constExpr() error {
	_, err := c.expr(-1)
	return err
}
