// Package hostabi implements the glacier_v1 host functions as docs/abi.md
// specifies them (errno order included), and the per-invocation state behind them:
// the declared datasets, the open handles, the staged outputs, and the
// faults and failures the guest caused.
//
// The host module is instantiated once per wazero runtime; each invocation
// passes its *State through the context of the guest call, so any number of
// invocations can share the host module. A State is used by one guest at a
// time: the runtime does not enable Wasm threads, so host functions of one
// instance are never called concurrently.
//
// Every pointer, length and handle from the guest is checked. A bad one gets
// an errno back, a line in the task's log, and is recorded as a fault so the
// task fails even if the guest ignores the errno. Host functions never panic
// on guest input; should one panic all the same (a bug in the host or in a
// storage driver), the panic is recorded as a host bug (State.HostBug), the
// guest is stopped, and the stack trace goes to the host's stderr, never to
// the task's log.
package hostabi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"os"
	"reflect"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/internal/suggest"
	"github.com/glacier-pipeline/glacier/schema"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/wasmrt/internal/logcap"
)

// Config describes one invocation.
type Config struct {
	Task, RunID string
	Params      map[string]string
	// Inputs and Outputs are the declared dataset names.
	Inputs, Outputs []string
	// Storage holds the invocation's datasets; it may be nil if none are
	// declared.
	Storage storage.Datasets
	// Part is the key of the part a map task's invocation runs over; the
	// guest reads it in the task context.
	Part string
	// Partitioned names the declared inputs and outputs the guest reads
	// and writes part by part. Storage must then be a
	// storage.PartedDatasets.
	Partitioned []string
	// SkipDigests leaves outputs unhashed: Output.SHA256 stays empty.
	SkipDigests bool
	// Contracts holds, by output, the contract its bytes are validated
	// against as they are written (every part's, for a partitioned one).
	Contracts map[string]*schema.Contract
	// Log receives fault and access lines.
	Log *logcap.Writer
}

// Output describes one written output.
type Output struct {
	Size   int64
	SHA256 string
}

// State is the host side of one invocation.
type State struct {
	cfg      Config
	taskJSON []byte
	inputs   map[string]bool
	outputs  map[string]*output
	handles  map[uint32]*handle
	next     uint32

	partitioned map[string]bool
	parted      storage.PartedDatasets
	keyLists    map[string][]byte // dataset_parts' answers, made once

	fault       string
	hostBug     string
	storageErr  error
	storageName string
	failMsg     string
	violation   error // the first contract broken, a *schema.Violation
	canceled    bool
	bytesIn     int64
	bytesOut    int64
}

type output struct {
	// parts holds, for a partitioned output, the part written under each
	// key; the output itself is then never staged.
	parts map[string]*output
	// keys are the parts' keys, none the folder of another.
	keys   abi.PartKeys
	staged storage.Staged
	hash   hash.Hash         // nil with Config.SkipDigests
	check  *schema.Validator // nil when the output has no contract
	size   int64
	opened bool
	failed bool // a write failed; later ones fail too
}

type handle struct {
	name    string        // the dataset, and for a part " part " and its key
	r       io.ReadCloser // set for inputs
	out     *output       // set for outputs
	eof     bool
	pending error // a read error to report on the next call
}

// NewState returns the state of a new invocation.
func NewState(cfg Config) (*State, error) {
	in := slices.Clone(cfg.Inputs)
	out := slices.Clone(cfg.Outputs)
	sort.Strings(in)
	sort.Strings(out)
	cfg.Inputs, cfg.Outputs = in, out
	parted := slices.Clone(cfg.Partitioned)
	sort.Strings(parted)
	cfg.Partitioned = parted
	tc, err := encodeTaskContext(abi.TaskContext{
		ABI: abi.Version, Task: cfg.Task, RunID: cfg.RunID,
		Params: cfg.Params, Inputs: in, Outputs: out,
		Part: cfg.Part, Partitioned: parted,
	})
	if err != nil {
		return nil, fmt.Errorf("encode task context: %w", err)
	}
	s := &State{
		cfg:      cfg,
		taskJSON: tc,
		inputs:   make(map[string]bool, len(in)),
		outputs:  make(map[string]*output, len(out)),
		handles:  make(map[uint32]*handle),
		next:     1,
	}
	for _, n := range in {
		s.inputs[n] = true
	}
	for _, n := range out {
		s.outputs[n] = &output{}
	}
	if len(parted) > 0 {
		pd, ok := cfg.Storage.(storage.PartedDatasets)
		if !ok {
			return nil, fmt.Errorf("partitioned datasets %s need a storage.PartedDatasets, not %T", list(parted), cfg.Storage)
		}
		s.parted, s.partitioned, s.keyLists = pd, map[string]bool{}, map[string][]byte{}
		for _, n := range parted {
			o, isOut := s.outputs[n]
			switch {
			case isOut:
				o.parts = map[string]*output{}
			case !s.inputs[n]:
				return nil, fmt.Errorf("partitioned dataset %q is neither an input nor an output", n)
			}
			s.partitioned[n] = true
		}
	}
	return s, nil
}

