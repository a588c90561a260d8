// Package memhost is an in-memory Host with the semantics of the Glacier
// runtime: a task reads only its declared inputs, writes only its declared
// outputs, reads and writes a partitioned dataset only part by part, and
// its outputs are kept only if it succeeds. Package tasktest
// runs task functions against it; its tests pin the rules the runtime
// follows (docs/abi.md).
package memhost

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/sdk-guest/internal/host"
)

// Config describes one invocation.
type Config struct {
	Task   string
	RunID  string
	Params map[string]string
	// Inputs holds the declared inputs that have a version.
	Inputs map[string][]byte
	// Missing lists declared inputs without a version.
	Missing []string
	// Outputs lists the declared outputs.
	Outputs []string
	// PartitionedInputs holds the declared partitioned inputs that have a
	// version, each as its parts: key to bytes.
	PartitionedInputs map[string]map[string][]byte
	// MissingPartitioned lists declared partitioned inputs without a
	// version.
	MissingPartitioned []string
	// PartitionedOutputs lists the declared partitioned outputs.
	PartitionedOutputs []string
	// Part is the key of the part a map task's invocation runs over, ""
	// otherwise. It only goes into the task context: the runtime gives
	// the invocation that part as its mapped input, so Inputs holds it.
	Part string
}

// Host serves one invocation from memory. It is safe for concurrent use.
type Host struct {
	context []byte
	inputs  map[string][]byte
	missing map[string]bool
	outputs []string

	partInputs  map[string]map[string][]byte
	partMissing map[string]bool
	partOutputs []string

	mu          sync.Mutex
	handles     map[uint32]*handle
	next        uint32
	staged      map[string]*bytes.Buffer            // outputs opened for writing
	stagedParts map[string]map[string]*bytes.Buffer // parts opened for writing, by output
	partKeys    map[string]*abi.PartKeys            // keys written, by output, none the folder of another
	failMsg     string
	fault       string // the first bad handle, or key written to, the task passed
	finished    bool
	log         lockedBuffer
}

type handle struct {
	name string
	mode uint32
	data []byte // unread rest of an input
	out  *bytes.Buffer
}

var _ host.Host = (*Host)(nil)

// New returns a Host for cfg. It reports a dataset that is declared twice,
// or a dataset name or part key the runtime would refuse.
func New(cfg Config) (*Host, error) {
	h := &Host{
		inputs:      make(map[string][]byte, len(cfg.Inputs)),
		missing:     make(map[string]bool, len(cfg.Missing)),
		partInputs:  make(map[string]map[string][]byte, len(cfg.PartitionedInputs)),
		partMissing: make(map[string]bool, len(cfg.MissingPartitioned)),
		handles:     make(map[uint32]*handle),
		staged:      make(map[string]*bytes.Buffer),
		stagedParts: make(map[string]map[string]*bytes.Buffer),
		next:        1,
	}
	seen := make(map[string]string)
	declare := func(name, as string) error {
		if err := checkName(name); err != nil {
			return fmt.Errorf("%s %q: %w", as, name, err)
		}
		if prev, ok := seen[name]; ok {
			return fmt.Errorf("dataset %q is declared twice (as %s and as %s); declare each dataset once", name, prev, as)
		}
		seen[name] = as
		return nil
	}
	for name, data := range cfg.Inputs {
		if err := declare(name, "input"); err != nil {
			return nil, err
		}
		h.inputs[name] = data
	}
	for _, name := range cfg.Missing {
		if err := declare(name, "missing input"); err != nil {
			return nil, err
		}
		h.missing[name] = true
	}
	for _, name := range cfg.Outputs {
		if err := declare(name, "output"); err != nil {
			return nil, err
		}
		h.outputs = append(h.outputs, name)
	}
	sort.Strings(h.outputs)
	for name, parts := range cfg.PartitionedInputs {
		if err := declare(name, "partitioned input"); err != nil {
			return nil, err
		}
		for key := range parts {
			if err := abi.CheckKey(key); err != nil {
				return nil, fmt.Errorf("partitioned input %q: part %s: %w", name, abi.QuoteKey(key), err)
			}
		}
		h.partInputs[name] = parts
	}
	for _, name := range cfg.MissingPartitioned {
		if err := declare(name, "missing partitioned input"); err != nil {
			return nil, err
		}
		h.partMissing[name] = true
	}
	for _, name := range cfg.PartitionedOutputs {
		if err := declare(name, "partitioned output"); err != nil {
			return nil, err
		}
		h.partOutputs = append(h.partOutputs, name)
	}
	sort.Strings(h.partOutputs)
	if cfg.Part != "" {
		if err := abi.CheckKey(cfg.Part); err != nil {
			return nil, fmt.Errorf("part %s: %w", abi.QuoteKey(cfg.Part), err)
		}
	}

	tc := abi.TaskContext{
		ABI:   abi.Version,
		Task:  cfg.Task,
		RunID: cfg.RunID,
		Part:  cfg.Part,
	}
	if len(cfg.Params) > 0 {
		tc.Params = cfg.Params
	}
	// The context lists a partitioned dataset among the inputs or outputs,
	// and again under partitioned.
	partIns := slices.Concat(slices.Collect(maps.Keys(h.partInputs)), cfg.MissingPartitioned)
	tc.Inputs = slices.Concat(slices.Collect(maps.Keys(h.inputs)), cfg.Missing, partIns)
	tc.Outputs = slices.Concat(h.outputs, h.partOutputs)
	tc.Partitioned = slices.Concat(partIns, h.partOutputs)
	for _, l := range [][]string{tc.Inputs, tc.Outputs, tc.Partitioned} {
		sort.Strings(l)
	}
	var err error
	// As the host encodes it (docs/abi.md): compact, no HTML escaping.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err = enc.Encode(tc); err != nil {
		return nil, fmt.Errorf("encode task context: %w", err)
	}
	h.context = bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	return h, nil
}

