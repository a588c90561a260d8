// Package tasks holds a task function that the conformance tests run both
// natively (through tasktest) and as a Wasm module (through wasmrt), so the
// two runs execute the very same code.
package tasks

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

// Summary is what Conformance writes to its "summary" output.
type Summary struct {
	Task    string            `json:"task"`
	RunID   string            `json:"run_id"`
	Params  map[string]string `json:"params"`
	Inputs  []string          `json:"inputs"`
	Outputs []string          `json:"outputs"`
	Lines   int               `json:"lines"`
	Bytes   int64             `json:"bytes"`
	SHA256  string            `json:"sha256"`
}

// Conformance is a task with outputs "out" and "summary" whose behaviour
// the param "mode" picks:
//
//   - "transform": prefixes each line of input "in" with the param
//     "prefix" into "out", and describes the input in "summary";
//   - "copy": copies "in" to "out" with io.Copy;
//   - "parts": copies each part of the partitioned input "in" to the part
//     of the partitioned output "out" with the same key;
//   - "json": decodes "in" as a JSON value and re-encodes it into "out";
//   - "optional": writes to "out" whether input "later" has a version;
//   - "fail", "panic": write part of "out", then fail;
//   - "undeclared", "read-output", "write-input": break the rules of access;
//   - "missing-output": succeed without writing "summary".
func Conformance(t *task.Context) error {
	sum := Summary{Task: t.Task(), RunID: t.RunID(), Params: t.Params(), Inputs: t.Inputs(), Outputs: t.Outputs()}
	switch mode := t.Param("mode"); mode {
	case "transform":
		if err := transform(t, &sum); err != nil {
			return err
		}
	case "copy":
		if err := copyInput(t, &sum); err != nil {
			return err
		}
	case "parts":
		if err := copyParts(t, &sum); err != nil {
			return err
		}
	case "json":
		var v any
		if err := task.ReadJSON(t, "in", &v); err != nil {
			return err
		}
		if err := task.WriteJSON(t, "out", v); err != nil {
			return err
		}
	case "optional":
		out, err := t.Output("out")
		if err != nil {
			return err
		}
		in, err := t.Input("later")
		switch {
		case errors.Is(err, abi.ErrnoNoent):
			fmt.Fprintln(out, "later: no version yet")
		case err != nil:
			return err
		default:
			fmt.Fprintln(out, "later: present")
			in.Close()
		}
		if err := out.Close(); err != nil {
			return err
		}
	case "fail", "panic":
		out, err := t.Output("out")
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "partial output that must never be committed")
		if mode == "panic" {
			panic(fmt.Sprintf("mode %s: giving up", mode))
		}
		return fmt.Errorf("row %d of %q is bad: %w", 3, "in", errors.New("unparseable amount"))
	case "undeclared":
		_, err := t.Input("secret")
		return err
	case "read-output":
		_, err := t.Input("summary")
		return err
	case "write-input":
		_, err := t.Output("in")
		return err
	case "missing-output":
		out, err := t.Output("out")
		if err != nil {
			return err
		}
		return out.Close()
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	t.Logf("mode %s: %d lines, %d bytes", t.Param("mode"), sum.Lines, sum.Bytes)
	return task.WriteJSON(t, "summary", sum)
}

func transform(t *task.Context, sum *Summary) error {
	in, err := t.Input("in")
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := t.Output("out")
	if err != nil {
		return err
	}
	h := sha256.New()
	w := bufio.NewWriter(out)
	lines := bufio.NewScanner(io.TeeReader(in, h))
	lines.Buffer(nil, 1<<20)
	prefix := t.Param("prefix")
	for lines.Scan() {
		sum.Lines++
		sum.Bytes += int64(len(lines.Bytes())) + 1
		if _, err := fmt.Fprintf(w, "%s%s\n", prefix, strings.TrimRight(lines.Text(), "\r")); err != nil {
			return err
		}
	}
	if err := lines.Err(); err != nil {
		return err
	}
	sum.SHA256 = hex.EncodeToString(h.Sum(nil))
	if err := w.Flush(); err != nil {
		return err
	}
	return out.Close()
}

func copyParts(t *task.Context, sum *Summary) error {
	keys, err := t.Parts("in")
	if err != nil {
		return err
	}
	for _, k := range keys {
		in, err := t.InputPart("in", k)
		if err != nil {
			return err
		}
		out, err := t.OutputPart("out", k)
		if err != nil {
			in.Close()
			return err
		}
		n, err := io.Copy(out, in)
		in.Close()
		if err != nil {
			return err
		}
		sum.Bytes += n
		sum.Lines++
		if err := out.Close(); err != nil {
			return err
		}
	}
	return nil
}

func copyInput(t *task.Context, sum *Summary) error {
	in, err := t.Input("in")
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := t.Output("out")
	if err != nil {
		return err
	}
	n, err := io.Copy(out, in)
	if err != nil {
		return err
	}
	sum.Bytes = n
	return out.Close()
}
