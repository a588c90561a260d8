package wasmcheck

import "fmt"

// Instructions: what follows each opcode, so an expression can be walked
// without understanding it. The set is WebAssembly 2.0 (sign extension,
// saturating truncation, bulk memory, reference types, multiple values,
// SIMD) plus tail calls; anything else is refused as unknown.

type imm uint8

const (
	immInvalid imm = iota
	immNone
	immBlock   // a block type
	immU32     // one index
	immU32x2   // two indices
	immBrTable // a vector of labels and a default
	immMemarg  // alignment and offset
	immS32
	immS64
	immF32
	immF64
	immByte    // a memory index or reference type
	immSelectT // a vector of value types
	immEnd
	immPrefixFC
	immPrefixFD
)

var opcodes = func() [256]imm {
	var t [256]imm
	set := func(from, to int, i imm) {
		for op := from; op <= to; op++ {
			t[op] = i
		}
	}
	set(0x00, 0x01, immNone)   // unreachable, nop
	set(0x02, 0x04, immBlock)  // block, loop, if
	t[0x05] = immNone          // else
	t[0x0b] = immEnd           // end
	set(0x0c, 0x0d, immU32)    // br, br_if
	t[0x0e] = immBrTable       // br_table
	t[0x0f] = immNone          // return
	t[0x10] = immU32           // call
	t[0x11] = immU32x2         // call_indirect
	t[0x12] = immU32           // return_call
	t[0x13] = immU32x2         // return_call_indirect
	set(0x1a, 0x1b, immNone)   // drop, select
	t[0x1c] = immSelectT       // select t*
	set(0x20, 0x26, immU32)    // local.*, global.*, table.get, table.set
	set(0x28, 0x3e, immMemarg) // loads and stores
	set(0x3f, 0x40, immByte)   // memory.size, memory.grow
	t[0x41] = immS32
	t[0x42] = immS64
	t[0x43] = immF32
	t[0x44] = immF64
	set(0x45, 0xc4, immNone) // numeric, sign extension
	t[0xd0] = immByte        // ref.null
	t[0xd1] = immNone        // ref.is_null
	t[0xd2] = immU32         // ref.func
	t[0xfc] = immPrefixFC
	t[0xfd] = immPrefixFD
	return t
}()

// expr walks an expression up to the end that closes it and returns how
// deeply blocks nest in it. fn is the function's index, or -1 for a
// constant expression.
func (c *checker) expr(fn int) (int, error) {
	r := &c.r
	depth, deepest, blocks := 0, 0, 0
	for {
		c.steps++
		at := r.pos
		op, err := r.byte("instruction")
		if err != nil {
			if fn >= 0 {
				return 0, r.malformed(at, "function %d's body ends before its final end", fn)
			}
			return 0, r.malformed(at, "a constant expression runs past the end of the section")
		}
		switch opcodes[op] {
		case immNone:
		case immEnd:
			if depth == 0 {
				return deepest, nil
			}
			depth--
		case immBlock:
			depth++
			blocks++
			if depth > c.l.NestingDepth {
				return 0, r.limit(at, "%s nests blocks more than %d deep; a task module may nest at most %d deep", exprName(fn), c.l.NestingDepth, c.l.NestingDepth)
			}
			if blocks > c.l.BlocksPerFunction {
				return 0, r.limit(at, "%s has more than %d blocks, loops and ifs; a task module's functions may have at most %d", exprName(fn), c.l.BlocksPerFunction, c.l.BlocksPerFunction)
			}
			deepest = max(deepest, depth)
			c.st.MaxBlocks = max(c.st.MaxBlocks, blocks)
			err = c.blockType()
		case immU32:
			_, err = r.u32("index")
		case immU32x2:
			if _, err = r.u32("index"); err == nil {
				_, err = r.u32("index")
			}
		case immBrTable:
			var n int
			if n, err = c.vec("br_table labels", r.end, 1); err == nil {
				for i := 0; err == nil && i <= n; i++ { // the labels and the default
					_, err = r.u32("label")
				}
			}
		case immMemarg:
			err = c.memarg()
		case immS32:
			err = r.sleb(32, "i32 constant")
		case immS64:
			err = r.sleb(64, "i64 constant")
		case immF32:
			err = r.skip(4, "f32 constant")
		case immF64:
			err = r.skip(8, "f64 constant")
		case immByte:
			_, err = r.byte("immediate")
		case immSelectT:
			var n int
			if n, err = c.vec("select types", r.end, 1); err == nil {
				for i := 0; err == nil && i < n; i++ {
					err = c.valType()
				}
			}
		case immPrefixFC:
			err = c.prefixFC(at)
		case immPrefixFD:
			err = c.prefixFD(at)
		default:
			return 0, r.malformed(at, "unknown opcode %#x", op)
		}
		if err != nil {
			return 0, err
		}
	}
}

func exprName(fn int) string {
	if fn < 0 {
		return "a constant expression"
	}
	return fmt.Sprintf("function %d", fn)
}

func (c *checker) blockType() error {
	r := &c.r
	if r.pos >= r.end {
		return r.truncated("block type")
	}
	switch r.b[r.pos] {
	case 0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		r.pos++
		return nil
	}
	return r.sleb(33, "block type index")
}

func (c *checker) memarg() error {
	if _, err := c.r.u32("alignment"); err != nil {
		return err
	}
	_, err := c.r.u32("offset")
	return err
}

func (c *checker) prefixFC(at int) error {
	r := &c.r
	sub, err := r.u32("0xfc opcode")
	if err != nil {
		return err
	}
	switch {
	case sub <= 7: // saturating truncations
		return nil
	case sub == 8: // memory.init
		if _, err := r.u32("data index"); err != nil {
			return err
		}
		_, err = r.byte("memory index")
	case sub == 9 || sub == 13 || (sub >= 15 && sub <= 17): // data.drop, elem.drop, table.grow/size/fill
		_, err = r.u32("index")
	case sub == 10: // memory.copy
		if _, err = r.byte("memory index"); err == nil {
			_, err = r.byte("memory index")
		}
	case sub == 11: // memory.fill
		_, err = r.byte("memory index")
	case sub == 12 || sub == 14: // table.init, table.copy
		if _, err = r.u32("index"); err == nil {
			_, err = r.u32("index")
		}
	default:
		return r.malformed(at, "unknown opcode 0xfc %d", sub)
	}
	return err
}

func (c *checker) prefixFD(at int) error {
	r := &c.r
	sub, err := r.u32("0xfd opcode")
	if err != nil {
		return err
	}
	switch {
	case sub <= 11 || sub == 92 || sub == 93: // v128 loads and stores
		return c.memarg()
	case sub == 12 || sub == 13: // v128.const, i8x16.shuffle
		return r.skip(16, "v128 immediate")
	case sub >= 21 && sub <= 34: // extract and replace lane
		_, err = r.byte("lane")
	case sub >= 84 && sub <= 91: // load and store lane
		if err = c.memarg(); err == nil {
			_, err = r.byte("lane")
		}
	case sub <= 275:
		return nil
	default:
		return r.malformed(at, "unknown opcode 0xfd %d", sub)
	}
	return err
}