// encodeTaskContext encodes tc as docs/abi.md specifies: compact JSON, no
// HTML escaping (the guest SDK's test double encodes it the same way).
func encodeTaskContext(tc abi.TaskContext) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tc); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

type stateKey struct{}

// WithState returns a context carrying s, for the guest call.
func WithState(ctx context.Context, s *State) context.Context {
	return context.WithValue(ctx, stateKey{}, s)
}

func stateFrom(ctx context.Context) *State {
	s, _ := ctx.Value(stateKey{}).(*State)
	return s
}

// Fault returns the first fault the guest caused, or "".
func (s *State) Fault() string { return s.fault }

// HostBug returns what the first host function that panicked said, or "".
func (s *State) HostBug() string { return s.hostBug }

// StorageError returns the first storage failure and its dataset, if any.
func (s *State) StorageError() (dataset string, err error) { return s.storageName, s.storageErr }

// Violation returns the first contract an output broke, a
// *schema.Violation, or nil.
func (s *State) Violation() error { return s.violation }

// CheckContracts ends the validation of every output the guest wrote: a
// last record without its line ending, a csv output without its header,
// a json output's value. It records the first violation, for Violation.
// Call it once the guest has exited.
func (s *State) CheckContracts() {
	for _, n := range s.cfg.Outputs {
		o := s.outputs[n]
		if !o.opened {
			continue
		}
		for _, p := range o.stagedParts() {
			if p.check == nil || p.failed {
				continue
			}
			if err := p.check.Close(); err != nil {
				s.violated(err)
				return
			}
		}
	}
}

func (s *State) violated(err error) {
	if s.violation == nil {
		s.violation = err
	}
	s.cfg.Log.Notef("task %q: contract broken: %v; the task fails and nothing is committed", s.cfg.Task, err)
}

// FailMessage returns the last message passed to task_fail, or "".
func (s *State) FailMessage() string { return s.failMsg }

// BytesIn returns the bytes read from inputs.
func (s *State) BytesIn() int64 { return s.bytesIn }

// BytesOut returns the bytes written to outputs.
func (s *State) BytesOut() int64 { return s.bytesOut }

// Missing returns the declared outputs the guest never opened, sorted.
func (s *State) Missing() []string {
	var m []string
	for _, n := range s.cfg.Outputs {
		if !s.outputs[n].opened {
			m = append(m, n)
		}
	}
	return m
}

// Outputs returns the size and SHA-256 (unless Config.SkipDigests) of
// every whole output the guest opened.
func (s *State) Outputs() map[string]Output {
	res := make(map[string]Output)
	for n, o := range s.outputs {
		if o.opened && o.parts == nil {
			res[n] = o.described()
		}
	}
	return res
}

// PartOutputs returns, for each partitioned output, the size and SHA-256
// of every part the guest wrote, by key.
func (s *State) PartOutputs() map[string]map[string]Output {
	res := make(map[string]map[string]Output)
	for n, o := range s.outputs {
		if o.parts == nil {
			continue
		}
		parts := make(map[string]Output, len(o.parts))
		for k, p := range o.parts {
			parts[k] = p.described()
		}
		res[n] = parts
	}
	return res
}

func (o *output) described() Output {
	out := Output{Size: o.size}
	if o.hash != nil {
		out.SHA256 = hex.EncodeToString(o.hash.Sum(nil))
	}
	return out
}

// staged returns o's staged outputs: o itself, or its parts by key.
func (o *output) stagedParts() []*output {
	if o.parts == nil {
		return []*output{o}
	}
	out := make([]*output, 0, len(o.parts))
	for _, k := range slices.Sorted(maps.Keys(o.parts)) {
		out = append(out, o.parts[k])
	}
	return out
}

