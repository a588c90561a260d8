package task

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"unicode/utf8"

	"github.com/glacier-pipeline/glacier/abi"
)

// bufSize is the largest buffer an open dataset streams through. Each host
// call moves up to this much, so per-call costs stay negligible next to
// copying the bytes, while a task holding many datasets open stays small.
// Buffers start at minBufSize and double while the data keeps filling them,
// so a small dataset costs a small buffer: a task's memory is cleared after
// it runs, and every byte it grew by counts.
const (
	bufSize    = 256 << 10
	minBufSize = 8 << 10
)

// nextBufSize returns the size of the buffer after one of n bytes filled up.
func nextBufSize(n int) int {
	return min(max(2*n, minBufSize), bufSize)
}

// Input opens the declared input dataset name for reading. The bytes stream
// from the host through a buffer as the task reads; the dataset is never
// loaded whole. The reader is not safe for concurrent use; close it when
// done (Run closes it otherwise).
//
// Opening a dataset that is not among the task's inputs in glacier.yaml
// fails with an error that says so. If the input has no version yet (no
// source and its producer has not run), the error matches abi.ErrnoNoent
// with errors.Is; every error from the host matches its abi.Errno. A
// partitioned input (see Partitioned) is read part by part, with Parts and
// InputPart.
func (c *Context) Input(name string) (io.ReadCloser, error) {
	return c.openReader(target{mode: abi.ModeRead, name: name}, c.openWhole)
}

// Output opens the declared output dataset name for writing. Writes are
// buffered and streamed to the host, which stages them; the runtime commits
// them only when the whole task succeeds, and discards them otherwise. Each
// output can be opened once. The writer is not safe for concurrent use.
//
// Close the writer and check its error to learn that every byte reached the
// host; Run closes writers left open, and fails the task if that fails.
// A partitioned output (see Partitioned) is written part by part, with
// OutputPart.
func (c *Context) Output(name string) (io.WriteCloser, error) {
	return c.openWriter(target{mode: abi.ModeWrite, name: name}, c.openWhole)
}

// target is what a task opens: a whole dataset, or one part of a
// partitioned one.
type target struct {
	mode uint32
	name string
	key  string
	part bool // key names a part, even when it is empty
}

// String names the target in a message: input "raw", or
// part "2026-12-01.log" of input "logs".
func (t target) String() string {
	if !t.part {
		return fmt.Sprintf("%s %q", kindOf(t.mode), t.name)
	}
	return fmt.Sprintf("part %s of %s %q", abi.QuoteKey(t.key), kindOf(t.mode), t.name)
}

// An opener asks the host for a handle on t: openWhole, or openPart in
// parts.go. Whole datasets and parts take separate paths so that a task
// that never works part by part does not link the host's part functions:
// its module then does not import them, and runs on a runtime that
// predates them.
type opener func(t target) (uint32, error)

func (c *Context) openReader(t target, open opener) (io.ReadCloser, error) {
	h, err := open(t)
	if err != nil {
		return nil, err
	}
	r := &reader{c: c, what: t.String(), h: h}
	c.track(h, r)
	return r, nil
}

func (c *Context) openWriter(t target, open opener) (io.WriteCloser, error) {
	h, err := open(t)
	if err != nil {
		return nil, err
	}
	w := &writer{c: c, what: t.String(), h: h}
	c.mu.Lock()
	c.opened[t.name] = true // one part is enough for a partitioned output
	c.mu.Unlock()
	c.track(h, w)
	return w, nil
}

func (c *Context) openWhole(t target) (uint32, error) {
	if err := checkName(t.name); err != nil {
		return 0, &datasetError{errno: abi.ErrnoInval, msg: fmt.Sprintf("task: open %s: %v", t, err)}
	}
	h, e := c.h.Open(t.name, t.mode)
	if e != abi.ErrnoSuccess {
		return 0, c.openError(t, e, "")
	}
	return h, nil
}