// checkName applies the runtime's rules for dataset names.
func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("the dataset name is empty")
	case len(name) > abi.MaxNameLen:
		return fmt.Errorf("the dataset name is %d bytes long, over the limit of %d", len(name), abi.MaxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("the dataset name is not valid UTF-8")
	}
	return nil
}

// TaskContext implements host.Host.
func (h *Host) TaskContext(buf []byte) (int, abi.Errno) {
	if len(buf) < len(h.context) {
		return len(h.context), abi.ErrnoRange
	}
	return copy(buf, h.context), abi.ErrnoSuccess
}

// Open implements host.Host. It checks in the runtime's order: the name
// and mode, the handle limit, then access, then whether the dataset is
// partitioned, then the dataset itself.
func (h *Host) Open(name string, mode uint32) (uint32, abi.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if checkName(name) != nil || (mode != abi.ModeRead && mode != abi.ModeWrite) {
		return 0, abi.ErrnoInval
	}
	if len(h.handles) >= abi.MaxHandles {
		return 0, abi.ErrnoMfile
	}
	hd := &handle{name: name, mode: mode}
	if mode == abi.ModeRead {
		data, ok := h.inputs[name]
		switch {
		case !h.isInput(name):
			return 0, abi.ErrnoAcces
		case h.isPartitioned(name):
			return 0, abi.ErrnoPartitioned
		case !ok:
			return 0, abi.ErrnoNoent
		}
		hd.data = data
	} else {
		switch {
		case !h.isOutput(name):
			return 0, abi.ErrnoAcces
		case h.isPartitioned(name):
			return 0, abi.ErrnoPartitioned
		case h.staged[name] != nil:
			return 0, abi.ErrnoBusy
		}
		hd.out = new(bytes.Buffer)
		h.staged[name] = hd.out
	}
	return h.add(hd), abi.ErrnoSuccess
}

// add opens a handle on hd.
func (h *Host) add(hd *handle) uint32 {
	id := h.next
	h.next++
	h.handles[id] = hd
	return id
}

// isInput reports whether name is a declared input, with a version or not.
func (h *Host) isInput(name string) bool {
	_, whole := h.inputs[name]
	_, parts := h.partInputs[name]
	return whole || parts || h.missing[name] || h.partMissing[name]
}

func (h *Host) isOutput(name string) bool {
	return slices.Contains(h.outputs, name) || slices.Contains(h.partOutputs, name)
}

// isPartitioned reports whether name is a declared partitioned dataset.
func (h *Host) isPartitioned(name string) bool {
	_, ok := h.partInputs[name]
	return ok || h.partMissing[name] || slices.Contains(h.partOutputs, name)
}