// CloseHandles closes what the guest left open. Outputs stay staged until
// Commit or Discard.
func (s *State) CloseHandles() {
	for h, hd := range s.handles {
		if hd.r != nil {
			_ = hd.r.Close()
		}
		delete(s.handles, h)
	}
}

// CloseInputs closes the inputs the guest left open. Closing an input is
// where a reader can still fail (one that checks a digest reads the rest),
// so a failure is recorded as a storage error, as during the task.
func (s *State) CloseInputs() {
	for id, hd := range s.handles {
		if hd.r == nil {
			continue
		}
		if err := hd.r.Close(); err != nil {
			s.storageFailed("dataset_close at exit", hd.name, err)
		}
		delete(s.handles, id)
	}
}

// Commit commits every staged output, in name order. If one fails, the rest
// are discarded and the error names what was already committed.
func (s *State) Commit(ctx context.Context) error {
	s.CloseHandles()
	var done []string
	for _, n := range s.cfg.Outputs {
		for _, o := range s.outputs[n].stagedParts() {
			if o.staged == nil {
				continue
			}
			if err := o.staged.Commit(ctx); err != nil {
				o.staged = nil
				_ = s.Discard(context.WithoutCancel(ctx))
				if len(done) > 0 {
					return fmt.Errorf("commit output %q (outputs already committed: %s): %w", n, strings.Join(done, ", "), err)
				}
				return fmt.Errorf("commit output %q: %w", n, err)
			}
			o.staged = nil
		}
		done = append(done, n)
	}
	return nil
}

// Discard drops every staged output and returns the first error.
func (s *State) Discard(ctx context.Context) error {
	s.CloseHandles()
	var first error
	for _, n := range s.cfg.Outputs {
		for _, o := range s.outputs[n].stagedParts() {
			if o.staged == nil {
				continue
			}
			if err := o.staged.Discard(ctx); err != nil && first == nil {
				first = fmt.Errorf("discard output %q: %w", n, err)
			}
			o.staged = nil
		}
	}
	return first
}

// faultf records a fault: the guest broke the ABI, so the task fails
// whatever it does next.
func (s *State) faultf(fn, format string, args ...any) {
	msg := fn + ": " + fmt.Sprintf(format, args...)
	if s.fault == "" {
		s.fault = msg
	}
	s.cfg.Log.Notef("task %q: fault: %s", s.cfg.Task, msg)
}

func (s *State) storageFailed(fn, dataset string, err error) {
	if s.storageErr == nil {
		s.storageErr, s.storageName = err, dataset
	}
	s.cfg.Log.Notef("task %q: %s: storage error on dataset %q: %v", s.cfg.Task, fn, dataset, err)
}

// done reports whether the invocation is being stopped; host calls then
// return ErrnoCanceled.
func (s *State) done(ctx context.Context) bool {
	if ctx.Err() == nil {
		return false
	}
	if !s.canceled {
		s.canceled = true
		s.cfg.Log.Notef("task %q: invocation stopped (%v); host calls now fail", s.cfg.Task, context.Cause(ctx))
	}
	return true
}

// memoryOf returns m's memory, or nil when it has none. wazero then returns
// a nil pointer inside a non-nil interface, which a plain nil check misses.
func memoryOf(m api.Module) api.Memory {
	mem := m.Memory()
	if mem == nil {
		return nil
	}
	if v := reflect.ValueOf(mem); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil
	}
	return mem
}

// errHostBug stops the guest after a host function panicked. It is not a
// runtime.Error, so wazero reports it without the host's stack trace.
type errHostBug struct{ fn string }

func (e errHostBug) Error() string { return "host bug in " + abi.ModuleName + "." + e.fn }

// recovered records a panic in host function fn and stops the guest.
func (s *State) recovered(fn string, p any) {
	msg := fmt.Sprintf("%s: %v", fn, p)
	if s.hostBug == "" {
		s.hostBug = msg
	}
	fmt.Fprintf(os.Stderr, "glacier: host function %s.%s panicked in task %q: %v\n%s", abi.ModuleName, fn, s.cfg.Task, p, debug.Stack())
	s.cfg.Log.Notef("task %q: the host failed in %s (a bug in the host, not the task); the task was stopped", s.cfg.Task, fn)
	panic(errHostBug{fn})
}

