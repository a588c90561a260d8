package wasmrt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/testutil/wasmenc"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/wasmrt/internal/hostabi"
	"github.com/glacier-pipeline/glacier/wasmrt/internal/logcap"
)

// hostFuncs lists the glacier_v1 functions and their parameter counts.
var hostFuncs = []struct {
	name   string
	params int
}{
	{abi.FuncTaskContext, 3},
	{abi.FuncDatasetOpen, 4},
	{abi.FuncDatasetRead, 4},
	{abi.FuncDatasetWrite, 4},
	{abi.FuncDatasetClose, 1},
	{abi.FuncTaskFail, 2},
	{abi.FuncDatasetParts, 5},
	{abi.FuncDatasetOpenPart, 6},
}

// Addresses in the proxy module's one page of memory.
const (
	addrIn     = 100 // "in"
	addrOut    = 104 // "out"
	addrSecret = 110 // "secret"
	addrBadUTF = 120 // "\xff\xfe"
	addrSlot   = 200 // u32 out-parameters at 200, 204, ...
	addrBuf    = 2048
	memSize    = 1 << 16
)

// proxyModule imports every glacier_v1 function and exports each as
// "call_<name>", passing its arguments straight through, so a test can call
// the real host functions with any arguments at all.
func proxyModule() []byte {
	m := wasmenc.Module{MemPages: 1, Data: []wasmenc.Data{
		{Offset: addrIn, Bytes: []byte("in")}, {Offset: addrOut, Bytes: []byte("out")},
		{Offset: addrSecret, Bytes: []byte("secret")}, {Offset: addrBadUTF, Bytes: []byte{0xff, 0xfe}},
	}}
	for i, f := range hostFuncs {
		m.Imports = append(m.Imports, wasmenc.Import{Module: abi.ModuleName, Name: f.name, Params: f.params, Results: 1})
		var body []byte
		for p := range f.params {
			body = append(body, wasmenc.LocalGet(uint32(p))...)
		}
		body = append(body, wasmenc.Call(uint32(i))...)
		m.Funcs = append(m.Funcs, wasmenc.Func{Export: "call_" + f.name, Params: f.params, Results: 1, Body: body})
	}
	return m.Encode()
}

var proxyRT struct {
	once sync.Once
	r    *Runtime
	cm   wazero.CompiledModule
	err  error
}

// proxyRuntime compiles the proxy once per test process.
func proxyRuntime(tb testing.TB) (*Runtime, wazero.CompiledModule) {
	tb.Helper()
	proxyRT.once.Do(func() {
		ctx := context.Background()
		proxyRT.r, proxyRT.err = NewRuntime(ctx)
		if proxyRT.err == nil {
			proxyRT.cm, proxyRT.err = proxyRT.r.wr.CompileModule(ctx, proxyModule())
		}
	})
	require.NoError(tb, proxyRT.err)
	return proxyRT.r, proxyRT.cm
}

// mapStorage is a small storage.PartedDatasets with hooks to make it fail.
// A part is stored under "<dataset>/<key>".
type mapStorage struct {
	data      map[string]string
	parts     map[string][]string // partitioned inputs: their keys
	committed map[string]string
	openErr   error
	stageErr  error
	readErr   error // returned after the data
	writeErr  error
	commitErr map[string]error
}

func (s *mapStorage) Open(_ context.Context, name string) (io.ReadCloser, error) {
	if s.openErr != nil {
		return nil, s.openErr
	}
	d, ok := s.data[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", storage.ErrNotFound, name)
	}
	var r io.Reader = strings.NewReader(d)
	if s.readErr != nil {
		r = io.MultiReader(r, errReader{s.readErr})
	}
	return io.NopCloser(r), nil
}

func (s *mapStorage) Stage(_ context.Context, name string) (storage.Staged, error) {
	if s.stageErr != nil {
		return nil, s.stageErr
	}
	return &mapStaged{s: s, name: name}, nil
}

func (s *mapStorage) PartKeys(_ context.Context, name string) ([]string, error) {
	keys, ok := s.parts[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", storage.ErrNotFound, name)
	}
	return keys, nil
}

func (s *mapStorage) OpenPart(ctx context.Context, name, key string) (io.ReadCloser, error) {
	return s.Open(ctx, name+"/"+key)
}

