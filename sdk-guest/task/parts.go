package task

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/glacier-pipeline/glacier/abi"
)

// partsBufSize is the first buffer Parts lists keys into. A list that does
// not fit is asked for again at the length the host reports, so this only
// saves that second call for the common case of a few dozen keys.
const partsBufSize = 4096

// Parts returns the keys of the parts of the declared partitioned input
// name, sorted by their bytes; an input with no parts has none. Open a part
// with InputPart.
//
// Parts fails, with an error that says what to do, if name is not a
// declared input or not partitioned (open it with Input), and matches
// abi.ErrnoNoent with errors.Is if the input has no version yet. In an
// invocation of a map task, the mapped input is the one part the invocation
// runs over (Part), not a partitioned dataset.
func (c *Context) Parts(name string) ([]string, error) {
	if err := checkName(name); err != nil {
		return nil, &datasetError{errno: abi.ErrnoInval, msg: fmt.Sprintf("task: list the parts of input %q: %v", name, err)}
	}
	buf := make([]byte, partsBufSize)
	n, e := c.h.Parts(name, buf)
	if e == abi.ErrnoRange {
		// The list does not change during an invocation, so one retry at
		// the reported length is enough.
		buf = make([]byte, n)
		n, e = c.h.Parts(name, buf)
	}
	if e != abi.ErrnoSuccess {
		return nil, c.partsError(name, e)
	}
	if n > len(buf) {
		return nil, c.remember(fmt.Errorf("task: list the parts of input %q: the runtime reported %d bytes into a %d-byte buffer", name, n, len(buf)))
	}
	if n == 0 {
		return []string{}, nil
	}
	// Each key ends in '\n', which no key holds.
	list, ok := strings.CutSuffix(string(buf[:n]), "\n")
	keys := strings.Split(list, "\n")
	if !ok || slices.Contains(keys, "") {
		return nil, c.remember(fmt.Errorf("task: list the parts of input %q: the runtime sent a malformed list of keys", name))
	}
	return keys, nil
}

func (c *Context) partsError(name string, e abi.Errno) error {
	var why string
	switch e {
	case abi.ErrnoAcces:
		why = c.accessHint(name, abi.ModeRead)
	case abi.ErrnoNotPartitioned:
		why = c.notPartitionedHint(abi.ModeRead)
	case abi.ErrnoNoent:
		why = noVersion
	case abi.ErrnoInval:
		why = "the runtime refused the dataset name"
	default:
		return c.hostError("list the parts of", fmt.Sprintf("input %q", name), e)
	}
	return &datasetError{errno: e, msg: fmt.Sprintf("task: list the parts of input %q: %s", name, why)}
}

// InputPart opens the part with the given key of the declared partitioned
// input name for reading, as Input opens a whole input: the bytes stream
// from the host as the task reads, and a part may be opened any number of
// times. Parts lists the keys.
//
// A key that breaks the rule for keys (UTF-8, 1 to abi.MaxKeyLen bytes,
// '/'-separated segments that are not empty, "." or "..", no control
// characters and no '\') is refused before the host is asked. If the input
// has no part with that key, or no version, the error matches
// abi.ErrnoNoent with errors.Is.
func (c *Context) InputPart(name, key string) (io.ReadCloser, error) {
	return c.openReader(target{mode: abi.ModeRead, name: name, key: key, part: true}, c.openPart)
}

// OutputPart starts the part with the given key of the declared partitioned
// output name, as Output starts a whole output: the writes are staged and
// committed with the task, all parts at once. The parts the task writes
// are the output's new version; a key it does not write is not in it, and
// it must write at least one. Each part can be opened once.
//
// A key that breaks the rule for keys (see InputPart) is a bug in the task,
// so OutputPart refuses it and the task fails even if it carries on.
func (c *Context) OutputPart(name, key string) (io.WriteCloser, error) {
	return c.openWriter(target{mode: abi.ModeWrite, name: name, key: key, part: true}, c.openPart)
}

// openPart is the opener of parts (see opener).
func (c *Context) openPart(t target) (uint32, error) {
	if err := checkName(t.name); err != nil {
		return 0, &datasetError{errno: abi.ErrnoInval, msg: fmt.Sprintf("task: open %s: %v", t, err)}
	}
	if err := abi.CheckKey(t.key); err != nil {
		err = &datasetError{errno: abi.ErrnoInval, msg: fmt.Sprintf("task: open %s: %v", t, err)}
		if t.mode == abi.ModeWrite {
			// As the runtime does: a key made up wrong is a bug in the
			// task, and the part it meant would be missing from the
			// output, so the task fails even if it carries on.
			return 0, c.remember(err)
		}
		return 0, err
	}
	h, e := c.h.OpenPart(t.name, t.key, t.mode)
	if e == abi.ErrnoSuccess {
		return h, nil
	}
	var why string
	if e == abi.ErrnoNoent {
		// The runtime answers the same for a part that is not there as
		// for an input with no version; the list of parts tells the two
		// apart.
		if _, pe := c.h.Parts(t.name, nil); pe != abi.ErrnoNoent {
			why = "the input has no part with that key; Parts lists the keys it has"
		}
	}
	return 0, c.openError(t, e, why)
}
