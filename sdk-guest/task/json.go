package task

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ReadJSON decodes the input dataset named input, which must hold exactly
// one JSON value, into v (as json.Unmarshal does).
func ReadJSON(c *Context, input string, v any) error {
	in, err := c.Input(input)
	if err != nil {
		return err
	}
	defer in.Close()
	dec := json.NewDecoder(in)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("task: read JSON input %q: the dataset is empty", input)
		}
		return fmt.Errorf("task: read JSON input %q: %w", input, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return fmt.Errorf("task: read JSON input %q: after the first value: %w", input, err)
		}
		return fmt.Errorf("task: read JSON input %q: more than one JSON value; ReadJSON reads a dataset that holds exactly one", input)
	}
	return in.Close()
}

// WriteJSON encodes v as JSON (as json.Marshal does, but without escaping
// <, > and &) followed by a newline, and writes it as the output dataset
// named output.
func WriteJSON(c *Context, output string, v any) error {
	data, err := marshal(v)
	if err != nil {
		return fmt.Errorf("task: write JSON output %q: %w", output, err)
	}
	out, err := c.Output(output)
	if err != nil {
		return err
	}
	if _, err := out.Write(data); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// MaxJSONLine is the longest line DecodeJSONLines reads: the longest
// record a jsonl contract lets the host accept.
const MaxJSONLine = 16 << 20

// ReadJSONLines reads the input dataset named input as JSON Lines, one
// JSON value a line, and calls fn with each record decoded into a T (as
// json.Unmarshal does), in order, as the input streams: a dataset of any
// size takes the memory of one record. See DecodeJSONLines.
func ReadJSONLines[T any](c *Context, input string, fn func(T) error) error {
	in, err := c.Input(input)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := DecodeJSONLines(in, fn); err != nil {
		return fmt.Errorf("task: read JSON Lines input %q: %w", input, err)
	}
	return in.Close()
}

// DecodeJSONLines reads r as JSON Lines and calls fn with each record
// decoded into a T, in order. Blank lines are skipped. It stops at the
// first line that does not decode into a T, is longer than MaxJSONLine or
// holds more than one value, and at the first error fn returns; the error
// names the line. Read a part of a partitioned input with it:
//
//	in, err := t.InputPart("events", key)
//	...
//	err = task.DecodeJSONLines(in, func(e Event) error { ... })
func DecodeJSONLines[T any](r io.Reader, fn func(T) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte // a line longer than the buffer, put together
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				if len(long) > MaxJSONLine {
					return fmt.Errorf("line %d is longer than %d MiB; is it JSON Lines?", n, MaxJSONLine>>20)
				}
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if len(line) > MaxJSONLine {
			return fmt.Errorf("line %d is longer than %d MiB; is it JSON Lines?", n, MaxJSONLine>>20)
		}
		if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 {
			var v T
			if derr := json.Unmarshal(trimmed, &v); derr != nil {
				return fmt.Errorf("line %d: %w", n, derr)
			}
			if ferr := fn(v); ferr != nil {
				return fmt.Errorf("line %d: %w", n, ferr)
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}