func kindOf(mode uint32) string {
	if mode == abi.ModeWrite {
		return "output"
	}
	return "input"
}

// checkName applies the ABI's rules for dataset names before asking the
// host, so the message can say what is wrong.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("the dataset name is empty")
	case len(name) > abi.MaxNameLen:
		return fmt.Errorf("the dataset name is %d bytes long, over the limit of %d", len(name), abi.MaxNameLen)
	case !utf8.ValidString(name):
		return errors.New("the dataset name is not valid UTF-8")
	}
	return nil
}

// datasetError is an error about one dataset; it matches its abi.Errno with
// errors.Is, and its message says what to do.
type datasetError struct {
	errno abi.Errno
	msg   string
}

func (e *datasetError) Error() string { return e.msg }
func (e *datasetError) Unwrap() error { return e.errno }

// noVersion says what to do about an input that has no version.
const noVersion = "the dataset has no version yet; give it a source: in glacier.yaml, or run the task that produces it first"

// openError describes a refused open of t. why, if not empty, is the
// reason, which the caller knows better than the errno says.
func (c *Context) openError(t target, e abi.Errno, why string) error {
	if why != "" {
		return &datasetError{errno: e, msg: fmt.Sprintf("task: open %s: %s", t, why)}
	}
	switch e {
	case abi.ErrnoAcces:
		why = c.accessHint(t.name, t.mode)
	case abi.ErrnoNoent:
		why = noVersion
	case abi.ErrnoBusy:
		why = fmt.Sprintf("task %q already opened this output; open each output once and write it through one writer", c.tc.Task)
		if t.part {
			why = fmt.Sprintf("task %q already opened this part; open each part of an output once and write it through one writer", c.tc.Task)
		}
	case abi.ErrnoMfile:
		why = fmt.Sprintf("the task already holds %d datasets open, the most allowed; close the ones it is done with", abi.MaxHandles)
	case abi.ErrnoInval:
		why = "the runtime refused the dataset name"
		if t.part {
			why = "the runtime refused the dataset name or the part key"
		}
	case abi.ErrnoPartitioned:
		why = "the dataset is partitioned; list its parts with Parts and open each with InputPart"
		if t.mode == abi.ModeWrite {
			why = "the dataset is partitioned; write each of its parts with OutputPart"
		}
	case abi.ErrnoNotPartitioned:
		why = c.notPartitionedHint(t.mode)
	default:
		return c.hostError("open", t.String(), e)
	}
	return &datasetError{errno: e, msg: fmt.Sprintf("task: open %s: %s", t, why)}
}

// notPartitionedHint explains ErrnoNotPartitioned from a part function.
func (c *Context) notPartitionedHint(mode uint32) string {
	open := "Input"
	if mode == abi.ModeWrite {
		open = "Output"
	}
	why := "the dataset is not partitioned; open it whole with " + open
	if c.tc.Part != "" {
		// The likeliest cause: a map task treating its mapped input as the
		// whole partitioned dataset.
		why += fmt.Sprintf(" (this invocation of map task %q runs over part %s: its mapped input and its outputs are that one part)", c.tc.Task, abi.QuoteKey(c.tc.Part))
	}
	return why
}

func (c *Context) accessHint(name string, mode uint32) string {
	declared, other, key := c.tc.Inputs, c.tc.Outputs, "inputs"
	if mode == abi.ModeWrite {
		declared, other, key = other, declared, "outputs"
	}
	for _, o := range other {
		if o == name {
			if mode == abi.ModeWrite {
				return fmt.Sprintf("it is an input of task %q, and a task cannot write its inputs; write a new dataset and list it under outputs: in glacier.yaml", c.tc.Task)
			}
			return fmt.Sprintf("it is an output of task %q, and a task cannot read its own outputs; read it in a task that lists it under inputs: in glacier.yaml", c.tc.Task)
		}
	}
	list := "none"
	if len(declared) > 0 {
		list = strings.Join(declared, ", ")
	}
	if near := closest(name, declared); near != "" {
		return fmt.Sprintf("not a declared %s of task %q (%s: %s); did you mean %q? If not, add %q to %s: in glacier.yaml",
			kindOf(mode), c.tc.Task, key, list, near, name, key)
	}
	return fmt.Sprintf("not a declared %s of task %q (%s: %s); add it to %s: in glacier.yaml",
		kindOf(mode), c.tc.Task, key, list, key)
}

