// Command copy is an ordinary task: it copies its input "in" to its output
// "out", and writes the param "suffix" after the bytes. With the param
// "also", it writes the same bytes to that output too.
package main

import (
	"io"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() {
	task.Run(func(c *task.Context) error {
		in, err := c.Input("in")
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := c.Output("out")
		if err != nil {
			return err
		}
		var dst io.Writer = out
		var also io.WriteCloser
		if name := c.Param("also"); name != "" {
			if also, err = c.Output(name); err != nil {
				return err
			}
			dst = io.MultiWriter(out, also)
		}
		n, err := io.Copy(dst, in)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(dst, c.Param("suffix")); err != nil {
			return err
		}
		c.Logf("copied %d bytes", n)
		if also != nil {
			if err := also.Close(); err != nil {
				return err
			}
		}
		return out.Close()
	})
}
