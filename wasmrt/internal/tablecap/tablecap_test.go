package tablecap

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"

	"github.com/glacier-pipeline/glacier/internal/testutil/wasmenc"
)

// tablesOf returns the tables of a module Cap wrote.
func tablesOf(t *testing.T, wasm []byte) []table {
	t.Helper()
	for pos := 8; pos < len(wasm); {
		size, n, err := u32(wasm[pos+1:])
		require.NoError(t, err)
		if wasm[pos] == sectionTable {
			tables, err := parseTables(wasm[pos+1+n : pos+1+n+int(size)])
			require.NoError(t, err)
			return tables
		}
		pos += 1 + n + int(size)
	}
	return nil
}

func TestCapSharesWhatTheInitialSizesLeave(t *testing.T) {
	tests := []struct {
		name   string
		tables []wasmenc.Table
		total  uint32
		want   []table
	}{
		{"one table without a maximum, as Go's linker writes it", []wasmenc.Table{{Min: 6174}},
			1 << 20, []table{{ref: 0x70, min: 6174, max: 1 << 20, hasMax: true}}},
		{"a smaller maximum is kept", []wasmenc.Table{{Min: 5, Max: 5}},
			100, []table{{ref: 0x70, min: 5, max: 5, hasMax: true}}},
		{"a larger maximum is lowered", []wasmenc.Table{{Min: 5, Max: 1 << 30}},
			100, []table{{ref: 0x70, min: 5, max: 100, hasMax: true}}},
		{"two tables share the rest equally", []wasmenc.Table{{Min: 10}, {Min: 30}},
			100, []table{{ref: 0x70, min: 10, max: 40, hasMax: true}, {ref: 0x70, min: 30, max: 60, hasMax: true}}},
		{"tables that fill the total cannot grow", []wasmenc.Table{{Min: 60}, {Min: 40}},
			100, []table{{ref: 0x70, min: 60, max: 60, hasMax: true}, {ref: 0x70, min: 40, max: 40, hasMax: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := wasmenc.Module{Tables: tt.tables, Funcs: []wasmenc.Func{{Export: "_start"}}, MemPages: 1}.Encode()
			out, err := Cap(in, tt.total)
			require.NoError(t, err)
			got := tablesOf(t, out)
			assert.Equal(t, tt.want, got)
			var sum uint64
			for _, tb := range got {
				sum += uint64(tb.max)
			}
			assert.LessOrEqual(t, sum, uint64(tt.total))
			_, err = wazero.NewRuntime(context.Background()).CompileModule(context.Background(), out)
			require.NoError(t, err, "the engine must accept the module Cap wrote")
		})
	}
}

func TestCapLeavesAModuleWithoutTables(t *testing.T) {
	in := wasmenc.Module{Funcs: []wasmenc.Func{{Export: "_start"}}, MemPages: 1}.Encode()
	out, err := Cap(in, 10)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(in, out))
}

func TestCapRefuses(t *testing.T) {
	importsTable := []byte("\x00asm\x01\x00\x00\x00\x02\x0b\x01\x03env\x01t\x01\x70\x00\x01")
	tests := []struct {
		name string
		wasm []byte
		says string
	}{
		{"tables over the total", wasmenc.Module{Tables: []wasmenc.Table{{Min: 60}, {Min: 41}}}.Encode(), "start with 101 entries, more than the 100"},
		{"an imported table", importsTable, "imports a table"},
		{"not a module", []byte("(module)"), "not a WebAssembly module"},
		{"a section past the end", []byte("\x00asm\x01\x00\x00\x00\x04\x09\x01"), "malformed section at byte 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Cap(tt.wasm, 100)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.says)
		})
	}
}

// TestGrowStopsAtTheCap grows a table past its cap in the engine itself:
// table.grow answers -1 and the table keeps its size.
func TestGrowStopsAtTheCap(t *testing.T) {
	ctx := context.Background()
	grow := func(n uint32) []byte {
		return append(append(append([]byte{}, wasmenc.RefNullFunc...), wasmenc.I32Const(n)...), wasmenc.TableGrow(0)...)
	}
	in := wasmenc.Module{
		Tables: []wasmenc.Table{{Min: 1}},
		Funcs: []wasmenc.Func{
			{Export: "grow_within", Results: 1, Body: grow(99)},
			{Export: "grow_past", Results: 1, Body: grow(1)},
		},
	}.Encode()
	out, err := Cap(in, 100)
	require.NoError(t, err)
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.Instantiate(ctx, out)
	require.NoError(t, err)
	res, err := mod.ExportedFunction("grow_within").Call(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), res[0], "the old size")
	res, err = mod.ExportedFunction("grow_past").Call(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint32(0xffffffff), uint32(res[0]), "a grow past the cap is refused")
}

// FuzzCap checks that Cap never panics, and that whatever it accepts comes
// out with every table bounded and the bounds within the total.
func FuzzCap(f *testing.F) {
	f.Add(wasmenc.Module{Tables: []wasmenc.Table{{Min: 3}, {Min: 1, Max: 9}}}.Encode(), uint32(50))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x02\x0b\x01\x03env\x01t\x01\x70\x00\x01"), uint32(50))
	f.Fuzz(func(t *testing.T, wasm []byte, total uint32) {
		out, err := Cap(wasm, total)
		if err != nil || bytes.Equal(out, wasm) {
			return
		}
		var sum uint64
		for _, tb := range tablesOf(t, out) {
			require.True(t, tb.hasMax)
			require.LessOrEqual(t, tb.min, tb.max)
			sum += uint64(tb.max)
		}
		require.LessOrEqual(t, sum, uint64(total))
	})
}
