package task

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/sdk-guest/internal/host"
)

// nativeMessage is printed when Run is called outside the Glacier runtime.
const nativeMessage = `task: Run needs the Glacier runtime, which this program is not running in.
Build the task with GOOS=wasip1 GOARCH=wasm (glacier build does) and run it with glacier run,
or test the task function natively with package github.com/glacier-pipeline/glacier/sdk-guest/tasktest.`

// Run runs fn as the task and ends the program the way the runtime expects:
//
//   - fn returns nil: Run closes the datasets fn left open and returns, and
//     the program exits 0 when main returns. The runtime then commits every
//     output.
//   - fn returns an error: Run writes it to stderr, records it as the task's
//     failure (task_fail) and exits with code 1.
//   - fn panics: Run writes the panic and its stack to stderr, records the
//     panic as the failure and exits with code 2.
//
// Closing an output can fail (the storage behind it may); then, or if fn
// did not open every declared output, the task fails with exit code 1.
//
// Run works only in a module built with GOOS=wasip1 GOARCH=wasm and run by
// the Glacier runtime. Elsewhere it prints how to build or test the task and
// exits with code 2; use package tasktest to run fn natively.
func Run(fn func(*Context) error) {
	h := host.Wasm()
	if h == nil {
		fmt.Fprintln(os.Stderr, nativeMessage)
		os.Exit(2)
	}
	if o := run(h, fn); o.Code != 0 {
		os.Exit(o.Code)
	}
}

// Context is a task's view of its invocation: its name, params and
// datasets. Run creates it; its methods are safe for concurrent use.
type Context struct {
	h  host.Host
	tc abi.TaskContext

	mu      sync.Mutex
	open    map[uint32]dataset // handles not yet closed
	opened  map[string]bool    // outputs opened for writing
	hostErr error              // the first failure of the host under a dataset
}

// dataset is an open input or output, closed by Run if the task does not.
type dataset interface {
	Close() error
}

func newContext(h host.Host) (*Context, error) {
	buf := make([]byte, 4096)
	n, e := h.TaskContext(buf)
	if e == abi.ErrnoRange {
		buf = make([]byte, n)
		n, e = h.TaskContext(buf)
	}
	if e != abi.ErrnoSuccess {
		return nil, fmt.Errorf("task: read the task context from the runtime: %w", e)
	}
	if n > len(buf) {
		return nil, fmt.Errorf("task: read the task context from the runtime: it reported %d bytes into a %d-byte buffer", n, len(buf))
	}
	c := &Context{h: h, open: make(map[uint32]dataset), opened: make(map[string]bool)}
	if err := decodeTaskContext(buf[:n], &c.tc); err != nil {
		return nil, fmt.Errorf("task: decode the task context from the runtime: %w", err)
	}
	if c.tc.ABI != abi.Version {
		return nil, fmt.Errorf("task: the runtime speaks ABI version %d, but this SDK speaks version %d; rebuild the task with an SDK that matches the runtime", c.tc.ABI, abi.Version)
	}
	return c, nil
}

// Task returns the task's name in the pipeline.
func (c *Context) Task() string { return c.tc.Task }

// RunID returns the identifier of the pipeline run this invocation belongs to.
func (c *Context) RunID() string { return c.tc.RunID }

// Inputs returns the names of the task's declared inputs, sorted.
func (c *Context) Inputs() []string { return slices.Clone(c.tc.Inputs) }

// Outputs returns the names of the task's declared outputs, sorted.
func (c *Context) Outputs() []string { return slices.Clone(c.tc.Outputs) }

// Part returns the key of the part this invocation of a map task runs over,
// or "" if the task is not a map task. The runtime runs a map task once per
// part of its mapped input; each invocation reads that part as its mapped
// input and writes its outputs whole, with Input and Output, and the
// runtime files what it writes under the same key.
func (c *Context) Part() string { return c.tc.Part }

// Partitioned returns, sorted, the names of the declared inputs and outputs
// the task reads and writes part by part (Parts, InputPart, OutputPart)
// rather than whole. It never lists a map task's mapped input or its
// outputs: an invocation sees those as the one part it runs over.
func (c *Context) Partitioned() []string { return slices.Clone(c.tc.Partitioned) }

// Param returns the value of the named param, or "" if glacier.yaml sets
// none for this task.
func (c *Context) Param(name string) string { return c.tc.Params[name] }

// Params returns a copy of all the task's params.
func (c *Context) Params() map[string]string {
	p := maps.Clone(c.tc.Params)
	if p == nil {
		p = map[string]string{}
	}
	return p
}

// Logf writes a line to the task's log (its stderr, which the runtime
// keeps with the run). A newline is added unless the message ends in one.
func (c *Context) Logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	// One write per line, so lines from several goroutines do not interleave.
	_, _ = io.WriteString(c.h.Stderr(), msg)
}

