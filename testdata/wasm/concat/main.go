// Command concat is a generic pipeline task for executor tests: it writes the
// concatenation of all its inputs, in name order, followed by the
// param "suffix", to each of its outputs. With the param "fail" set, it writes
// part of its first output and then fails with that message.
package main

import (
	"errors"
	"io"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() {
	task.Run(func(c *task.Context) error {
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
		if msg := c.Param("fail"); msg != "" {
			io.WriteString(all, "partial")
			return errors.New(msg)
		}
		var n int64
		for _, name := range c.Inputs() {
			r, err := c.Input(name)
			if err != nil {
				return err
			}
			m, err := io.Copy(all, r)
			r.Close()
			if err != nil {
				return err
			}
			n += m
		}
		if _, err := io.WriteString(all, c.Param("suffix")); err != nil {
			return err
		}
		c.Logf("%s: concatenated %d bytes from %d inputs", c.Task(), n, len(c.Inputs()))
		return nil
	})
}
