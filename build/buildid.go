package build

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// goBuildID is the custom section in which the Go linker records a
// module's build ID: a hash of the build's inputs, comments and all. The
// go command needs it in the file it builds, to find that file up to date;
// the module Glacier keeps and runs leaves it out, so a change that
// changes no code (a comment, a blank line at the end) changes no module
// and reruns no task.
const goBuildID = "go:buildid"

// stripBuildID returns wasm without its goBuildID custom sections. A module
// it cannot parse is returned as it is, for the sandbox to refuse with a
// clearer error.
func stripBuildID(wasm []byte) []byte {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return wasm
	}
	out := make([]byte, 0, len(wasm))
	out = append(out, wasm[:8]...)
	rest := wasm[8:]
	for len(rest) > 0 {
		id := rest[0]
		size, n := binary.Uvarint(rest[1:])
		if n <= 0 || size > uint64(len(rest)-1-n) {
			return wasm
		}
		end := 1 + n + int(size)
		if name, err := customName(id, rest[1+n:end]); err == nil && name == goBuildID {
			rest = rest[end:]
			continue
		}
		out = append(out, rest[:end]...)
		rest = rest[end:]
	}
	return out
}

// customName returns the name of a custom section (id 0) from its body.
func customName(id byte, body []byte) (string, error) {
	if id != 0 {
		return "", errors.New("not a custom section")
	}
	l, n := binary.Uvarint(body)
	if n <= 0 || l > uint64(len(body)-n) {
		return "", errors.New("bad custom section name")
	}
	return string(body[n : n+int(l)]), nil
}