func (c *Context) track(handle uint32, d dataset) {
	c.mu.Lock()
	c.open[handle] = d
	c.mu.Unlock()
}

func (c *Context) untrack(handle uint32) {
	c.mu.Lock()
	delete(c.open, handle)
	c.mu.Unlock()
}

// finish closes the datasets the task left open, in handle order, and
// checks that the host never failed and that every declared output was
// opened.
func (c *Context) finish() error {
	c.mu.Lock()
	handles := slices.Sorted(maps.Keys(c.open))
	left := make([]dataset, len(handles))
	for i, h := range handles {
		left[i] = c.open[h]
	}
	c.mu.Unlock()
	for _, d := range left {
		// A failure here is remembered as hostErr.
		_ = d.Close()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hostErr != nil {
		return c.hostErr
	}
	var unwritten, noParts []string
	for _, name := range c.tc.Outputs {
		switch {
		case c.opened[name]:
		case slices.Contains(c.tc.Partitioned, name):
			noParts = append(noParts, fmt.Sprintf("%q", name))
		default:
			unwritten = append(unwritten, fmt.Sprintf("%q", name))
		}
	}
	var problems []string
	if len(unwritten) > 0 {
		problems = append(problems, fmt.Sprintf("%q did not write declared %s %s; open every declared output with Output, even to write nothing, or remove it from outputs: in glacier.yaml",
			c.tc.Task, plural(len(unwritten), "output"), strings.Join(unwritten, ", ")))
	}
	if len(noParts) > 0 {
		// The runtime keeps no partitioned output without a part: an
		// empty one would look like a task that forgot to write it.
		problems = append(problems, fmt.Sprintf("%q wrote no part of declared partitioned %s %s; write at least one part of each with OutputPart, or remove it from outputs: in glacier.yaml",
			c.tc.Task, plural(len(noParts), "output"), strings.Join(noParts, ", ")))
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New("task: " + strings.Join(problems, "; and "))
}

// plural returns noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// decodeTaskContext decodes the task context the host passes (docs/abi.md,
// section 4) as json.Unmarshal would into an abi.TaskContext, ignoring
// fields it does not know.
//
// It exists because encoding/json's first use in a process builds its
// reflection caches: that alone took 0.3 ms of each invocation, about a
// fifth of the whole cost of running a small task.
func decodeTaskContext(data []byte, tc *abi.TaskContext) error {
	d := &decoder{data: data}
	null, err := d.null() // as json.Unmarshal does, null sets nothing
	if err != nil {
		return err
	}
	if !null {
		err = d.object(func(key string) error {
			switch {
			case strings.EqualFold(key, "abi"):
				return d.int(&tc.ABI)
			case strings.EqualFold(key, "task"):
				return d.string(&tc.Task)
			case strings.EqualFold(key, "run_id"):
				return d.string(&tc.RunID)
			case strings.EqualFold(key, "params"):
				return d.stringMap(&tc.Params)
			case strings.EqualFold(key, "inputs"):
				return d.stringSlice(&tc.Inputs)
			case strings.EqualFold(key, "outputs"):
				return d.stringSlice(&tc.Outputs)
			case strings.EqualFold(key, "part"):
				return d.string(&tc.Part)
			case strings.EqualFold(key, "partitioned"):
				return d.stringSlice(&tc.Partitioned)
			}
			return d.skip(0)
		})
	}
	if err != nil {
		return err
	}
	if d.space(); d.pos != len(d.data) {
		return d.errorf("data after the value")
	}
	return nil
}

// maxDepth bounds the nesting of values skipped, as encoding/json does.
const maxDepth = 10000

type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) errorf(format string, args ...any) error {
	if d.pos >= len(d.data) {
		return errors.New("invalid task context JSON: it ends too soon")
	}
	return fmt.Errorf("invalid task context JSON at offset %d: %s", d.pos, fmt.Sprintf(format, args...))
}

func (d *decoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (d *decoder) peek() byte {
	d.space()
	if d.pos == len(d.data) {
		return 0
	}
	return d.data[d.pos]
}

func (d *decoder) expect(c byte) error {
	if d.peek() != c {
		return d.errorf("want %q", c)
	}
	d.pos++
	return nil
}

// null consumes a null if one comes next.
func (d *decoder) null() (bool, error) {
	if d.peek() != 'n' {
		return false, nil
	}
	return true, d.literal("null")
}

func (d *decoder) literal(lit string) error {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		return d.errorf("want %s", lit)
	}
	d.pos += len(lit)
	return nil
}

// object decodes an object, calling field with each key once the decoder
// stands on its value.
func (d *decoder) object(field func(key string) error) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.pos++
		return nil
	}
	for {
		var key string
		if d.peek() != '"' {
			return d.errorf("want an object key")
		}
		if err := d.string(&key); err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return d.errorf("want ',' or '}'")
		}
	}
}