// span checks that [ptr, ptr+n) lies in guest memory and returns it. The
// slice aliases guest memory: it is used within the host call and never kept.
func span(mem api.Memory, ptr, n uint32) ([]byte, bool) {
	if mem == nil {
		return nil, false
	}
	return mem.Read(ptr, n)
}

func memSize(mem api.Memory) uint32 {
	if mem == nil {
		return 0
	}
	return mem.Size()
}

func (s *State) badSpan(fn, what string, mem api.Memory, ptr, n uint32) {
	s.faultf(fn, "%s [%#x, +%d) lies outside guest memory (%d bytes)", what, ptr, n, memSize(mem))
}

func (s *State) taskContext(ctx context.Context, mem api.Memory, bufPtr, bufCap, lenPtr uint32) abi.Errno {
	const fn = abi.FuncTaskContext
	if _, ok := span(mem, lenPtr, 4); !ok {
		s.badSpan(fn, "len_ptr", mem, lenPtr, 4)
		return abi.ErrnoFault
	}
	n := uint32(len(s.taskJSON))
	if bufCap < n {
		mem.WriteUint32Le(lenPtr, n)
		return abi.ErrnoRange
	}
	buf, ok := span(mem, bufPtr, bufCap)
	if !ok {
		s.badSpan(fn, "buffer", mem, bufPtr, bufCap)
		return abi.ErrnoFault
	}
	copy(buf, s.taskJSON)
	mem.WriteUint32Le(lenPtr, n)
	return abi.ErrnoSuccess
}

func (s *State) open(ctx context.Context, mem api.Memory, namePtr, nameLen, mode, handlePtr uint32) abi.Errno {
	const fn = abi.FuncDatasetOpen
	nameBytes, e := s.nameArgs(ctx, fn, mem, "handle_ptr", handlePtr, namePtr, nameLen)
	if e != abi.ErrnoSuccess {
		return e
	}
	name, e := s.datasetName(fn, nameBytes)
	if e != abi.ErrnoSuccess {
		return e
	}
	if e := s.modeAndHandles(fn, name, mode); e != abi.ErrnoSuccess {
		return e
	}
	if e := s.access(name, mode); e != abi.ErrnoSuccess {
		return e
	}
	if s.partitioned[name] {
		s.cfg.Log.Notef("task %q: %s: dataset %q is partitioned; list its parts with %s and open one with %s",
			s.cfg.Task, fn, name, abi.FuncDatasetParts, abi.FuncDatasetOpenPart)
		return abi.ErrnoPartitioned
	}

	h := &handle{name: name}
	if mode == abi.ModeRead {
		r, err := s.cfg.Storage.Open(ctx, name)
		if e := s.inputOpened(fn, name, "has no data yet", err); e != abi.ErrnoSuccess {
			return e
		}
		h.r = r
	} else {
		o := s.outputs[name]
		if o.opened {
			s.cfg.Log.Notef("task %q: %s: output %q was already opened; each output is written through one handle", s.cfg.Task, fn, name)
			return abi.ErrnoBusy
		}
		st, err := s.cfg.Storage.Stage(ctx, name)
		if err != nil {
			s.storageFailed(fn, name, err)
			return abi.ErrnoIO
		}
		s.startOutput(name, s.cfg.Part, o, st)
		h.out = o
	}
	s.newHandle(mem, handlePtr, h)
	return abi.ErrnoSuccess
}

// nameArgs checks, in the order docs/abi.md gives, what every function
// that names a dataset takes first: the invocation is live, and its u32
// out-parameter (outName: handle_ptr, len_ptr) and the name lie in guest
// memory. It returns the name's bytes.
func (s *State) nameArgs(ctx context.Context, fn string, mem api.Memory, outName string, outPtr, namePtr, nameLen uint32) ([]byte, abi.Errno) {
	if s.done(ctx) {
		return nil, abi.ErrnoCanceled
	}
	if _, ok := span(mem, outPtr, 4); !ok {
		s.badSpan(fn, outName, mem, outPtr, 4)
		return nil, abi.ErrnoFault
	}
	nameBytes, ok := span(mem, namePtr, nameLen)
	if !ok {
		s.badSpan(fn, "name", mem, namePtr, nameLen)
		return nil, abi.ErrnoFault
	}
	return nameBytes, abi.ErrnoSuccess
}

