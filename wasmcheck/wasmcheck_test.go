package wasmcheck_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/testutil/hostile"
	"github.com/glacier-pipeline/glacier/internal/testutil/wasmbuild"
	"github.com/glacier-pipeline/glacier/wasmcheck"
)

func TestMain(m *testing.M) {
	code := m.Run()
	wasmbuild.Cleanup()
	os.Exit(code)
}

// realModules returns every module in the repository by name: the Go
// fixtures and example tasks (built here), and the committed C, Rust and
// WAT modules.
func realModules(t *testing.T) map[string]string {
	root := ".."
	var pkgs []string
	for _, pattern := range []string{"testdata/wasm/*/main.go", "examples/*/tasks/*/main.go", "internal/conformance/testdata/*/main.go"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		require.NoError(t, err)
		for _, f := range m {
			pkgs = append(pkgs, filepath.Dir(f))
		}
	}
	committed, err := filepath.Glob(filepath.Join(root, "testdata", "wasm", "*", "*.wasm"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(committed), 3, "the C, Rust and WAT modules")
	require.Greater(t, len(pkgs), 20)

	mods := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, dir := range pkgs {
		wg.Go(func() {
			p := wasmbuild.Build(t, dir)
			rel, _ := filepath.Rel(root, dir)
			mu.Lock()
			mods[rel] = p
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, p := range committed {
		rel, _ := filepath.Rel(root, p)
		mods[rel] = p
	}
	return mods
}

// TestAcceptsRealModules checks every module in the repository, and logs
// what each declares (docs/sandbox.md's table comes from this log).
func TestAcceptsRealModules(t *testing.T) {
	var most wasmcheck.Stats
	for name, path := range realModules(t) {
		wasm, err := wasmcheck.ReadFile(path, 0)
		require.NoError(t, err)
		st, err := wasmcheck.Check(wasm, wasmcheck.Limits{})
		require.NoError(t, err, name)
		assert.Equal(t, int64(len(wasm)), st.Size)
		assert.Positive(t, st.Functions, name)
		assert.Equal(t, 1, st.Memories, name)
		j, _ := json.Marshal(st)
		t.Logf("%s: %s", name, j)
		most = maxStats(most, st)
	}
	j, _ := json.Marshal(most)
	t.Logf("largest of each: %s", j)
	l := wasmcheck.DefaultLimits()
	// Every default is at least ten times what the largest real module
	// declares.
	for _, c := range []struct {
		what      string
		real, lim int64
	}{
		{"size", most.Size, l.Size},
		{"functions", int64(most.Functions), int64(l.Functions)},
		{"imports", int64(most.Imports), int64(l.Imports)},
		{"exports", int64(most.Exports), int64(l.Exports)},
		{"types", int64(most.Types), int64(l.Types)},
		{"globals", int64(most.Globals), int64(l.Globals)},
		{"locals per function", int64(most.MaxLocals), int64(l.LocalsPerFunction)},
		{"locals", int64(most.Locals), int64(l.Locals)},
		{"function size", int64(most.MaxFunctionSize), int64(l.FunctionSize)},
		{"nesting depth", int64(most.MaxNestingDepth), int64(l.NestingDepth)},
		{"blocks per function", int64(most.MaxBlocks), int64(l.BlocksPerFunction)},
		{"data segments", int64(most.DataSegments), int64(l.DataSegments)},
		{"element segments", int64(most.ElementSegments), int64(l.ElementSegments)},
		{"table size", int64(most.TableEntries), int64(l.TableSize)},
	} {
		assert.GreaterOrEqual(t, c.lim, 10*c.real, "the %s limit is not ten times what real modules declare", c.what)
	}
}

func maxStats(a, b wasmcheck.Stats) wasmcheck.Stats {
	a.Size = max(a.Size, b.Size)
	a.Functions = max(a.Functions, b.Functions)
	a.Imports = max(a.Imports, b.Imports)
	a.Exports = max(a.Exports, b.Exports)
	a.Types = max(a.Types, b.Types)
	a.Globals = max(a.Globals, b.Globals)
	a.MaxLocals = max(a.MaxLocals, b.MaxLocals)
	a.Locals = max(a.Locals, b.Locals)
	a.MaxFunctionSize = max(a.MaxFunctionSize, b.MaxFunctionSize)
	a.MaxNestingDepth = max(a.MaxNestingDepth, b.MaxNestingDepth)
	a.MaxBlocks = max(a.MaxBlocks, b.MaxBlocks)
	a.DataSegments = max(a.DataSegments, b.DataSegments)
	a.ElementSegments = max(a.ElementSegments, b.ElementSegments)
	a.DataBytes = max(a.DataBytes, b.DataBytes)
	a.TableEntries = max(a.TableEntries, b.TableEntries)
	a.ElementEntries = max(a.ElementEntries, b.ElementEntries)
	return a
}

// TestRefusesHostileModules checks the hostile modules the checker alone
// must refuse, each with a message naming what is wrong.
func TestRefusesHostileModules(t *testing.T) {
	for _, c := range hostile.Cases() {
		if c.Kind != hostile.Invalid || c.Wasm == nil || c.AtLoad {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			_, err := wasmcheck.Check(c.Wasm, wasmcheck.Limits{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.Says)
			var e *wasmcheck.Error
			require.ErrorAs(t, err, &e)
			assert.True(t, errors.Is(err, wasmcheck.ErrMalformed) || errors.Is(err, wasmcheck.ErrLimit))
			if e.Section != "" {
				assert.Contains(t, err.Error(), e.Section+" section")
			}
		})
	}
}

func TestRefusesMalformed(t *testing.T) {
	tests := []struct {
		name, wasm, says string
	}{
		{"empty", "", "not a WebAssembly binary"},
		{"text", "(module)", "not a WebAssembly binary"},
		{"version 2", "\x00asm\x02\x00\x00\x00", "binary format version 02000000"},
		{"section past the end", "\x00asm\x01\x00\x00\x00\x01\x05\x00", "declares 5 bytes, but only 1 byte follows"},
		{"unknown section", "\x00asm\x01\x00\x00\x00\x0e\x00", "unknown section id 14"},
		{"twice", "\x00asm\x01\x00\x00\x00\x01\x01\x00\x01\x01\x00", "appears twice"},
		{"out of order", "\x00asm\x01\x00\x00\x00\x03\x01\x00\x01\x01\x00", "out of order"},
		{"overlong LEB", "\x00asm\x01\x00\x00\x00\x01\x06\x80\x80\x80\x80\x80\x00", "longer than 5 bytes"},
		{"LEB past 32 bits", "\x00asm\x01\x00\x00\x00\x01\x05\xff\xff\xff\xff\x7f", "does not fit in 32 bits"},
		{"trailing bytes in a section", "\x00asm\x01\x00\x00\x00\x01\x02\x00\x00", "its contents end after 1"},
		{"functions without code", "\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00", "there is no code section"},
		{"bad name", "\x00asm\x01\x00\x00\x00\x00\x03\x02\xff\xfe", "its name is not UTF-8"},
		{"body without end", "\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x04\x01\x02\x00\x01", "ends before its final end"},
		{"unknown opcode", "\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x05\x01\x03\x00\xff\x0b", "unknown opcode 0xff"},
		{"bytes after the end", "\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x05\x01\x03\x00\x0b\x01", "1 bytes after its final end"},
		{"memory past 4 GiB", "\x00asm\x01\x00\x00\x00\x05\x05\x01\x00\x81\x80\x04", "WebAssembly memories have at most 65536"},
		{"shared memory", "\x00asm\x01\x00\x00\x00\x05\x04\x01\x03\x01\x01", "(shared or 64-bit) is not supported"},
		{"two memories", "\x00asm\x01\x00\x00\x00\x05\x05\x02\x00\x01\x00\x01", "declares 2 memories; a task module may declare at most 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wasmcheck.Check([]byte(tt.wasm), wasmcheck.Limits{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.says)
		})
	}
}

// TestLimits checks each limit at and just past its value.
func TestLimits(t *testing.T) {
	funcs := func(n, depth, locals int) []byte {
		var b strings.Builder
		b.WriteString("\x00asm\x01\x00\x00\x00")
		section := func(id byte, body []byte) {
			b.WriteByte(id)
			b.Write(uleb(uint64(len(body))))
			b.Write(body)
		}
		section(1, []byte{1, 0x60, 0, 0})
		fs := uleb(uint64(n))
		for range n {
			fs = append(fs, 0)
		}
		section(3, fs)
		body := []byte{1}
		body = append(body, uleb(uint64(locals))...)
		body = append(body, 0x7f)
		for range depth {
			body = append(body, 0x02, 0x40)
		}
		for range depth + 1 {
			body = append(body, 0x0b)
		}
		code := uleb(uint64(n))
		for range n {
			code = append(code, uleb(uint64(len(body)))...)
			code = append(code, body...)
		}
		section(10, code)
		return []byte(b.String())
	}
	// tables is a module of funcref tables of these initial sizes.
	tables := func(sizes ...uint64) []byte {
		body := uleb(uint64(len(sizes)))
		for _, n := range sizes {
			body = append(append(body, 0x70, 0), uleb(n)...)
		}
		return append(append([]byte("\x00asm\x01\x00\x00\x00\x04"), uleb(uint64(len(body)))...), body...)
	}
	tests := []struct {
		name   string
		limits wasmcheck.Limits
		ok     []byte
		over   []byte
		says   string
	}{
		{"functions", wasmcheck.Limits{Functions: 10}, funcs(10, 0, 0), funcs(11, 0, 0), "declares 11 functions; a task module may declare at most 10"},
		{"nesting", wasmcheck.Limits{NestingDepth: 5}, funcs(1, 5, 0), funcs(1, 6, 0), "function 0 nests blocks more than 5 deep"},
		{"locals per function", wasmcheck.Limits{LocalsPerFunction: 7}, funcs(1, 0, 7), funcs(1, 0, 8), "function 0 declares at least 8 locals"},
		{"locals", wasmcheck.Limits{Locals: 20}, funcs(4, 0, 5), funcs(5, 0, 5), "functions declare 25 locals in all by function 4; a task module may declare at most 20"},
		{"function size", wasmcheck.Limits{FunctionSize: 10}, funcs(1, 2, 0), funcs(1, 3, 0), "function 0's body is 13 bytes"},
		{"size", wasmcheck.Limits{Size: int64(len(funcs(1, 0, 0)))}, funcs(1, 0, 0), funcs(2, 0, 0), "a task module may be at most"},
		{"tables", wasmcheck.Limits{TableSize: 100}, tables(60, 40), tables(60, 41), "tables of 101 entries in all; a task module's tables may hold at most 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wasmcheck.Check(tt.ok, tt.limits)
			require.NoError(t, err)
			_, err = wasmcheck.Check(tt.over, tt.limits)
			require.ErrorIs(t, err, wasmcheck.ErrLimit)
			assert.Contains(t, err.Error(), tt.says)
		})
	}
}

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// TestFiles checks that special files are refused before they are read.
func TestFiles(t *testing.T) {
	for _, c := range hostile.Cases() {
		if c.File == nil {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t.wasm")
			require.NoError(t, c.WriteTo(path))
			_, err := wasmcheck.ReadFile(path, 0)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.Says)
			assert.True(t, errors.Is(err, wasmcheck.ErrNotRegular) || errors.Is(err, wasmcheck.ErrTooBig))
		})
	}
	t.Run("regular file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "m.wasm")
		require.NoError(t, os.WriteFile(p, []byte("\x00asm\x01\x00\x00\x00"), 0o644))
		b, err := wasmcheck.ReadFile(p, 8)
		require.NoError(t, err)
		assert.Equal(t, "\x00asm\x01\x00\x00\x00", string(b))
		_, err = wasmcheck.ReadFile(p, 7)
		require.ErrorIs(t, err, wasmcheck.ErrTooBig)
	})
	t.Run("link to a regular file", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "m.wasm"), []byte("\x00asm"), 0o644))
		require.NoError(t, os.Symlink("m.wasm", filepath.Join(dir, "link.wasm")))
		b, err := wasmcheck.ReadFile(filepath.Join(dir, "link.wasm"), 0)
		require.NoError(t, err)
		assert.Equal(t, "\x00asm", string(b))
	})
}

// TestDocumentedDefaults checks docs/sandbox.md's table of module limits
// against DefaultLimits: every field has a row, with its value.
func TestDocumentedDefaults(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "sandbox.md"))
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(doc), "### Module limits")
	require.True(t, ok, "docs/sandbox.md has no section Module limits")
	table, _, _ = strings.Cut(table, "\n### ")
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(\\w+)` \\| (\\d+) \\|").FindAllStringSubmatch(table, -1) {
		rows[m[1]] = m[2]
	}
	l := reflect.ValueOf(wasmcheck.DefaultLimits())
	for i := range l.NumField() {
		name := l.Type().Field(i).Name
		assert.Equal(t, fmt.Sprint(l.Field(i).Interface()), rows[name], "docs/sandbox.md's row for %s", name)
		delete(rows, name)
	}
	assert.Empty(t, rows, "docs/sandbox.md documents limits Limits does not have")
}
