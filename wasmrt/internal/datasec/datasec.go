// Package datasec merges the data segments of a WebAssembly module.
//
// Go's linker splits a program's initialised data at every short run of
// zeros: a small Go task has 20,000 to 40,000 data segments. wazero
// evaluates each segment's offset expression and records each segment
// afresh for every instance, which made up more than half of the CPU time of
// running a small task. Merging neighbouring segments, with the zero bytes
// between them written out, gives the same initial memory from a handful of
// segments.
package datasec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
)

// MaxGap is the longest run of zeros put between two merged segments. A gap
// shorter than a page lies on pages that hold data anyway, so merging never
// touches memory that instantiating the original module would not.
const MaxGap = 4095

// Merging writes zeros out, so its output could be far larger than its
// input: a module of one-byte segments MaxGap apart would grow 4096 times.
// A merge whose segments would hold more than maxGrowth times the original
// data plus growthSlack is not done. Go's linker leaves zeros of about
// three quarters of its data between segments (measured on examples/etl
// and on a module importing net/http).
const (
	maxGrowth   = 2
	growthSlack = 64 << 10
)

const (
	sectionMemory    = 5
	sectionData      = 11
	sectionDataCount = 12

	opI32Const = 0x41
	opEnd      = 0x0b

	wasmPageSize = 64 << 10
)

// Merge returns wasm with its active data segments merged where they lie at
// most MaxGap bytes apart, or wasm itself when that could change what
// instantiating it does, or would not help. It merges only when
//   - the module defines its one memory and has no data count section (so no
//     instruction names a segment by index);
//   - every segment is active in that memory at a constant offset;
//   - the segments do not overlap (so their order does not matter) and all
//     lie within the memory's initial size (so none can fail at
//     instantiation);
//   - the merged segments hold at most twice the original bytes (plus a
//     little), so the output stays within a small factor of the input.
//
// A module Merge cannot parse is returned unchanged, for the compiler to
// report.
func Merge(wasm []byte) []byte {
	out, err := merge(wasm)
	if err != nil {
		return wasm
	}
	return out
}

// errSkip says the module is left as it is.
var errSkip = errors.New("datasec: not merged")

type section struct {
	id         byte
	start, end int // the whole section, id byte included
	body       []byte
}

type segment struct {
	offset uint32
	init   []byte
}

func merge(wasm []byte) ([]byte, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) || binary.LittleEndian.Uint32(wasm[4:8]) != 1 {
		return nil, errSkip
	}
	var memory, data *section
	for pos := 8; pos < len(wasm); {
		id := wasm[pos]
		size, n, err := u32(wasm[pos+1:])
		if err != nil || uint64(pos+1+n)+uint64(size) > uint64(len(wasm)) {
			return nil, errSkip
		}
		s := &section{id: id, start: pos, end: pos + 1 + n + int(size)}
		s.body = wasm[pos+1+n : s.end]
		switch id {
		case sectionMemory:
			memory = s
		case sectionData:
			data = s
		case sectionDataCount:
			return nil, errSkip
		}
		pos = s.end
	}
	if memory == nil || data == nil {
		return nil, errSkip
	}
	minBytes, err := initialMemory(memory.body)
	if err != nil {
		return nil, err
	}
	segs, err := segments(data.body)
	if err != nil {
		return nil, err
	}
	if len(segs) < 2 {
		return nil, errSkip
	}
	slices.SortStableFunc(segs, func(a, b segment) int {
		switch {
		case a.offset < b.offset:
			return -1
		case a.offset > b.offset:
			return 1
		}
		return 0
	})
	var prevEnd uint64
	for i, s := range segs {
		end := uint64(s.offset) + uint64(len(s.init))
		if end > minBytes || (i > 0 && uint64(s.offset) < prevEnd) {
			return nil, errSkip
		}
		prevEnd = end
	}

	var orig uint64
	for _, s := range segs {
		orig += uint64(len(s.init))
	}
	runs, size := plan(segs)
	if runs == len(segs) || size > maxGrowth*orig+growthSlack {
		return nil, errSkip
	}
	merged := mergeRuns(segs)
	body := binary.AppendUvarint(nil, uint64(len(merged)))
	for _, s := range merged {
		body = append(body, 0, opI32Const)
		body = appendS32(body, int32(s.offset))
		body = append(body, opEnd)
		body = binary.AppendUvarint(body, uint64(len(s.init)))
		body = append(body, s.init...)
	}
	out := make([]byte, 0, len(wasm)-len(data.body)+len(body)+5)
	out = append(out, wasm[:data.start]...)
	out = append(out, sectionData)
	out = binary.AppendUvarint(out, uint64(len(body)))
	out = append(out, body...)
	out = append(out, wasm[data.end:]...)
	return out, nil
}