// Parts implements host.Host. It checks in the runtime's order: the name,
// access, whether the input is partitioned, its version, then the buffer.
func (h *Host) Parts(name string, buf []byte) (int, abi.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case checkName(name) != nil:
		return 0, abi.ErrnoInval
	case !h.isInput(name):
		return 0, abi.ErrnoAcces
	case !h.isPartitioned(name):
		return 0, abi.ErrnoNotPartitioned
	case h.partMissing[name]:
		return 0, abi.ErrnoNoent
	}
	var list []byte
	for _, key := range slices.Sorted(maps.Keys(h.partInputs[name])) {
		list = append(append(list, key...), '\n')
	}
	if len(buf) < len(list) {
		return len(list), abi.ErrnoRange
	}
	return copy(buf, list), abi.ErrnoSuccess
}

// OpenPart implements host.Host. It checks in the runtime's order: the
// name, mode and key, the handle limit, access, whether the dataset is
// partitioned, then the part itself. Like the runtime, it records a bad key
// written to as a failure of the task: the task has a bug, and what it
// wrote cannot be trusted.
func (h *Host) OpenPart(name, key string, mode uint32) (uint32, abi.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if checkName(name) != nil || (mode != abi.ModeRead && mode != abi.ModeWrite) {
		return 0, abi.ErrnoInval
	}
	if err := abi.CheckKey(key); err != nil {
		if mode == abi.ModeWrite {
			h.faultf("%s: output %q: part %s: %v", abi.FuncDatasetOpenPart, name, abi.QuoteKey(key), err)
		}
		return 0, abi.ErrnoInval
	}
	if len(h.handles) >= abi.MaxHandles {
		return 0, abi.ErrnoMfile
	}
	hd := &handle{name: name, mode: mode}
	if mode == abi.ModeRead {
		data, ok := h.partInputs[name][key]
		switch {
		case !h.isInput(name):
			return 0, abi.ErrnoAcces
		case !h.isPartitioned(name):
			return 0, abi.ErrnoNotPartitioned
		case !ok:
			return 0, abi.ErrnoNoent
		}
		hd.data = data
	} else {
		switch {
		case !h.isOutput(name):
			return 0, abi.ErrnoAcces
		case !h.isPartitioned(name):
			return 0, abi.ErrnoNotPartitioned
		case h.stagedParts[name][key] != nil:
			return 0, abi.ErrnoBusy
		}
		if h.partKeys == nil {
			h.partKeys = map[string]*abi.PartKeys{}
		}
		if h.partKeys[name] == nil {
			h.partKeys[name] = &abi.PartKeys{}
		}
		if err := h.partKeys[name].Add(key); err != nil {
			h.faultf("%s: output %q: %v", abi.FuncDatasetOpenPart, name, err)
			return 0, abi.ErrnoInval
		}
		if h.stagedParts[name] == nil {
			h.stagedParts[name] = make(map[string]*bytes.Buffer)
		}
		hd.out = new(bytes.Buffer)
		h.stagedParts[name][key] = hd.out
	}
	return h.add(hd), abi.ErrnoSuccess
}

// lookup returns the handle if it is open in mode, and records a fault
// otherwise, as the runtime does.
func (h *Host) lookup(fn string, id, mode uint32) *handle {
	hd := h.handles[id]
	switch {
	case hd == nil:
		h.faultf("%s: handle %d is not open", fn, id)
	case hd.mode != mode:
		h.faultf("%s: handle %d is %q, opened in mode %d", fn, id, hd.name, hd.mode)
	default:
		return hd
	}
	return nil
}

func (h *Host) faultf(format string, args ...any) {
	if h.fault == "" {
		h.fault = fmt.Sprintf(format, args...)
	}
}

// Read implements host.Host.
func (h *Host) Read(handle uint32, buf []byte) (int, abi.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hd := h.lookup(abi.FuncDatasetRead, handle, abi.ModeRead)
	switch {
	case hd == nil:
		return 0, abi.ErrnoBadf
	case len(buf) == 0:
		return 0, abi.ErrnoInval
	}
	n := copy(buf, hd.data)
	hd.data = hd.data[n:]
	return n, abi.ErrnoSuccess
}