// array decodes an array, calling elem with the decoder on each element.
func (d *decoder) array(elem func() error) error {
	if err := d.expect('['); err != nil {
		return err
	}
	if d.peek() == ']' {
		d.pos++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return nil
		default:
			return d.errorf("want ',' or ']'")
		}
	}
}

// int decodes an integer number, or null, which leaves *v alone.
func (d *decoder) int(v *int) error {
	if null, err := d.null(); null || err != nil {
		return err
	}
	start := d.pos
	if err := d.number(); err != nil {
		return err
	}
	n, err := strconv.ParseInt(string(d.data[start:d.pos]), 10, strconv.IntSize)
	if err != nil {
		return d.errorf("want an integer, got %s", d.data[start:d.pos])
	}
	*v = int(n)
	return nil
}

// stringMap decodes an object of strings, or null, which makes *m nil.
func (d *decoder) stringMap(m *map[string]string) error {
	if null, err := d.null(); null || err != nil {
		*m = nil
		return err
	}
	if *m == nil {
		*m = map[string]string{}
	}
	return d.object(func(key string) error {
		var s string
		if err := d.string(&s); err != nil {
			return err
		}
		(*m)[key] = s
		return nil
	})
}

// stringSlice decodes an array of strings, or null, which makes *s nil.
func (d *decoder) stringSlice(s *[]string) error {
	if null, err := d.null(); null || err != nil {
		*s = nil
		return err
	}
	list := []string{}
	err := d.array(func() error {
		var e string
		err := d.string(&e)
		list = append(list, e)
		return err
	})
	*s = list
	return err
}

// string decodes a string, or null, which leaves *s alone. Invalid UTF-8
// and lone surrogates become U+FFFD, as in encoding/json.
func (d *decoder) string(s *string) error {
	if null, err := d.null(); null || err != nil {
		return err
	}
	if err := d.expect('"'); err != nil {
		return d.errorf("want a string")
	}
	// Fast path: no escapes, valid UTF-8.
	for i := d.pos; i < len(d.data); i++ {
		c := d.data[i]
		if c == '"' {
			if raw := d.data[d.pos:i]; utf8.Valid(raw) {
				*s = string(raw)
				d.pos = i + 1
				return nil
			}
			break
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	var b []byte
	for {
		if d.pos >= len(d.data) {
			return d.errorf("unterminated string")
		}
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			*s = string(b)
			return nil
		case c < 0x20:
			return d.errorf("control character in string")
		case c == '\\':
			r, err := d.escape()
			if err != nil {
				return err
			}
			b = utf8.AppendRune(b, r)
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			b = utf8.AppendRune(b, r) // RuneError for invalid bytes
			d.pos += size
		}
	}
}

// escape decodes the escape sequence at d.pos.
func (d *decoder) escape() (rune, error) {
	if d.pos+1 >= len(d.data) {
		return 0, d.errorf("unterminated string")
	}
	c := d.data[d.pos+1]
	d.pos += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, ok := d.hex4()
		if !ok {
			return 0, d.errorf("bad \\u escape")
		}
		if !utf16.IsSurrogate(r) {
			return r, nil
		}
		// A surrogate pair is two escapes; a lone half is U+FFFD.
		if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
			save := d.pos
			d.pos += 2
			if r2, ok := d.hex4(); ok {
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					return dec, nil
				}
			}
			d.pos = save
		}
		return utf8.RuneError, nil
	}
	return 0, d.errorf("bad escape \\%c", c)
}

func (d *decoder) hex4() (rune, bool) {
	if d.pos+4 > len(d.data) {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	d.pos += 4
	return r, true
}

// number consumes a JSON number.
func (d *decoder) number() error {
	start := d.pos
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	if d.pos < len(d.data) && d.data[d.pos] == '-' {
		d.pos++
	}
	switch {
	case d.pos < len(d.data) && d.data[d.pos] == '0':
		d.pos++
	case digits() == 0:
		d.pos = start
		return d.errorf("want a value")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return d.errorf("bad number")
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return d.errorf("bad number")
		}
	}
	return nil
}

// skip consumes any value.
func (d *decoder) skip(depth int) error {
	if depth > maxDepth {
		return errors.New("invalid task context JSON: nested too deeply")
	}
	switch d.peek() {
	case '{':
		return d.object(func(string) error { return d.skip(depth + 1) })
	case '[':
		return d.array(func() error { return d.skip(depth + 1) })
	case '"':
		var s string
		return d.string(&s)
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	}
	return d.number()
}