// initialMemory returns the initial size in bytes of the module's only
// memory.
func initialMemory(body []byte) (uint64, error) {
	count, n, err := u32(body)
	if err != nil || count != 1 || n >= len(body) {
		return 0, errSkip
	}
	flags := body[n]
	if flags != 0 && flags != 1 { // shared or 64-bit memories are left alone
		return 0, errSkip
	}
	pages, _, err := u32(body[n+1:])
	if err != nil {
		return 0, errSkip
	}
	return uint64(pages) * wasmPageSize, nil
}

// segments decodes a data section whose segments are all active in memory 0
// at an i32.const offset.
func segments(body []byte) ([]segment, error) {
	count, n, err := u32(body)
	if err != nil || uint64(count) > uint64(len(body)) {
		return nil, errSkip
	}
	body = body[n:]
	segs := make([]segment, 0, count)
	for range count {
		if len(body) < 2 || body[0] != 0 || body[1] != opI32Const {
			return nil, errSkip
		}
		v, n, err := s32(body[2:])
		if err != nil {
			return nil, err
		}
		body = body[2+n:]
		if len(body) == 0 || body[0] != opEnd {
			return nil, errSkip
		}
		size, n, err := u32(body[1:])
		if err != nil || uint64(1+n)+uint64(size) > uint64(len(body)) {
			return nil, errSkip
		}
		body = body[1+n:]
		segs = append(segs, segment{offset: uint32(v), init: body[:size:size]})
		body = body[size:]
	}
	if len(body) != 0 {
		return nil, errSkip
	}
	return segs, nil
}

// plan returns how many segments mergeRuns makes of segs, and the bytes
// they hold, without allocating them.
func plan(segs []segment) (runs int, size uint64) {
	for i := 0; i < len(segs); {
		j, end := run(segs, i)
		runs++
		size += end - uint64(segs[i].offset)
		i = j
	}
	return runs, size
}

// run returns the end (exclusive) of the run of segments from i on that lie
// at most MaxGap apart, and the byte offset where it ends.
func run(segs []segment, i int) (j int, end uint64) {
	j = i + 1
	end = uint64(segs[i].offset) + uint64(len(segs[i].init))
	for j < len(segs) && uint64(segs[j].offset)-end <= MaxGap {
		end = uint64(segs[j].offset) + uint64(len(segs[j].init))
		j++
	}
	return j, end
}

// mergeRuns joins sorted, non-overlapping segments at most MaxGap apart.
func mergeRuns(segs []segment) []segment {
	var out []segment
	for i := 0; i < len(segs); {
		j, end := run(segs, i)
		if j == i+1 {
			out = append(out, segs[i])
			i = j
			continue
		}
		init := make([]byte, end-uint64(segs[i].offset))
		for _, s := range segs[i:j] {
			copy(init[s.offset-segs[i].offset:], s.init)
		}
		out = append(out, segment{offset: segs[i].offset, init: init})
		i = j
	}
	return out
}

// u32 decodes an unsigned LEB128 number of at most 32 bits.
func u32(b []byte) (uint32, int, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 || n > 5 || v > 1<<32-1 {
		return 0, 0, errSkip
	}
	return uint32(v), n, nil
}

// s32 decodes a signed LEB128 number of at most 32 bits.
func s32(b []byte) (int32, int, error) {
	var v int64
	var shift uint
	for i := 0; i < 5 && i < len(b); i++ {
		c := b[i]
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if i == 4 && c&0x70 != 0 && c&0x70 != 0x70 { // bits past 32 must extend the sign
				return 0, 0, errSkip
			}
			if c&0x40 != 0 { // negative: extend the sign
				v |= -1 << shift
			}
			if v < -1<<31 || v > 1<<31-1 {
				return 0, 0, errSkip
			}
			return int32(v), i + 1, nil
		}
	}
	return 0, 0, errSkip
}

// appendS32 appends v as signed LEB128.
func appendS32(b []byte, v int32) []byte {
	x := int64(v)
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if (x == 0 && c&0x40 == 0) || (x == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