// inputOpened turns the error of opening input name into an errno: a
// missing version (or part, as missing says) is the guest's to handle, any
// other failure the storage's.
func (s *State) inputOpened(fn, name, missing string, err error) abi.Errno {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		s.cfg.Log.Notef("task %q: input %q %s: %v", s.cfg.Task, name, missing, err)
		return abi.ErrnoNoent
	case err != nil:
		s.storageFailed(fn, name, err)
		return abi.ErrnoIO
	}
	return abi.ErrnoSuccess
}

// datasetName checks a dataset name from the guest.
func (s *State) datasetName(fn string, b []byte) (string, abi.Errno) {
	if len(b) > abi.MaxNameLen {
		s.cfg.Log.Notef("task %q: %s: dataset name of %d bytes is longer than %d", s.cfg.Task, fn, len(b), abi.MaxNameLen)
		return "", abi.ErrnoInval
	}
	if len(b) == 0 || !utf8.Valid(b) {
		s.cfg.Log.Notef("task %q: %s: dataset name %q is empty or not UTF-8", s.cfg.Task, fn, b)
		return "", abi.ErrnoInval
	}
	return string(b), abi.ErrnoSuccess
}

// modeAndHandles checks an open's mode, then that a handle is free.
func (s *State) modeAndHandles(fn, name string, mode uint32) abi.Errno {
	if mode != abi.ModeRead && mode != abi.ModeWrite {
		s.cfg.Log.Notef("task %q: %s: dataset %q: bad mode %d (want %d to read or %d to write)", s.cfg.Task, fn, name, mode, abi.ModeRead, abi.ModeWrite)
		return abi.ErrnoInval
	}
	if len(s.handles) >= abi.MaxHandles || s.next == 0 {
		s.cfg.Log.Notef("task %q: %s: dataset %q: %d handles already open; close some first", s.cfg.Task, fn, name, len(s.handles))
		return abi.ErrnoMfile
	}
	return abi.ErrnoSuccess
}

// access checks that name is declared for reading (mode ModeRead) or
// writing.
func (s *State) access(name string, mode uint32) abi.Errno {
	if mode == abi.ModeRead && !s.inputs[name] {
		s.cfg.Log.Notef("task %q: access denied: %q is not a declared input, so it cannot be read (inputs: %s)%s; declare it in the task's inputs",
			s.cfg.Task, name, list(s.cfg.Inputs), suggest.DidYouMean(name, s.cfg.Inputs))
		return abi.ErrnoAcces
	}
	if _, declared := s.outputs[name]; mode == abi.ModeWrite && !declared {
		s.cfg.Log.Notef("task %q: access denied: %q is not a declared output, so it cannot be written (outputs: %s)%s; declare it in the task's outputs",
			s.cfg.Task, name, list(s.cfg.Outputs), suggest.DidYouMean(name, s.cfg.Outputs))
		return abi.ErrnoAcces
	}
	return abi.ErrnoSuccess
}

func (s *State) startOutput(name, part string, o *output, st storage.Staged) {
	o.staged, o.opened = st, true
	if !s.cfg.SkipDigests {
		o.hash = sha256.New()
	}
	if c := s.cfg.Contracts[name]; c != nil {
		o.check = c.NewPartValidator(name, part)
	}
}

func (s *State) newHandle(mem api.Memory, handlePtr uint32, h *handle) {
	id := s.next
	s.next++
	s.handles[id] = h
	mem.WriteUint32Le(handlePtr, id)
}

// notPartitioned refuses a part call on a dataset the guest sees whole.
func (s *State) notPartitioned(fn, name string) abi.Errno {
	why := "it is one blob"
	if s.cfg.Part != "" {
		why = fmt.Sprintf("this invocation of a map task sees it as part %q", s.cfg.Part)
	}
	s.cfg.Log.Notef("task %q: %s: dataset %q is not partitioned here (%s); open it with %s", s.cfg.Task, fn, name, why, abi.FuncDatasetOpen)
	return abi.ErrnoNotPartitioned
}

