package task

import (
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
