package datasec_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/wasmrt/internal/datasec"
	"github.com/glacier-pipeline/glacier/wasmrt/internal/hostabi"
)

func TestMain(m *testing.M) {
	code := m.Run()
	wasmbuild.Cleanup()
	os.Exit(code)
}

// seg is a data segment as written in a test module: raw is its whole
// encoding after the flags byte, for segments Merge must refuse.
type seg struct {
	offset int32
	data   string
	raw    []byte
}

type mod struct {
	pages     uint32
	noMemory  bool
	dataCount bool
	segs      []seg
	flags     byte // of every segment
}

// build encodes a module with one memory and the given data segments.
func (m mod) build() []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	section := func(id byte, body []byte) {
		out = append(out, id)
		out = binary.AppendUvarint(out, uint64(len(body)))
		out = append(out, body...)
	}
	if !m.noMemory {
		section(5, binary.AppendUvarint([]byte{1, 0}, uint64(m.pages)))
	}
	if m.dataCount {
		section(12, binary.AppendUvarint(nil, uint64(len(m.segs))))
	}
	body := binary.AppendUvarint(nil, uint64(len(m.segs)))
	for _, s := range m.segs {
		body = append(body, m.flags)
		if s.raw != nil {
			body = append(body, s.raw...)
			continue
		}
		body = append(body, 0x41)
		body = appendS32(body, s.offset)
		body = append(body, 0x0b)
		body = binary.AppendUvarint(body, uint64(len(s.data)))
		body = append(body, s.data...)
	}
	section(11, body)
	return out
}

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

// sparse returns n one-byte segments MaxGap bytes apart.
func sparse(n int) []seg {
	segs := make([]seg, n)
	for i := range segs {
		segs[i] = seg{offset: int32(i * (datasec.MaxGap + 1)), data: "x"}
	}
	return segs
}

// dataSegments counts the segments of a module's data section.
func dataSegments(t *testing.T, wasm []byte) int {
	t.Helper()
	for pos := 8; pos < len(wasm); {
		id := wasm[pos]
		size, n := binary.Uvarint(wasm[pos+1:])
		body := wasm[pos+1+n : pos+1+n+int(size)]
		if id == 11 {
			count, _ := binary.Uvarint(body)
			return int(count)
		}
		pos += 1 + n + int(size)
	}
	return 0
}

// memory instantiates wasm without running it and returns its memory.
func memory(t *testing.T, wasm []byte) []byte {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	require.NoError(t, hostabi.Instantiate(ctx, r))
	m, err := r.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStartFunctions())
	require.NoError(t, err)
	mem, ok := m.Memory().Read(0, m.Memory().Size())
	require.True(t, ok)
	return bytes.Clone(mem)
}