func (s *State) parts(ctx context.Context, mem api.Memory, namePtr, nameLen, bufPtr, bufCap, lenPtr uint32) abi.Errno {
	const fn = abi.FuncDatasetParts
	nameBytes, e := s.nameArgs(ctx, fn, mem, "len_ptr", lenPtr, namePtr, nameLen)
	if e != abi.ErrnoSuccess {
		return e
	}
	name, e := s.datasetName(fn, nameBytes)
	if e != abi.ErrnoSuccess {
		return e
	}
	if e := s.access(name, abi.ModeRead); e != abi.ErrnoSuccess {
		return e
	}
	if !s.partitioned[name] {
		return s.notPartitioned(fn, name)
	}
	keys, ok := s.keyLists[name]
	if !ok {
		list, err := s.parted.PartKeys(ctx, name)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			s.cfg.Log.Notef("task %q: input %q has no data yet: %v", s.cfg.Task, name, err)
			return abi.ErrnoNoent
		case err != nil:
			s.storageFailed(fn, name, err)
			return abi.ErrnoIO
		}
		var b []byte
		for _, k := range list {
			b = append(append(b, k...), '\n')
		}
		s.keyLists[name], keys = b, b
	}
	n := uint32(len(keys))
	if bufCap < n {
		mem.WriteUint32Le(lenPtr, n)
		return abi.ErrnoRange
	}
	buf, ok := span(mem, bufPtr, bufCap)
	if !ok {
		s.badSpan(fn, "buffer", mem, bufPtr, bufCap)
		return abi.ErrnoFault
	}
	copy(buf, keys)
	mem.WriteUint32Le(lenPtr, n)
	return abi.ErrnoSuccess
}

func (s *State) openPart(ctx context.Context, mem api.Memory, namePtr, nameLen, keyPtr, keyLen, mode, handlePtr uint32) abi.Errno {
	const fn = abi.FuncDatasetOpenPart
	nameBytes, e := s.nameArgs(ctx, fn, mem, "handle_ptr", handlePtr, namePtr, nameLen)
	if e != abi.ErrnoSuccess {
		return e
	}
	keyBytes, ok := span(mem, keyPtr, keyLen)
	if !ok {
		s.badSpan(fn, "key", mem, keyPtr, keyLen)
		return abi.ErrnoFault
	}
	name, e := s.datasetName(fn, nameBytes)
	if e != abi.ErrnoSuccess {
		return e
	}
	if mode != abi.ModeRead && mode != abi.ModeWrite {
		return s.modeAndHandles(fn, name, mode)
	}
	key := string(keyBytes)
	if err := abi.CheckKey(key); err != nil {
		if mode == abi.ModeWrite {
			s.faultf(fn, "output %q: part %s: %v", name, abi.QuoteKey(key), err)
		} else {
			s.cfg.Log.Notef("task %q: %s: input %q: part %s: %v", s.cfg.Task, fn, name, abi.QuoteKey(key), err)
		}
		return abi.ErrnoInval
	}
	if e := s.modeAndHandles(fn, name, mode); e != abi.ErrnoSuccess {
		return e
	}
	if e := s.access(name, mode); e != abi.ErrnoSuccess {
		return e
	}
	if !s.partitioned[name] {
		return s.notPartitioned(fn, name)
	}
	h := &handle{name: fmt.Sprintf("%s part %q", name, key)}
	if mode == abi.ModeRead {
		r, err := s.parted.OpenPart(ctx, name, key)
		if e := s.inputOpened(fn, name, fmt.Sprintf("has no part %q", key), err); e != abi.ErrnoSuccess {
			return e
		}
		h.r = r
	} else {
		o := s.outputs[name]
		if _, busy := o.parts[key]; busy {
			s.cfg.Log.Notef("task %q: %s: part %q of output %q was already opened; each part is written through one handle", s.cfg.Task, fn, key, name)
			return abi.ErrnoBusy
		}
		if err := o.keys.Add(key); err != nil {
			s.faultf(fn, "output %q: %v", name, err)
			return abi.ErrnoInval
		}
		st, err := s.parted.StagePart(ctx, name, key)
		if err != nil {
			s.storageFailed(fn, name, err)
			return abi.ErrnoIO
		}
		p := &output{}
		s.startOutput(name, key, p, st)
		o.parts[key], o.opened = p, true
		h.out = p
	}
	s.newHandle(mem, handlePtr, h)
	return abi.ErrnoSuccess
}