// Write implements host.Host.
func (h *Host) Write(handle uint32, buf []byte) (int, abi.Errno) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hd := h.lookup(abi.FuncDatasetWrite, handle, abi.ModeWrite)
	if hd == nil {
		return 0, abi.ErrnoBadf
	}
	hd.out.Write(buf)
	return len(buf), abi.ErrnoSuccess
}

// Close implements host.Host.
func (h *Host) Close(handle uint32) abi.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.handles[handle] == nil {
		h.faultf("%s: handle %d is not open", abi.FuncDatasetClose, handle)
		return abi.ErrnoBadf
	}
	delete(h.handles, handle)
	return abi.ErrnoSuccess
}

// Fail implements host.Host. Like the runtime, it keeps at most
// abi.MaxFailMessage bytes, and the last message wins.
func (h *Host) Fail(msg string) abi.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(msg) > abi.MaxFailMessage {
		msg = msg[:abi.MaxFailMessage]
	}
	h.failMsg = strings.ToValidUTF8(msg, "\uFFFD")
	return abi.ErrnoSuccess
}

// Stderr implements host.Host.
func (h *Host) Stderr() io.Writer { return &h.log }

// Log returns everything written to Stderr so far.
func (h *Host) Log() string { return h.log.String() }

// FailMessage returns the message last passed to Fail.
func (h *Host) FailMessage() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failMsg
}

// Finish ends the invocation with the task's exit code, as the runtime does
// when the guest exits. On exit code 0 it closes the handles left open and
// returns every declared output: outs holds the unpartitioned ones, parts
// the partitioned ones, each as the parts the task wrote (key to bytes). It
// fails, and discards all outputs, if the task passed a bad handle or wrote
// under a bad key (whatever its exit code), exited with another code (the
// error is an *ExitError carrying the task_fail message), or left a
// declared output unopened, or a partitioned one without a part. Finish may
// be called once.
func (h *Host) Finish(code int) (outs map[string][]byte, parts map[string]map[string][]byte, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.finished {
		return nil, nil, fmt.Errorf("the invocation already finished")
	}
	h.finished = true
	clear(h.handles)
	staged, stagedParts := h.staged, h.stagedParts
	h.staged, h.stagedParts = nil, nil
	if h.fault != "" {
		return nil, nil, fmt.Errorf("the task passed an invalid argument to the host (%s)", h.fault)
	}
	if code != 0 {
		if h.failMsg != "" {
			return nil, nil, &ExitError{Code: code, Message: h.failMsg}
		}
		return nil, nil, &ExitError{Code: code, Message: fmt.Sprintf("exit code %d", code)}
	}
	var unwritten, noParts []string
	for _, name := range h.outputs {
		if staged[name] == nil {
			unwritten = append(unwritten, name)
		}
	}
	for _, name := range h.partOutputs {
		if len(stagedParts[name]) == 0 {
			noParts = append(noParts, name)
		}
	}
	var problems []string
	if len(unwritten) > 0 {
		problems = append(problems, fmt.Sprintf("did not write its declared output %s (open and close the output even when it is empty, or remove it from the task's outputs)", quoteList(unwritten)))
	}
	if len(noParts) > 0 {
		problems = append(problems, fmt.Sprintf("wrote no part of its declared partitioned output %s (write at least one part, or remove it from the task's outputs)", quoteList(noParts)))
	}
	if len(problems) > 0 {
		return nil, nil, fmt.Errorf("the task succeeded but %s", strings.Join(problems, ", and "))
	}
	outs = make(map[string][]byte, len(staged))
	for name, buf := range staged {
		outs[name] = buf.Bytes()
	}
	parts = make(map[string]map[string][]byte, len(stagedParts))
	for name, bufs := range stagedParts {
		parts[name] = make(map[string][]byte, len(bufs))
		for key, buf := range bufs {
			parts[name][key] = buf.Bytes()
		}
	}
	return outs, parts, nil
}

// ExitError reports a task that exited with a non-zero code.
type ExitError struct {
	Code    int
	Message string // from task_fail, or a description of the exit code
}

// Error returns the exit's message.
func (e *ExitError) Error() string { return e.Message }

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of a task's
// goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