func TestMerge(t *testing.T) {
	const page = 64 << 10
	tests := []struct {
		name string
		mod  mod
		want int // segments after Merge; 0 means the module is unchanged
	}{
		{"adjacent", mod{pages: 1, segs: []seg{{offset: 0, data: "ab"}, {offset: 2, data: "cd"}}}, 1},
		{"gaps", mod{pages: 1, segs: []seg{{offset: 8, data: "ab"}, {offset: 30, data: "cd"}, {offset: 100, data: "e"}}}, 1},
		{"unsorted", mod{pages: 1, segs: []seg{{offset: 500, data: "late"}, {offset: 8, data: "ab"}, {offset: 30, data: "cd"}}}, 1},
		{"gap of MaxGap merges", mod{pages: 1, segs: []seg{{offset: 0, data: "a"}, {offset: 1 + datasec.MaxGap, data: "b"}}}, 1},
		{"longer gap splits", mod{pages: 1, segs: []seg{{offset: 0, data: "a"}, {offset: 2, data: "b"}, {offset: 3 + datasec.MaxGap + 1, data: "c"}}}, 2},
		{"empty segments", mod{pages: 1, segs: []seg{{offset: 4, data: ""}, {offset: 4, data: "x"}, {offset: 9, data: ""}}}, 1},
		{"up to the end of memory", mod{pages: 2, segs: []seg{{offset: 2*page - 2, data: "yz"}, {offset: 2*page - 10, data: "w"}}}, 1},
		{"one segment", mod{pages: 1, segs: []seg{{offset: 0, data: "ab"}}}, 0},
		{"overlap", mod{pages: 1, segs: []seg{{offset: 2, data: "XY"}, {offset: 0, data: "abcd"}, {offset: 4, data: "ef"}}}, 0},
		{"past the initial memory", mod{pages: 1, segs: []seg{{offset: 0, data: "a"}, {offset: page - 1, data: "bc"}}}, 0},
		{"offset past 2 GiB", mod{pages: 1, segs: []seg{{offset: 0, data: "a"}, {offset: -4, data: "b"}}}, 0},
		{"data count section", mod{pages: 1, dataCount: true, segs: []seg{{offset: 0, data: "a"}, {offset: 1, data: "b"}}}, 0},
		{"passive segments", mod{pages: 1, flags: 1, segs: []seg{{raw: []byte{1, 'a'}}, {raw: []byte{1, 'b'}}}}, 0},
		{"offset from a global", mod{pages: 1, segs: []seg{{offset: 0, data: "a"}, {raw: []byte{0x23, 0, 0x0b, 1, 'b'}}}}, 0},
		{"no memory", mod{noMemory: true, segs: []seg{{offset: 0, data: "a"}, {offset: 1, data: "b"}}}, 0},
		{"sparse: merging would write 4 MiB for 1000 bytes", mod{pages: 64, segs: sparse(1000)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wasm := tt.mod.build()
			got := datasec.Merge(wasm)
			if tt.want == 0 {
				require.Equal(t, wasm, got, "module must be left unchanged")
				return
			}
			require.Equal(t, tt.want, dataSegments(t, got))
			require.Equal(t, memory(t, wasm), memory(t, got), "merged module must start with the same memory")
		})
	}
}

// TestMergeRandom merges modules with random segments and checks that each
// starts with the same memory as its original.
func TestMergeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		var m mod
		m.pages = 1 + rng.Uint32N(2)
		off := int32(rng.IntN(64))
		for range 1 + rng.IntN(40) {
			n := rng.IntN(40)
			data := make([]byte, n)
			for j := range data {
				data[j] = byte(1 + rng.IntN(255))
			}
			m.segs = append(m.segs, seg{offset: off, data: string(data)})
			gaps := []int{0, 1, 18, 300, datasec.MaxGap, datasec.MaxGap + 1, 9000}
			off += int32(n + gaps[rng.IntN(len(gaps))])
		}
		if int64(off) > int64(m.pages)*(64<<10) {
			continue
		}
		rng.Shuffle(len(m.segs), func(a, b int) { m.segs[a], m.segs[b] = m.segs[b], m.segs[a] })
		wasm := m.build()
		got := datasec.Merge(wasm)
		require.Equal(t, memory(t, wasm), memory(t, got), "module %d", i)
	}
}

// TestMergeGoModules merges real Go tasks and checks that they start with
// the same memory from far fewer segments.
func TestMergeGoModules(t *testing.T) {
	for _, name := range []string{"empty", "copy"} {
		t.Run(name, func(t *testing.T) {
			wasm, err := os.ReadFile(wasmbuild.Build(t, filepath.Join("..", "..", "..", "testdata", "wasm", name)))
			require.NoError(t, err)
			got := datasec.Merge(wasm)
			before, after := dataSegments(t, wasm), dataSegments(t, got)
			t.Logf("%s: %d data segments merged into %d", name, before, after)
			require.Greater(t, before, 1000)
			require.Less(t, after, 10)
			require.Equal(t, memory(t, wasm), memory(t, got))
		})
	}
}

func TestMergeRefusesGarbage(t *testing.T) {
	valid := mod{pages: 1, segs: []seg{{offset: 0, data: "a"}, {offset: 1, data: "b"}}}.build()
	for _, wasm := range [][]byte{
		nil,
		[]byte("\x00asm"),
		[]byte("\x00asm\x02\x00\x00\x00"),
		valid[:len(valid)-1],
		append(bytes.Clone(valid), 11, 0xff),
	} {
		require.Equal(t, wasm, datasec.Merge(wasm))
	}
}
