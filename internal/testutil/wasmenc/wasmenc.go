// Package wasmenc is a minimal WebAssembly binary encoder for hand-made
// test modules: proxy modules that call host functions with arbitrary
// arguments, and modules that trap, break the rules or attack the host in
// ways a compiler never would.
package wasmenc

// Import is an imported function.
type Import struct {
	Module, Name    string
	Params, Results int // all i32
}

// Func is a defined function.
type Func struct {
	Export          string // "" to keep it private
	Params, Results int    // all i32
	Body            []byte // instructions, without the final end
}

// Data is an active data segment.
type Data struct {
	Offset uint32
	Bytes  []byte
}

// Table is a funcref table.
type Table struct {
	Min, Max uint32 // Max 0: no maximum
}

// Module is a module with one type per signature, an exported memory
// (unless MemPages is 0) and the given functions, tables and data.
type Module struct {
	Imports  []Import
	Funcs    []Func
	Tables   []Table
	MemPages uint32 // 0: no memory
	Data     []Data
}

// Instructions.
const (
	OpUnreachable = 0x00
	OpIf          = 0x04 // followed by a block type (0x40: none)
	OpCall        = 0x10
	OpDrop        = 0x1a
	OpLocalGet    = 0x20
	OpI32Const    = 0x41
	OpI32Eq       = 0x46
	OpEnd         = 0x0b
)

// RefNullFunc pushes a null function reference.
var RefNullFunc = []byte{0xd0, 0x70}

// TableGrow grows table idx by the i32 on top of the stack, filling it with
// the reference beneath; it pushes the old size, or -1 if refused.
func TableGrow(idx uint32) []byte { return append([]byte{0xfc, 15}, ULEB(uint64(idx))...) }

// ULEB encodes v as unsigned LEB128.
func ULEB(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b = append(b, c)
		if v == 0 {
			return b
		}
	}
}

// SLEB encodes v as signed LEB128.
func SLEB(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		done := (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0)
		if !done {
			c |= 0x80
		}
		b = append(b, c)
		if done {
			return b
		}
	}
}

// I32Const is i32.const v.
func I32Const(v uint32) []byte { return append([]byte{OpI32Const}, SLEB(int64(int32(v)))...) }

// Call is call idx.
func Call(idx uint32) []byte { return append([]byte{OpCall}, ULEB(uint64(idx))...) }

// LocalGet is local.get idx.
func LocalGet(idx uint32) []byte { return append([]byte{OpLocalGet}, ULEB(uint64(idx))...) }

// Name encodes a name: its length, then its bytes.
func Name(s string) []byte { return append(ULEB(uint64(len(s))), s...) }

// Vec encodes a vector: its length, then its items.
func Vec(items [][]byte) []byte {
	b := ULEB(uint64(len(items)))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

// Section encodes a section.
func Section(id byte, content []byte) []byte {
	return append(append([]byte{id}, ULEB(uint64(len(content)))...), content...)
}

// Encode returns the module's binary.
func (m Module) Encode() []byte {
	type sig struct{ params, results int }
	var types []sig
	typeOf := func(s sig) uint32 {
		for i, t := range types {
			if t == s {
				return uint32(i)
			}
		}
		types = append(types, s)
		return uint32(len(types) - 1)
	}
	var imports, funcs, exports, codes [][]byte
	for _, im := range m.Imports {
		e := append(Name(im.Module), Name(im.Name)...)
		e = append(e, 0x00)
		e = append(e, ULEB(uint64(typeOf(sig{im.Params, im.Results})))...)
		imports = append(imports, e)
	}
	for i, f := range m.Funcs {
		funcs = append(funcs, ULEB(uint64(typeOf(sig{f.Params, f.Results}))))
		if f.Export != "" {
			e := append(Name(f.Export), 0x00)
			exports = append(exports, append(e, ULEB(uint64(len(m.Imports)+i))...))
		}
		body := append([]byte{0x00}, f.Body...) // no locals
		body = append(body, OpEnd)
		codes = append(codes, append(ULEB(uint64(len(body))), body...))
	}
	if m.MemPages > 0 {
		exports = append(exports, append(Name("memory"), 0x02, 0x00))
	}
	var typeEntries [][]byte
	for _, t := range types {
		e := []byte{0x60}
		e = append(e, ULEB(uint64(t.params))...)
		for range t.params {
			e = append(e, 0x7f)
		}
		e = append(e, ULEB(uint64(t.results))...)
		for range t.results {
			e = append(e, 0x7f)
		}
		typeEntries = append(typeEntries, e)
	}

	out := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	out = append(out, Section(1, Vec(typeEntries))...)
	if len(imports) > 0 {
		out = append(out, Section(2, Vec(imports))...)
	}
	out = append(out, Section(3, Vec(funcs))...)
	if len(m.Tables) > 0 {
		var tables [][]byte
		for _, t := range m.Tables {
			if t.Max == 0 {
				tables = append(tables, append([]byte{0x70, 0}, ULEB(uint64(t.Min))...))
			} else {
				tables = append(tables, append(append([]byte{0x70, 1}, ULEB(uint64(t.Min))...), ULEB(uint64(t.Max))...))
			}
		}
		out = append(out, Section(4, Vec(tables))...)
	}
	if m.MemPages > 0 {
		mem := append([]byte{0x00}, ULEB(uint64(m.MemPages))...)
		out = append(out, Section(5, Vec([][]byte{mem}))...)
	}
	out = append(out, Section(7, Vec(exports))...)
	out = append(out, Section(10, Vec(codes))...)
	if len(m.Data) > 0 {
		var segs [][]byte
		for _, d := range m.Data {
			s := append([]byte{0x00}, I32Const(d.Offset)...)
			s = append(s, OpEnd)
			s = append(s, ULEB(uint64(len(d.Bytes)))...)
			segs = append(segs, append(s, d.Bytes...))
		}
		out = append(out, Section(11, Vec(segs))...)
	}
	return out
}
