package wasmrt

// A minimal WebAssembly binary encoder for hand-made test modules: the proxy
// module that calls host functions with arbitrary arguments, and modules that
// trap or break the rules in ways a Go compiler never would.

type wasmImport struct {
	module, name    string
	params, results int // all i32
}

type wasmFunc struct {
	export          string // "" to keep it private
	params, results int    // all i32
	body            []byte // instructions, without the final end
}

type wasmData struct {
	offset uint32
	bytes  []byte
}

type wasmModule struct {
	imports  []wasmImport
	funcs    []wasmFunc
	memPages uint32 // 0: no memory
	data     []wasmData
}

// Instructions.
const (
	opUnreachable = 0x00
	opCall        = 0x10
	opDrop        = 0x1a
	opLocalGet    = 0x20
	opI32Const    = 0x41
	opEnd         = 0x0b
)

func uleb(v uint64) []byte {
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

func sleb(v int64) []byte {
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

func i32Const(v uint32) []byte { return append([]byte{opI32Const}, sleb(int64(int32(v)))...) }

func call(idx uint32) []byte { return append([]byte{opCall}, uleb(uint64(idx))...) }

func localGet(idx uint32) []byte { return append([]byte{opLocalGet}, uleb(uint64(idx))...) }

func wasmName(s string) []byte { return append(uleb(uint64(len(s))), s...) }

func wasmVec(items [][]byte) []byte {
	b := uleb(uint64(len(items)))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

func wasmSection(id byte, content []byte) []byte {
	return append(append([]byte{id}, uleb(uint64(len(content)))...), content...)
}

func (m wasmModule) encode() []byte {
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
	for _, im := range m.imports {
		e := append(wasmName(im.module), wasmName(im.name)...)
		e = append(e, 0x00)
		e = append(e, uleb(uint64(typeOf(sig{im.params, im.results})))...)
		imports = append(imports, e)
	}
	for i, f := range m.funcs {
		funcs = append(funcs, uleb(uint64(typeOf(sig{f.params, f.results}))))
		if f.export != "" {
			e := append(wasmName(f.export), 0x00)
			exports = append(exports, append(e, uleb(uint64(len(m.imports)+i))...))
		}
		body := append([]byte{0x00}, f.body...) // no locals
		body = append(body, opEnd)
		codes = append(codes, append(uleb(uint64(len(body))), body...))
	}
	if m.memPages > 0 {
		exports = append(exports, append(wasmName("memory"), 0x02, 0x00))
	}
	var typeEntries [][]byte
	for _, t := range types {
		e := []byte{0x60}
		e = append(e, uleb(uint64(t.params))...)
		for range t.params {
			e = append(e, 0x7f)
		}
		e = append(e, uleb(uint64(t.results))...)
		for range t.results {
			e = append(e, 0x7f)
		}
		typeEntries = append(typeEntries, e)
	}

	out := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	out = append(out, wasmSection(1, wasmVec(typeEntries))...)
	if len(imports) > 0 {
		out = append(out, wasmSection(2, wasmVec(imports))...)
	}
	out = append(out, wasmSection(3, wasmVec(funcs))...)
	if m.memPages > 0 {
		mem := append([]byte{0x00}, uleb(uint64(m.memPages))...)
		out = append(out, wasmSection(5, wasmVec([][]byte{mem}))...)
	}
	out = append(out, wasmSection(7, wasmVec(exports))...)
	out = append(out, wasmSection(10, wasmVec(codes))...)
	if len(m.data) > 0 {
		var segs [][]byte
		for _, d := range m.data {
			s := append([]byte{0x00}, i32Const(d.offset)...)
			s = append(s, opEnd)
			s = append(s, uleb(uint64(len(d.bytes)))...)
			segs = append(segs, append(s, d.bytes...))
		}
		out = append(out, wasmSection(11, wasmVec(segs))...)
	}
	return out
}