// transfer checks, in this order, what read and write both need: the
// invocation is live, handle id is open in the wanted direction, and n_ptr
// and the buffer lie in guest memory. It returns the handle and the buffer.
func (s *State) transfer(ctx context.Context, fn string, mem api.Memory, id uint32, write bool, bufPtr, bufLen, nPtr uint32) (*handle, []byte, abi.Errno) {
	if s.done(ctx) {
		return nil, nil, abi.ErrnoCanceled
	}
	h := s.handles[id]
	switch {
	case h == nil:
		s.faultf(fn, "handle %d is not open", id)
		return nil, nil, abi.ErrnoBadf
	case write && h.out == nil:
		s.faultf(fn, "handle %d is input %q, opened for reading", id, h.name)
		return nil, nil, abi.ErrnoBadf
	case !write && h.r == nil:
		s.faultf(fn, "handle %d is output %q, opened for writing", id, h.name)
		return nil, nil, abi.ErrnoBadf
	}
	if _, ok := span(mem, nPtr, 4); !ok {
		s.badSpan(fn, "n_ptr", mem, nPtr, 4)
		return nil, nil, abi.ErrnoFault
	}
	buf, ok := span(mem, bufPtr, bufLen)
	if !ok {
		s.badSpan(fn, "buffer", mem, bufPtr, bufLen)
		return nil, nil, abi.ErrnoFault
	}
	return h, buf, abi.ErrnoSuccess
}

// maxEmptyReads bounds how often read retries a reader returning 0, nil.
const maxEmptyReads = 100

func (s *State) read(ctx context.Context, mem api.Memory, id, bufPtr, bufLen, nPtr uint32) abi.Errno {
	const fn = abi.FuncDatasetRead
	h, buf, e := s.transfer(ctx, fn, mem, id, false, bufPtr, bufLen, nPtr)
	if e != abi.ErrnoSuccess {
		return e
	}
	if bufLen == 0 {
		s.cfg.Log.Notef("task %q: %s: input %q: zero-length buffer", s.cfg.Task, fn, h.name)
		return abi.ErrnoInval
	}
	if h.pending != nil {
		return abi.ErrnoIO
	}
	var n int
	if !h.eof {
		var err error
		for tries := 0; n == 0 && err == nil; tries++ {
			if tries == maxEmptyReads {
				err = io.ErrNoProgress
				break
			}
			n, err = h.r.Read(buf)
		}
		switch {
		case err == io.EOF:
			h.eof = true
		case err != nil:
			if n == 0 {
				h.pending = err
				s.storageFailed(fn, h.name, err)
				return abi.ErrnoIO
			}
			// Deliver what arrived; the error comes with the next call.
			h.pending = err
			s.storageFailed(fn, h.name, err)
		}
	}
	s.bytesIn += int64(n)
	mem.WriteUint32Le(nPtr, uint32(n))
	return abi.ErrnoSuccess
}

func (s *State) write(ctx context.Context, mem api.Memory, id, bufPtr, bufLen, nPtr uint32) abi.Errno {
	const fn = abi.FuncDatasetWrite
	h, buf, e := s.transfer(ctx, fn, mem, id, true, bufPtr, bufLen, nPtr)
	if e != abi.ErrnoSuccess {
		return e
	}
	o := h.out
	if o.failed || o.staged == nil {
		return abi.ErrnoIO // an earlier write failed; the reason is recorded
	}
	if o.check != nil {
		if _, err := o.check.Write(buf); err != nil {
			// The bytes go no further: nothing after a violation is kept.
			o.failed = true
			s.violated(err)
			return abi.ErrnoIO
		}
	}
	n, err := o.staged.Write(buf)
	if err == nil && n != len(buf) {
		err = io.ErrShortWrite
	}
	if n > 0 {
		if o.hash != nil {
			o.hash.Write(buf[:n])
		}
		o.size += int64(n)
		s.bytesOut += int64(n)
	}
	if err != nil {
		o.failed = true
		s.storageFailed(fn, h.name, err)
		return abi.ErrnoIO
	}
	mem.WriteUint32Le(nPtr, uint32(n))
	return abi.ErrnoSuccess
}

func (s *State) close(ctx context.Context, id uint32) abi.Errno {
	const fn = abi.FuncDatasetClose
	h := s.handles[id]
	if h == nil {
		s.faultf(fn, "handle %d is not open", id)
		return abi.ErrnoBadf
	}
	delete(s.handles, id)
	if h.r != nil {
		if err := h.r.Close(); err != nil {
			s.storageFailed(fn, h.name, err)
			return abi.ErrnoIO
		}
	}
	if s.done(ctx) {
		return abi.ErrnoCanceled
	}
	return abi.ErrnoSuccess
}

