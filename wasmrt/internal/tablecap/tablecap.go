// Package tablecap bounds the tables of a WebAssembly module.
//
// The engine keeps a table as host memory, a word per entry, outside the
// linear memory the task's limit caps, and table.grow may ask for up to
// 2^32 entries of a table that declares no maximum (Go's linker declares
// none). Writing a maximum into the module makes the engine refuse a grow
// beyond it, as the specification allows: table.grow returns -1, and the
// guest sees a table that is full.
package tablecap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

const (
	sectionImport = 2
	sectionTable  = 4

	importTable = 1

	limitsMax = 1 // limits flag: a maximum follows the minimum
)

// Cap returns wasm with a maximum on every table, so that the module's
// tables together hold at most total entries, however they grow. A table
// keeps its initial size and any smaller maximum it declares; what the
// initial sizes leave of total is shared equally, as room to grow, among the
// tables that declare no smaller maximum. A module without tables is
// returned as it is.
//
// Cap refuses a module it cannot parse, one that imports a table (whose
// size the module does not decide), and one whose tables start with more
// than total entries: a bound it cannot enforce is an error, never a
// module passed through unchanged.
func Cap(wasm []byte, total uint32) ([]byte, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, errors.New("tablecap: not a WebAssembly module")
	}
	var table []byte // the table section's body
	start, end := 0, 0
	for pos := 8; pos < len(wasm); {
		id := wasm[pos]
		size, n, err := u32(wasm[pos+1:])
		if err != nil || uint64(pos+1+n)+uint64(size) > uint64(len(wasm)) {
			return nil, fmt.Errorf("tablecap: malformed section at byte %d", pos)
		}
		body := wasm[pos+1+n : pos+1+n+int(size)]
		switch id {
		case sectionImport:
			if err := noTableImport(body); err != nil {
				return nil, err
			}
		case sectionTable:
			if table != nil {
				return nil, errors.New("tablecap: two table sections")
			}
			table, start, end = body, pos, pos+1+n+int(size)
		}
		pos += 1 + n + int(size)
	}
	if table == nil {
		return wasm, nil
	}
	tables, err := parseTables(table)
	if err != nil {
		return nil, err
	}
	if len(tables) == 0 {
		return wasm, nil
	}
	var initial uint64
	for _, t := range tables {
		initial += uint64(t.min)
	}
	if initial > uint64(total) {
		return nil, fmt.Errorf("tablecap: the module's tables start with %d entries, more than the %d all of them may hold", initial, total)
	}
	share := (uint64(total) - initial) / uint64(len(tables))
	body := binary.AppendUvarint(nil, uint64(len(tables)))
	for _, t := range tables {
		bound := uint64(t.min) + share
		if t.hasMax {
			bound = min(bound, uint64(t.max))
		}
		body = append(body, t.ref, limitsMax)
		body = binary.AppendUvarint(body, uint64(t.min))
		body = binary.AppendUvarint(body, bound)
	}
	out := make([]byte, 0, len(wasm)-len(table)+len(body)+5)
	out = append(out, wasm[:start]...)
	out = append(out, sectionTable)
	out = binary.AppendUvarint(out, uint64(len(body)))
	out = append(out, body...)
	return append(out, wasm[end:]...), nil
}

type table struct {
	ref      byte
	min, max uint32
	hasMax   bool
}

func parseTables(b []byte) ([]table, error) {
	n, k, err := u32(b)
	if err != nil || uint64(n)*3 > uint64(len(b)) {
		return nil, errors.New("tablecap: malformed table section")
	}
	b = b[k:]
	tables := make([]table, 0, n)
	for range n {
		if len(b) < 3 {
			return nil, errors.New("tablecap: malformed table section")
		}
		t := table{ref: b[0]}
		flags := b[1]
		if flags > limitsMax {
			return nil, fmt.Errorf("tablecap: table limits flag %#x is not supported", flags)
		}
		b = b[2:]
		if t.min, k, err = u32(b); err != nil {
			return nil, errors.New("tablecap: malformed table minimum")
		}
		b = b[k:]
		if flags == limitsMax {
			if t.max, k, err = u32(b); err != nil {
				return nil, errors.New("tablecap: malformed table maximum")
			}
			b, t.hasMax = b[k:], true
			if t.max < t.min {
				return nil, fmt.Errorf("tablecap: a table's maximum %d is below its minimum %d", t.max, t.min)
			}
		}
		tables = append(tables, t)
	}
	if len(b) != 0 {
		return nil, errors.New("tablecap: bytes after the last table")
	}
	return tables, nil
}

// noTableImport refuses an import section that imports a table.
func noTableImport(b []byte) error {
	n, k, err := u32(b)
	if err != nil {
		return errors.New("tablecap: malformed import section")
	}
	b = b[k:]
	skip := func(k int) bool {
		if k < 0 || k > len(b) {
			return false
		}
		b = b[k:]
		return true
	}
	name := func() bool {
		l, k, err := u32(b)
		return err == nil && skip(k) && skip(int(l))
	}
	leb := func() bool {
		_, k, err := u32(b)
		return err == nil && skip(k)
	}
	limits := func() bool {
		if len(b) == 0 {
			return false
		}
		hasMax := b[0]&limitsMax != 0
		return skip(1) && leb() && (!hasMax || leb())
	}
	malformed := errors.New("tablecap: malformed import section")
	for range n {
		for range 2 { // the module's name, then the import's
			if !name() {
				return malformed
			}
		}
		if len(b) == 0 {
			return malformed
		}
		kind := b[0]
		b = b[1:]
		var ok bool
		switch kind {
		case 0: // function: a type index
			ok = leb()
		case importTable:
			return errors.New("tablecap: the module imports a table")
		case 2: // memory: limits
			ok = limits()
		case 3: // global: a value type and mutability
			ok = skip(2)
		case 4: // tag: an attribute and a type index
			ok = skip(1) && leb()
		}
		if !ok {
			return malformed
		}
	}
	return nil
}

// u32 decodes an unsigned LEB128 number of at most 32 bits.
func u32(b []byte) (uint32, int, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 || n > 5 || v > 1<<32-1 {
		return 0, 0, errors.New("tablecap: malformed number")
	}
	return uint32(v), n, nil
}
