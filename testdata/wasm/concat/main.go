// Command concat is a generic pipeline task for executor tests: it writes the
// concatenation of all its inputs, in name order, followed by the
// param "suffix", to each of its outputs. With the param "limit" set to n, it
// still reads every input to the end but writes only their first n bytes
// (then the suffix), so chained tasks keep their outputs small. With the
// param "fail" set, it writes part of its first output and then fails with
// that message. With the param "clock" set, it writes the time of day in
// nanoseconds before the suffix, so no two runs give the same bytes. With
// the param "poison" set, it fails, before writing, when an input holds
// that text: one bad part of a map task. With the param "span" set to n,
// it stays busy n milliseconds and logs "span <start> <end>", the times in
// nanoseconds it began and ended, so a test can see which invocations
// overlapped.
package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() {
	task.Run(func(c *task.Context) error {
		if ms := c.Param("span"); ms != "" {
			start := time.Now()
			defer func() { c.Logf("span %d %d", start.UnixNano(), time.Now().UnixNano()) }()
			// Stay busy the given milliseconds, so that invocations run in
			// parallel overlap.
			d, err := strconv.Atoi(ms)
			if err != nil {
				return fmt.Errorf("param span: want milliseconds, got %q", ms)
			}
			for time.Since(start) < time.Duration(d)*time.Millisecond {
			}
		}
		var outs []io.Writer
		for _, name := range c.Outputs() {
			w, err := c.Output(name)
			if err != nil {
				return err
			}
			defer w.Close()
			outs = append(outs, w)
		}
		all := io.MultiWriter(outs...)
		if poison := c.Param("poison"); poison != "" {
			for _, name := range c.Inputs() {
				r, err := c.Input(name)
				if err != nil {
					return err
				}
				b, err := io.ReadAll(r)
				r.Close()
				if err != nil {
					return err
				}
				if strings.Contains(string(b), poison) {
					return fmt.Errorf("input %s holds %q", name, poison)
				}
			}
		}
		if msg := c.Param("fail"); msg != "" {
			io.WriteString(all, "partial")
			return errors.New(msg)
		}
		body := all
		if s := c.Param("limit"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("param limit: want a byte count, got %q", s)
			}
			body = &capped{w: all, left: n}
		}
		var n int64
		for _, name := range c.Inputs() {
			r, err := c.Input(name)
			if err != nil {
				return err
			}
			m, err := io.Copy(body, r)
			r.Close()
			if err != nil {
				return err
			}
			n += m
		}
		if c.Param("clock") != "" {
			fmt.Fprint(all, time.Now().UnixNano())
		}
		if _, err := io.WriteString(all, c.Param("suffix")); err != nil {
			return err
		}
		c.Logf("%s: concatenated %d bytes from %d inputs", c.Task(), n, len(c.Inputs()))
		return nil
	})
}

// capped passes on the first left bytes written to it and drops the rest.
type capped struct {
	w    io.Writer
	left int64
}

func (c *capped) Write(p []byte) (int, error) {
	if k := min(int64(len(p)), c.left); k > 0 {
		if _, err := c.w.Write(p[:k]); err != nil {
			return 0, err
		}
		c.left -= k
	}
	return len(p), nil
}