func (s *State) fail(mem api.Memory, msgPtr, msgLen uint32) abi.Errno {
	const fn = abi.FuncTaskFail
	msg, ok := span(mem, msgPtr, msgLen)
	if !ok {
		s.badSpan(fn, "message", mem, msgPtr, msgLen)
		return abi.ErrnoFault
	}
	if len(msg) > abi.MaxFailMessage {
		msg = msg[:abi.MaxFailMessage]
	}
	text := strings.ToValidUTF8(string(msg), "\uFFFD")
	for len(text) > abi.MaxFailMessage { // replacements can lengthen it
		_, size := utf8.DecodeLastRuneInString(text)
		text = text[:len(text)-size]
	}
	s.failMsg = text
	return abi.ErrnoSuccess
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Instantiate registers the glacier_v1 host module in r. Functions are
// GoModuleFunc, not reflective, so a call costs about 0.1µs.
func Instantiate(ctx context.Context, r wazero.Runtime) error {
	b := r.NewHostModuleBuilder(abi.ModuleName)
	// noState answers a call made outside an invocation, which only a
	// module instantiated by something other than wasmrt can make.
	const noState = uint64(abi.ErrnoBadf)
	// def exports call as name. call reads its arguments from st and
	// returns the errno, which def stores as the one result.
	def := func(name string, call func(ctx context.Context, s *State, mem api.Memory, st []uint64) abi.Errno, params ...string) {
		fn := api.GoModuleFunc(func(ctx context.Context, m api.Module, st []uint64) {
			s := stateFrom(ctx)
			if s == nil {
				st[0] = noState
				return
			}
			defer func() {
				if p := recover(); p != nil {
					s.recovered(name, p)
				}
			}()
			st[0] = uint64(call(ctx, s, memoryOf(m), st))
		})
		types := make([]api.ValueType, len(params))
		for i := range types {
			types[i] = api.ValueTypeI32
		}
		b.NewFunctionBuilder().
			WithGoModuleFunction(fn, types, []api.ValueType{api.ValueTypeI32}).
			WithParameterNames(params...).
			WithResultNames("errno").
			Export(name)
	}
	u32 := func(v uint64) uint32 { return api.DecodeU32(v) }

	def(abi.FuncTaskContext, func(ctx context.Context, s *State, mem api.Memory, st []uint64) abi.Errno {
		return s.taskContext(ctx, mem, u32(st[0]), u32(st[1]), u32(st[2]))
	}, "buf_ptr", "buf_cap", "len_ptr")
	def(abi.FuncDatasetOpen, func(ctx context.Context, s *State, mem api.Memory, st []uint64) abi.Errno {
		return s.open(ctx, mem, u32(st[0]), u32(st[1]), u32(st[2]), u32(st[3]))
	}, "name_ptr", "name_len", "mode", "handle_ptr")
	def(abi.FuncDatasetRead, func(ctx context.Context, s *State, mem api.Memory, st []uint64) abi.Errno {
		return s.read(ctx, mem, u32(st[0]), u32(st[1]), u32(st[2]), u32(st[3]))
	}, "handle", "buf_ptr", "buf_len", "n_ptr")
	def(abi.FuncDatasetWrite, func(ctx context.Context, s *State, mem api.Memory, st []uint64) abi.Errno {
		return s.write(ctx, mem, u32(st[0]), u32(st[1]), u32(st[2]), u32(st[3]))
	}, "handle", "buf_ptr", "buf_len", "n_ptr")
	def(abi.FuncDatasetClose, func(ctx context.Context, s *State, _ api.Memory, st []uint64) abi.Errno {
		return s.close(ctx, u32(st[0]))
	}, "handle")
	def(abi.FuncTaskFail, func(_ context.Context, s *State, mem api.Memory, st []uint64) abi.Errno {
		return s.fail(mem, u32(st[0]), u32(st[1]))
	}, "msg_ptr", "msg_len")
	def(abi.FuncDatasetParts, func(ctx context.Context, s *State, mem api.Memory, st []uint64) abi.Errno {
		return s.parts(ctx, mem, u32(st[0]), u32(st[1]), u32(st[2]), u32(st[3]), u32(st[4]))
	}, "name_ptr", "name_len", "buf_ptr", "buf_cap", "len_ptr")
	def(abi.FuncDatasetOpenPart, func(ctx context.Context, s *State, mem api.Memory, st []uint64) abi.Errno {
		return s.openPart(ctx, mem, u32(st[0]), u32(st[1]), u32(st[2]), u32(st[3]), u32(st[4]), u32(st[5]))
	}, "name_ptr", "name_len", "key_ptr", "key_len", "mode", "handle_ptr")

	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("instantiate %s host module: %w", abi.ModuleName, err)
	}
	return nil
}