func (s *mapStorage) StagePart(ctx context.Context, name, key string) (storage.Staged, error) {
	return s.Stage(ctx, name+"/"+key)
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

type mapStaged struct {
	s    *mapStorage
	name string
	buf  bytes.Buffer
}

func (m *mapStaged) Write(p []byte) (int, error) {
	if m.s.writeErr != nil {
		return 0, m.s.writeErr
	}
	return m.buf.Write(p)
}

func (m *mapStaged) Commit(context.Context) error {
	if err := m.s.commitErr[m.name]; err != nil {
		return err
	}
	if m.s.committed == nil {
		m.s.committed = map[string]string{}
	}
	m.s.committed[m.name] = m.buf.String()
	return nil
}

func (m *mapStaged) Discard(context.Context) error { return nil }

// proxy is one instance of the proxy module with its invocation state.
type proxy struct {
	tb    testing.TB
	ctx   context.Context
	mod   api.Module
	state *hostabi.State
	log   bytes.Buffer
}

func newProxy(tb testing.TB, ctx context.Context, st *mapStorage, inputs, outputs []string, partitioned ...string) *proxy {
	tb.Helper()
	r, cm := proxyRuntime(tb)
	p := &proxy{tb: tb}
	state, err := hostabi.NewState(hostabi.Config{
		Task: "proxy", RunID: "run-1", Params: map[string]string{"k": "v"},
		Inputs: inputs, Outputs: outputs, Partitioned: partitioned,
		Storage: st,
		Log:     logcap.New(&p.log, 1<<20),
	})
	require.NoError(tb, err)
	p.state = state
	p.ctx = hostabi.WithState(ctx, state)
	p.mod, err = r.wr.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	require.NoError(tb, err)
	tb.Cleanup(func() { p.mod.Close(context.Background()) })
	return p
}

// call calls a host function through the proxy; a host function must never
// trap or panic, whatever the arguments.
func (p *proxy) call(fn string, args ...uint32) abi.Errno {
	p.tb.Helper()
	params := make([]uint64, len(args))
	for i, a := range args {
		params[i] = api.EncodeU32(a)
	}
	res, err := p.mod.ExportedFunction("call_"+fn).Call(p.ctx, params...)
	require.NoError(p.tb, err, "%s%v", fn, args)
	return abi.Errno(api.DecodeU32(res[0]))
}

func (p *proxy) u32(addr uint32) uint32 {
	v, ok := p.mod.Memory().ReadUint32Le(addr)
	require.True(p.tb, ok)
	return v
}

func (p *proxy) bytes(addr, n uint32) []byte {
	b, ok := p.mod.Memory().Read(addr, n)
	require.True(p.tb, ok)
	return bytes.Clone(b)
}

func (p *proxy) put(addr uint32, b []byte) {
	require.True(p.tb, p.mod.Memory().Write(addr, b))
}

// TestHostFunctions calls each host function through the proxy module, in
// one invocation, and compares every errno and out-parameter with
// docs/abi.md.
func TestHostFunctions(t *testing.T) {
	st := &mapStorage{data: map[string]string{"in": "hello"}}
	p := newProxy(t, context.Background(), st, []string{"in"}, []string{"out", "z_unused"})
	p.put(addrBuf+4096, []byte("world"))
	const (
		lenSlot = addrSlot
		inSlot  = addrSlot + 4
		outSlot = addrSlot + 8
		nSlot   = addrSlot + 12
	)
	var ctxLen uint32
	steps := []struct {
		name  string
		fn    string
		args  []uint32
		want  abi.Errno
		check func(t *testing.T)
	}{
		{"context: buffer too small", abi.FuncTaskContext, []uint32{addrBuf, 4, lenSlot}, abi.ErrnoRange, func(t *testing.T) {
			ctxLen = p.u32(lenSlot)
			assert.Greater(t, ctxLen, uint32(4))
		}},
		{"context", abi.FuncTaskContext, []uint32{addrBuf, 1024, lenSlot}, abi.ErrnoSuccess, func(t *testing.T) {
			var tc abi.TaskContext
			require.NoError(t, json.Unmarshal(p.bytes(addrBuf, p.u32(lenSlot)), &tc))
			assert.Equal(t, abi.TaskContext{ABI: 1, Task: "proxy", RunID: "run-1", Params: map[string]string{"k": "v"},
				Inputs: []string{"in"}, Outputs: []string{"out", "z_unused"}}, tc)
		}},
		{"context: len_ptr past the end", abi.FuncTaskContext, []uint32{addrBuf, 1024, memSize - 2}, abi.ErrnoFault, nil},
		{"context: buffer past the end", abi.FuncTaskContext, []uint32{memSize - 10, 1024, lenSlot}, abi.ErrnoFault, nil},
		{"open input", abi.FuncDatasetOpen, []uint32{addrIn, 2, abi.ModeRead, inSlot}, abi.ErrnoSuccess, func(t *testing.T) {
			assert.Equal(t, uint32(1), p.u32(inSlot))
		}},
		{"open undeclared", abi.FuncDatasetOpen, []uint32{addrSecret, 6, abi.ModeRead, inSlot}, abi.ErrnoAcces, func(t *testing.T) {
			assert.Contains(t, p.log.String(), `"secret" is not a declared input, so it cannot be read (inputs: in)`)
		}},
		{"open input to write", abi.FuncDatasetOpen, []uint32{addrIn, 2, abi.ModeWrite, inSlot}, abi.ErrnoAcces, func(t *testing.T) {
			assert.Contains(t, p.log.String(), `"in" is not a declared output, so it cannot be written (outputs: out, z_unused)`)
		}},
		{"open output to read", abi.FuncDatasetOpen, []uint32{addrOut, 3, abi.ModeRead, inSlot}, abi.ErrnoAcces, nil},
		{"open: bad mode", abi.FuncDatasetOpen, []uint32{addrIn, 2, 7, inSlot}, abi.ErrnoInval, nil},
		{"open: empty name", abi.FuncDatasetOpen, []uint32{addrIn, 0, abi.ModeRead, inSlot}, abi.ErrnoInval, nil},
		{"open: long name", abi.FuncDatasetOpen, []uint32{addrIn, abi.MaxNameLen + 1, abi.ModeRead, inSlot}, abi.ErrnoInval, nil},
		{"open: name not UTF-8", abi.FuncDatasetOpen, []uint32{addrBadUTF, 2, abi.ModeRead, inSlot}, abi.ErrnoInval, nil},
		{"open: name past the end", abi.FuncDatasetOpen, []uint32{memSize - 1, 2, abi.ModeRead, inSlot}, abi.ErrnoFault, nil},
		{"open: huge name length", abi.FuncDatasetOpen, []uint32{addrIn, 0xFFFFFFFF, abi.ModeRead, inSlot}, abi.ErrnoFault, nil},
		{"open: handle_ptr past the end", abi.FuncDatasetOpen, []uint32{addrIn, 2, abi.ModeRead, 0xFFFFFFFE}, abi.ErrnoFault, nil},
		{"open output", abi.FuncDatasetOpen, []uint32{addrOut, 3, abi.ModeWrite, outSlot}, abi.ErrnoSuccess, func(t *testing.T) {
			assert.Equal(t, uint32(2), p.u32(outSlot), "handles are numbered from 1, never reused")
		}},
		{"open output again", abi.FuncDatasetOpen, []uint32{addrOut, 3, abi.ModeWrite, outSlot}, abi.ErrnoBusy, nil},
		{"read", abi.FuncDatasetRead, []uint32{1, addrBuf, 16, nSlot}, abi.ErrnoSuccess, func(t *testing.T) {
			assert.Equal(t, "hello", string(p.bytes(addrBuf, p.u32(nSlot))))
		}},
		{"read at the end", abi.FuncDatasetRead, []uint32{1, addrBuf, 16, nSlot}, abi.ErrnoSuccess, func(t *testing.T) {
			assert.Zero(t, p.u32(nSlot))
		}},
		{"read again at the end", abi.FuncDatasetRead, []uint32{1, addrBuf, 16, nSlot}, abi.ErrnoSuccess, func(t *testing.T) {
			assert.Zero(t, p.u32(nSlot))
		}},
		{"read: zero-length buffer", abi.FuncDatasetRead, []uint32{1, addrBuf, 0, nSlot}, abi.ErrnoInval, nil},
		{"read: buffer past the end", abi.FuncDatasetRead, []uint32{1, memSize - 8, 16, nSlot}, abi.ErrnoFault, nil},
		{"read: n_ptr past the end", abi.FuncDatasetRead, []uint32{1, addrBuf, 16, memSize}, abi.ErrnoFault, nil},
		{"read: an output", abi.FuncDatasetRead, []uint32{2, addrBuf, 16, nSlot}, abi.ErrnoBadf, nil},
		{"read: no such handle", abi.FuncDatasetRead, []uint32{99, addrBuf, 16, nSlot}, abi.ErrnoBadf, nil},
		{"write", abi.FuncDatasetWrite, []uint32{2, addrBuf + 4096, 5, nSlot}, abi.ErrnoSuccess, func(t *testing.T) {
			assert.Equal(t, uint32(5), p.u32(nSlot))
		}},
		{"write nothing", abi.FuncDatasetWrite, []uint32{2, addrBuf, 0, nSlot}, abi.ErrnoSuccess, func(t *testing.T) {
			assert.Zero(t, p.u32(nSlot))
		}},
		{"write: an input", abi.FuncDatasetWrite, []uint32{1, addrBuf, 5, nSlot}, abi.ErrnoBadf, nil},
		{"write: buffer past the end", abi.FuncDatasetWrite, []uint32{2, memSize - 4, 5, nSlot}, abi.ErrnoFault, nil},
		{"write: n_ptr past the end", abi.FuncDatasetWrite, []uint32{2, addrBuf, 5, 0xFFFFFFFF}, abi.ErrnoFault, nil},
		{"close input", abi.FuncDatasetClose, []uint32{1}, abi.ErrnoSuccess, nil},
		{"close input again", abi.FuncDatasetClose, []uint32{1}, abi.ErrnoBadf, nil},
		{"close output", abi.FuncDatasetClose, []uint32{2}, abi.ErrnoSuccess, nil},
		{"reopen closed output", abi.FuncDatasetOpen, []uint32{addrOut, 3, abi.ModeWrite, outSlot}, abi.ErrnoBusy, nil},
		{"reopen input", abi.FuncDatasetOpen, []uint32{addrIn, 2, abi.ModeRead, inSlot}, abi.ErrnoSuccess, func(t *testing.T) {
			assert.Equal(t, uint32(3), p.u32(inSlot))
		}},
		{"fail", abi.FuncTaskFail, []uint32{addrBuf + 4096, 5}, abi.ErrnoSuccess, func(t *testing.T) {
			assert.Equal(t, "world", p.state.FailMessage())
		}},
		{"fail: message past the end", abi.FuncTaskFail, []uint32{memSize - 2, 5}, abi.ErrnoFault, nil},
		{"fail: long message", abi.FuncTaskFail, []uint32{0, memSize}, abi.ErrnoSuccess, func(t *testing.T) {
			msg := p.state.FailMessage()
			assert.LessOrEqual(t, len(msg), abi.MaxFailMessage)
			assert.Greater(t, len(msg), abi.MaxFailMessage-8)
			assert.True(t, utf8.ValidString(msg))
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			assert.Equal(t, s.want, p.call(s.fn, s.args...))
			if s.check != nil {
				s.check(t)
			}
		})
	}
	assert.Contains(t, p.state.Fault(), "task_context: len_ptr [0xfffe, +4) lies outside guest memory (65536 bytes)", "the first fault is kept")
	assert.Equal(t, []string{"z_unused"}, p.state.Missing())
	assert.Equal(t, map[string]hostabi.Output{"out": {Size: 5, SHA256: shaHex("world")}}, p.state.Outputs())
	assert.EqualValues(t, 5, p.state.BytesIn())
	assert.EqualValues(t, 5, p.state.BytesOut())
	require.NoError(t, p.state.Commit(context.Background()))
	assert.Equal(t, map[string]string{"out": "world"}, st.committed)
}

// TestHostParts calls dataset_parts and dataset_open_part through the
// proxy module, in one invocation, and compares every errno and
// out-parameter with docs/abi.md.
func TestHostParts(t *testing.T) {
	st := &mapStorage{
		data:  map[string]string{"in": "whole", "logs/a": "part a", "logs/b/c": "part b/c"},
		parts: map[string][]string{"logs": {"a", "b/c"}},
	}
	p := newProxy(t, context.Background(), st, []string{"in", "logs"}, []string{"days", "out"}, "logs", "days")
	const (
		logs, days, keyA, keyMissing, keyDotDot, keyBackslash, keyD1, text = 300, 310, 320, 330, 340, 350, 360, 400
		keyInD1, keyGH, keyG                                               = 420, 430, 440
		lenSlot, hSlot, nSlot                                              = addrSlot, addrSlot + 4, addrSlot + 8
	)
	for addr, s := range map[uint32]string{logs: "logs", days: "days", keyA: "a", keyMissing: "zz", keyDotDot: "../x",
		keyBackslash: `a\b`, keyD1: "d1", text: "day one", keyInD1: "d1/x", keyGH: "g/h", keyG: "g"} {
		p.put(addr, []byte(s))
	}
	steps := []struct {
		name  string
		fn    string
		args  []uint32
		want  abi.Errno
		check func(t *testing.T)
	}{
		{"context lists what is partitioned", abi.FuncTaskContext, []uint32{addrBuf, 1024, lenSlot}, abi.ErrnoSuccess, func(t *testing.T) {
			var tc abi.TaskContext
			require.NoError(t, json.Unmarshal(p.bytes(addrBuf, p.u32(lenSlot)), &tc))
			assert.Equal(t, []string{"days", "logs"}, tc.Partitioned)
			assert.Empty(t, tc.Part)
		}},
		{"parts: buffer too small", abi.FuncDatasetParts, []uint32{logs, 4, addrBuf, 3, lenSlot}, abi.ErrnoRange, func(t *testing.T) {
			assert.Equal(t, uint32(len("a\nb/c\n")), p.u32(lenSlot))
		}},
		{"parts", abi.FuncDatasetParts, []uint32{logs, 4, addrBuf, 64, lenSlot}, abi.ErrnoSuccess, func(t *testing.T) {
			assert.Equal(t, "a\nb/c\n", string(p.bytes(addrBuf, p.u32(lenSlot))))
		}},
		{"parts: buffer past the end", abi.FuncDatasetParts, []uint32{logs, 4, memSize - 2, 64, lenSlot}, abi.ErrnoFault, nil},
		{"parts: len_ptr past the end", abi.FuncDatasetParts, []uint32{logs, 4, addrBuf, 64, memSize}, abi.ErrnoFault, nil},
		{"parts of a whole input", abi.FuncDatasetParts, []uint32{addrIn, 2, addrBuf, 64, lenSlot}, abi.ErrnoNotPartitioned, func(t *testing.T) {
			assert.Contains(t, p.log.String(), `dataset "in" is not partitioned here (it is one blob); open it with dataset_open`)
		}},
		{"parts of an output", abi.FuncDatasetParts, []uint32{days, 4, addrBuf, 64, lenSlot}, abi.ErrnoAcces, nil},
		{"parts of the undeclared", abi.FuncDatasetParts, []uint32{addrSecret, 6, addrBuf, 64, lenSlot}, abi.ErrnoAcces, nil},
		{"parts: empty name", abi.FuncDatasetParts, []uint32{logs, 0, addrBuf, 64, lenSlot}, abi.ErrnoInval, nil},
		{"open a partitioned input whole", abi.FuncDatasetOpen, []uint32{logs, 4, abi.ModeRead, hSlot}, abi.ErrnoPartitioned, func(t *testing.T) {
			assert.Contains(t, p.log.String(), `dataset "logs" is partitioned; list its parts with dataset_parts and open one with dataset_open_part`)
		}},
		{"open a partitioned output whole", abi.FuncDatasetOpen, []uint32{days, 4, abi.ModeWrite, hSlot}, abi.ErrnoPartitioned, nil},
		{"open a part", abi.FuncDatasetOpenPart, []uint32{logs, 4, keyA, 1, abi.ModeRead, hSlot}, abi.ErrnoSuccess, nil},
		{"read the part", abi.FuncDatasetRead, []uint32{1, addrBuf, 64, nSlot}, abi.ErrnoSuccess, func(t *testing.T) {
			assert.Equal(t, "part a", string(p.bytes(addrBuf, p.u32(nSlot))))
		}},
		{"open a part that is not there", abi.FuncDatasetOpenPart, []uint32{logs, 4, keyMissing, 2, abi.ModeRead, hSlot}, abi.ErrnoNoent, nil},
		{"open a part under a bad key", abi.FuncDatasetOpenPart, []uint32{logs, 4, keyDotDot, 4, abi.ModeRead, hSlot}, abi.ErrnoInval, func(t *testing.T) {
			assert.Contains(t, p.log.String(), `dataset_open_part: input "logs": part "../x": the part key has a segment ".."`)
			assert.NotContains(t, p.log.String(), "fault: dataset_open_part", "a bad key read is refused, not a fault")
		}},
		{"open a part of a whole input", abi.FuncDatasetOpenPart, []uint32{addrIn, 2, keyA, 1, abi.ModeRead, hSlot}, abi.ErrnoNotPartitioned, nil},
		{"open a part: key past the end", abi.FuncDatasetOpenPart, []uint32{logs, 4, memSize - 1, 4, abi.ModeRead, hSlot}, abi.ErrnoFault, nil},
		{"open a part: bad mode", abi.FuncDatasetOpenPart, []uint32{logs, 4, keyA, 1, 9, hSlot}, abi.ErrnoInval, nil},
		{"write a part", abi.FuncDatasetOpenPart, []uint32{days, 4, keyD1, 2, abi.ModeWrite, hSlot}, abi.ErrnoSuccess, func(t *testing.T) {
			assert.Equal(t, uint32(2), p.u32(hSlot))
		}},
		{"write to it", abi.FuncDatasetWrite, []uint32{2, text, 7, nSlot}, abi.ErrnoSuccess, nil},
		{"close it", abi.FuncDatasetClose, []uint32{2}, abi.ErrnoSuccess, nil},
		{"write the part again", abi.FuncDatasetOpenPart, []uint32{days, 4, keyD1, 2, abi.ModeWrite, hSlot}, abi.ErrnoBusy, nil},
		{"write a part of an input", abi.FuncDatasetOpenPart, []uint32{logs, 4, keyD1, 2, abi.ModeWrite, hSlot}, abi.ErrnoAcces, nil},
		{"write a part under a bad key", abi.FuncDatasetOpenPart, []uint32{days, 4, keyBackslash, 3, abi.ModeWrite, hSlot}, abi.ErrnoInval, func(t *testing.T) {
			assert.Contains(t, p.log.String(), `fault: dataset_open_part: output "days": part "a\\b": the part key holds '\'`,
				"writing under a bad key fails the task")
		}},
		{"write a part inside another", abi.FuncDatasetOpenPart, []uint32{days, 4, keyInD1, 4, abi.ModeWrite, hSlot}, abi.ErrnoInval, func(t *testing.T) {
			assert.Contains(t, p.log.String(), `output "days": part "d1/x" would lie inside part "d1", already written; a key may not be the folder of another key`)
		}},
		{"write a part in a folder", abi.FuncDatasetOpenPart, []uint32{days, 4, keyGH, 3, abi.ModeWrite, hSlot}, abi.ErrnoSuccess, nil},
		{"close it too", abi.FuncDatasetClose, []uint32{3}, abi.ErrnoSuccess, nil},
		{"write a part named as that folder", abi.FuncDatasetOpenPart, []uint32{days, 4, keyG, 1, abi.ModeWrite, hSlot}, abi.ErrnoInval, func(t *testing.T) {
			assert.Contains(t, p.log.String(), `output "days": part "g" is the folder of a part already written`)
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			assert.Equal(t, s.want, p.call(s.fn, s.args...))
			if s.check != nil {
				s.check(t)
			}
		})
	}
	assert.Equal(t, []string{"out"}, p.state.Missing())
	assert.Equal(t, map[string]map[string]hostabi.Output{"days": {"d1": {Size: 7, SHA256: shaHex("day one")}, "g/h": {Size: 0, SHA256: shaHex("")}}}, p.state.PartOutputs())
	require.NoError(t, p.state.Commit(context.Background()))
	assert.Equal(t, map[string]string{"days/d1": "day one", "days/g/h": ""}, st.committed)
}

// TestHostMapInvocation checks what the guest of one part of a map task
// sees: the part's key in its context, and its mapped input and outputs
// whole.
func TestHostMapInvocation(t *testing.T) {
	r, cm := proxyRuntime(t)
	var log bytes.Buffer
	state, err := hostabi.NewState(hostabi.Config{Task: "parse", RunID: "r", Inputs: []string{"in"}, Outputs: []string{"out"},
		Part: "2026/12/01.log", Storage: &mapStorage{data: map[string]string{"in": "the part"}}, Log: logcap.New(&log, 1<<20)})
	require.NoError(t, err)
	p := &proxy{tb: t, state: state, ctx: hostabi.WithState(context.Background(), state)}
	p.mod, err = r.wr.InstantiateModule(context.Background(), cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	require.NoError(t, err)
	defer p.mod.Close(context.Background())
	require.Equal(t, abi.ErrnoSuccess, p.call(abi.FuncTaskContext, addrBuf, 1024, addrSlot))
	assert.Equal(t, `{"abi":1,"task":"parse","run_id":"r","inputs":["in"],"outputs":["out"],"part":"2026/12/01.log"}`,
		string(p.bytes(addrBuf, p.u32(addrSlot))))
	assert.Equal(t, abi.ErrnoNotPartitioned, p.call(abi.FuncDatasetParts, addrIn, 2, addrBuf, 64, addrSlot))
	assert.Contains(t, log.String(), `this invocation of a map task sees it as part "2026/12/01.log"`)
	assert.Equal(t, abi.ErrnoSuccess, p.call(abi.FuncDatasetOpen, addrIn, 2, abi.ModeRead, addrSlot))
}

func TestHostHandleLimit(t *testing.T) {
	st := &mapStorage{data: map[string]string{"in": "x"}}
	p := newProxy(t, context.Background(), st, []string{"in"}, nil)
	for i := range abi.MaxHandles {
		require.Equal(t, abi.ErrnoSuccess, p.call(abi.FuncDatasetOpen, addrIn, 2, abi.ModeRead, addrSlot), "open %d", i)
	}
	assert.Equal(t, abi.ErrnoMfile, p.call(abi.FuncDatasetOpen, addrIn, 2, abi.ModeRead, addrSlot))
	require.Equal(t, abi.ErrnoSuccess, p.call(abi.FuncDatasetClose, 5))
	require.Equal(t, abi.ErrnoSuccess, p.call(abi.FuncDatasetOpen, addrIn, 2, abi.ModeRead, addrSlot))
	assert.Equal(t, uint32(abi.MaxHandles+1), p.u32(addrSlot))
	assert.Empty(t, p.state.Fault())
}

func TestHostCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	st := &mapStorage{data: map[string]string{"in": "x"}}
	p := newProxy(t, ctx, st, []string{"in"}, []string{"out"})
	require.Equal(t, abi.ErrnoSuccess, p.call(abi.FuncDatasetOpen, addrIn, 2, abi.ModeRead, addrSlot))
	require.Equal(t, abi.ErrnoSuccess, p.call(abi.FuncDatasetOpen, addrOut, 3, abi.ModeWrite, addrSlot+4))
	cancel()
	assert.Equal(t, abi.ErrnoCanceled, p.call(abi.FuncDatasetOpen, addrIn, 2, abi.ModeRead, addrSlot))
	assert.Equal(t, abi.ErrnoCanceled, p.call(abi.FuncDatasetRead, 1, addrBuf, 16, addrSlot))
	assert.Equal(t, abi.ErrnoCanceled, p.call(abi.FuncDatasetWrite, 2, addrBuf, 16, addrSlot))
	assert.Equal(t, abi.ErrnoCanceled, p.call(abi.FuncDatasetClose, 1))
	assert.Equal(t, abi.ErrnoBadf, p.call(abi.FuncDatasetClose, 1), "released all the same")
	assert.Contains(t, p.log.String(), "invocation stopped (context canceled)")
}

func TestHostStorageFailures(t *testing.T) {
	boom := errors.New("boom")
	t.Run("open", func(t *testing.T) {
		p := newProxy(t, context.Background(), &mapStorage{openErr: boom}, []string{"in"}, nil)
		assert.Equal(t, abi.ErrnoIO, p.call(abi.FuncDatasetOpen, addrIn, 2, abi.ModeRead, addrSlot))
		name, err := p.state.StorageError()
		assert.Equal(t, "in", name)
		assert.ErrorIs(t, err, boom)
	})
	t.Run("no version", func(t *testing.T) {
		p := newProxy(t, context.Background(), &mapStorage{}, []string{"in"}, nil)
		assert.Equal(t, abi.ErrnoNoent, p.call(abi.FuncDatasetOpen, addrIn, 2, abi.ModeRead, addrSlot))
		_, err := p.state.StorageError()
		assert.NoError(t, err, "a missing input is not a storage failure")
	})
	t.Run("stage", func(t *testing.T) {
		p := newProxy(t, context.Background(), &mapStorage{stageErr: boom}, nil, []string{"out"})
		assert.Equal(t, abi.ErrnoIO, p.call(abi.FuncDatasetOpen, addrOut, 3, abi.ModeWrite, addrSlot))
	})
	t.Run("read after some bytes", func(t *testing.T) {
		p := newProxy(t, context.Background(), &mapStorage{data: map[string]string{"in": "abc"}, readErr: boom}, []string{"in"}, nil)
		require.Equal(t, abi.ErrnoSuccess, p.call(abi.FuncDatasetOpen, addrIn, 2, abi.ModeRead, addrSlot))
		h := p.u32(addrSlot)
		assert.Equal(t, abi.ErrnoSuccess, p.call(abi.FuncDatasetRead, h, addrBuf, 16, addrSlot+4))
		assert.Equal(t, "abc", string(p.bytes(addrBuf, p.u32(addrSlot+4))))
		assert.Equal(t, abi.ErrnoIO, p.call(abi.FuncDatasetRead, h, addrBuf, 16, addrSlot+4))
		assert.Equal(t, abi.ErrnoIO, p.call(abi.FuncDatasetRead, h, addrBuf, 16, addrSlot+4), "and every later read")
	})
	t.Run("write", func(t *testing.T) {
		st := &mapStorage{writeErr: boom}
		p := newProxy(t, context.Background(), st, nil, []string{"out"})
		require.Equal(t, abi.ErrnoSuccess, p.call(abi.FuncDatasetOpen, addrOut, 3, abi.ModeWrite, addrSlot))
		h := p.u32(addrSlot)
		assert.Equal(t, abi.ErrnoIO, p.call(abi.FuncDatasetWrite, h, addrBuf, 16, addrSlot+4))
		st.writeErr = nil
		assert.Equal(t, abi.ErrnoIO, p.call(abi.FuncDatasetWrite, h, addrBuf, 16, addrSlot+4), "and every later write")
	})
	t.Run("commit", func(t *testing.T) {
		st := &mapStorage{commitErr: map[string]error{"b": boom}}
		p := newProxy(t, context.Background(), st, nil, []string{"a", "b", "c"})
		p.put(300, []byte("abc"))
		for i := uint32(0); i < 3; i++ {
			require.Equal(t, abi.ErrnoSuccess, p.call(abi.FuncDatasetOpen, 300+i, 1, abi.ModeWrite, addrSlot))
		}
		err := p.state.Commit(context.Background())
		require.ErrorIs(t, err, boom)
		assert.Contains(t, err.Error(), `commit output "b" (outputs already committed: a)`)
		assert.Equal(t, map[string]string{"a": ""}, st.committed, "c is discarded")
	})
}

// TestHostOutsideInvocation calls the host module from a module instantiated
// without invocation state: every call is refused, nothing panics.
func TestHostOutsideInvocation(t *testing.T) {
	r, cm := proxyRuntime(t)
	mod, err := r.wr.InstantiateModule(context.Background(), cm, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	require.NoError(t, err)
	defer mod.Close(context.Background())
	for _, f := range hostFuncs {
		res, err := mod.ExportedFunction("call_"+f.name).Call(context.Background(), make([]uint64, f.params)...)
		require.NoError(t, err)
		assert.Equal(t, uint64(abi.ErrnoBadf), res[0], f.name)
	}
}

// FuzzHostFunctions calls the host functions with arbitrary arguments, in
// arbitrary order. Each 17 bytes of input are one call: a selector byte (the
// function, and whether to fold the arguments into small values, which
// reach valid handles and addresses more often) and four little-endian u32
// arguments. The host must never panic or trap, and must answer with a
// defined errno.
func FuzzHostFunctions(f *testing.F) {
	call := func(sel byte, args ...uint32) []byte {
		b := []byte{sel}
		for i := range 4 {
			var a uint32
			if i < len(args) {
				a = args[i]
			}
			b = binary.LittleEndian.AppendUint32(b, a)
		}
		return b
	}
	cat := func(calls ...[]byte) []byte { return bytes.Join(calls, nil) }
	f.Add(cat(call(0, addrBuf, 1024, addrSlot)))
	f.Add(cat(call(1, addrIn, 2, 0, addrSlot), call(2, 1, addrBuf, 64, addrSlot+4), call(4, 1)))
	f.Add(cat(call(1, addrOut, 3, 1, addrSlot), call(3, 1, addrBuf, 100, addrSlot+4), call(4, 1), call(4, 1)))
	f.Add(cat(call(2, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), call(5, 0xFFFFFFF0, 0x20)))
	f.Add(cat(call(0x81, 70000, 65535, 65535), call(0xC1, 100, 2, 0, 65532)))

	st := &mapStorage{data: map[string]string{"in": strings.Repeat("data", 1000)}}
	f.Fuzz(func(t *testing.T, in []byte) {
		p := newProxy(t, context.Background(), st, []string{"in"}, []string{"out"})
		for ; len(in) >= 17; in = in[17:] {
			sel := in[0]
			fn := hostFuncs[int(sel&0x3f)%len(hostFuncs)]
			args := make([]uint32, fn.params)
			for i := range args {
				a := binary.LittleEndian.Uint32(in[1+4*i:])
				if sel&0x80 != 0 {
					a %= 1 << 17 // around the one page of memory
				}
				if sel&0x40 != 0 && i == 0 {
					a %= 8 // a likely handle
				}
				args[i] = a
			}
			if e := p.call(fn.name, args...); e > abi.ErrnoCanceled {
				t.Fatalf("%s%v returned undefined errno %d", fn.name, args, e)
			}
		}
		require.NoError(t, p.state.Discard(context.Background()))
	})
}

func shaHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
