// Command copy is an ordinary task: it copies its input "in" to its output
// "out", and writes the param "suffix" after the bytes.
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
		n, err := io.Copy(out, in)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(out, c.Param("suffix")); err != nil {
			return err
		}
		c.Logf("copied %d bytes", n)
		return out.Close()
	})
}