// closest returns the name in names within two edits of s (a third of it,
// for long names), or "". The host has the same function; the SDK keeps
// its own copy so that a task depends on nothing but the standard library.
func closest(s string, names []string) string {
	limit := max(2, len(s)/3)
	best, bestD := "", limit+1
	for _, n := range names {
		if d := distance(s, n); d < bestD && d < len(s) {
			best, bestD = n, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// hostError describes a failure of the host under a dataset, and remembers
// it: such a failure fails the task even if the task function ignores the
// error, so an output computed from a partial read, or only partly written,
// is never committed.
func (c *Context) hostError(op, what string, e abi.Errno) error {
	why := e.Error()
	switch e {
	case abi.ErrnoIO:
		why = "the storage behind the dataset failed"
	case abi.ErrnoCanceled:
		why = "the invocation is being stopped (timeout or cancellation)"
	case abi.ErrnoBadf:
		why = "the runtime does not know the handle (bad handle)"
	}
	return c.remember(&datasetError{errno: e, msg: fmt.Sprintf("task: %s %s: %s", op, what, why)})
}

// remember keeps the first failure of the host, for Run to fail the task.
func (c *Context) remember(err error) error {
	c.mu.Lock()
	if c.hostErr == nil {
		c.hostErr = err
	}
	c.mu.Unlock()
	return err
}

// reader streams an input, or a part of one, through a buffer.
type reader struct {
	c    *Context
	what string // the input or part, as target.String names it
	h    uint32

	buf    []byte // allocated on the first small read
	full   bool   // the last fill filled buf: grow it before the next
	r, w   int    // unread bytes are buf[r:w]
	err    error  // sticky: io.EOF or the first failure
	closed bool
}

// fill reads once from the host into p.
func (r *reader) fill(p []byte) int {
	n, e := r.c.h.Read(r.h, p)
	switch {
	case e != abi.ErrnoSuccess:
		r.err = r.c.hostError("read", r.what, e)
		return 0
	case n > len(p):
		r.err = r.c.remember(fmt.Errorf("task: read %s: the runtime reported %d bytes read into a %d-byte buffer", r.what, n, len(p)))
		return 0
	case n == 0:
		r.err = io.EOF
	}
	return n
}

func (r *reader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, r.closedError()
	}
	if r.r < r.w {
		n := copy(p, r.buf[r.r:r.w])
		r.r += n
		return n, nil
	}
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if len(p) >= max(len(r.buf), minBufSize) {
		// Reads as large as the buffer go straight to the caller's.
		n := r.fill(p)
		if n > 0 {
			return n, nil
		}
		return 0, r.err
	}
	r.grow()
	r.r, r.w = 0, r.fill(r.buf)
	r.full = r.w == len(r.buf)
	n := copy(p, r.buf[:r.w])
	r.r = n
	if n > 0 {
		return n, nil
	}
	return 0, r.err
}

// WriteTo streams the rest of the input to w without an extra copy, so
// io.Copy(out, in) moves a dataset in large chunks.
func (r *reader) WriteTo(w io.Writer) (int64, error) {
	if r.closed {
		return 0, r.closedError()
	}
	var total int64
	if r.r < r.w {
		n, err := w.Write(r.buf[r.r:r.w])
		r.r += n
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	for r.err == nil {
		r.grow()
		n := r.fill(r.buf)
		r.r, r.w = 0, 0
		r.full = n == len(r.buf)
		if n == 0 {
			break
		}
		m, err := w.Write(r.buf[:n])
		total += int64(m)
		if err != nil {
			return total, err
		}
	}
	if r.err == io.EOF {
		return total, nil
	}
	return total, r.err
}

// grow allocates the buffer, or a larger one if the last fill filled it;
// it is called only when no unread bytes are buffered.
func (r *reader) grow() {
	switch {
	case r.buf == nil:
		r.buf = make([]byte, minBufSize)
	case r.full && len(r.buf) < bufSize:
		r.buf = make([]byte, nextBufSize(len(r.buf)))
	}
	r.full = false
}

func (r *reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.buf = nil
	r.c.untrack(r.h)
	if e := r.c.h.Close(r.h); e != abi.ErrnoSuccess {
		return r.c.hostError("close", r.what, e)
	}
	return nil
}

func (r *reader) closedError() error {
	return fmt.Errorf("task: read %s: %w", r.what, fs.ErrClosed)
}

// writer buffers an output, or a part of one, and streams it to the host.
type writer struct {
	c    *Context
	what string // the output or part, as target.String names it
	h    uint32

	buf    []byte // pending bytes; its capacity grows up to bufSize
	err    error  // sticky: the first failure
	closed bool
}

// send passes p to the host, in as many calls as it takes.
func (w *writer) send(p []byte) error {
	for len(p) > 0 {
		n, e := w.c.h.Write(w.h, p)
		switch {
		case e != abi.ErrnoSuccess:
			w.err = w.c.hostError("write", w.what, e)
		case n == 0 || n > len(p):
			w.err = w.c.remember(fmt.Errorf("task: write %s: the runtime reported %d bytes written of %d", w.what, n, len(p)))
		}
		if w.err != nil {
			return w.err
		}
		p = p[n:]
	}
	return nil
}

func (w *writer) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.send(w.buf)
	w.buf = w.buf[:0]
	return err
}

func (w *writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, w.closedError()
	}
	if w.err != nil {
		return 0, w.err
	}
	if need := len(w.buf) + len(p); need > cap(w.buf) {
		if cap(w.buf) < bufSize && len(p) < bufSize {
			w.grow(need)
		}
		if need > cap(w.buf) {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	if len(p) >= bufSize {
		// Large writes go straight to the host.
		if err := w.send(p); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// grow enlarges the buffer towards need bytes, up to bufSize, keeping the
// pending bytes.
func (w *writer) grow(need int) {
	n := nextBufSize(cap(w.buf))
	for n < need && n < bufSize {
		n = nextBufSize(n)
	}
	buf := make([]byte, len(w.buf), n)
	copy(buf, w.buf)
	w.buf = buf
}

// ReadFrom fills the output's buffer straight from src, so io.Copy(out, r)
// needs no buffer of its own.
func (w *writer) ReadFrom(src io.Reader) (int64, error) {
	if w.closed {
		return 0, w.closedError()
	}
	if w.err != nil {
		return 0, w.err
	}
	var total int64
	for {
		if len(w.buf) == cap(w.buf) {
			if cap(w.buf) < bufSize {
				w.grow(cap(w.buf) + 1)
			} else if err := w.flush(); err != nil {
				return total, err
			}
		}
		n, err := src.Read(w.buf[len(w.buf):cap(w.buf)])
		w.buf = w.buf[:len(w.buf)+n]
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func (w *writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.flush()
	if err == nil {
		err = w.err
	}
	w.buf = nil
	w.c.untrack(w.h)
	if e := w.c.h.Close(w.h); e != abi.ErrnoSuccess && err == nil {
		err = w.c.hostError("close", w.what, e)
	}
	return err
}

func (w *writer) closedError() error {
	return fmt.Errorf("task: write %s: %w", w.what, fs.ErrClosed)
}
