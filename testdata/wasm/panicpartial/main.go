// Command panicpartial writes part of its output "out", then panics.
package main

import (
	"io"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() {
	task.Run(func(c *task.Context) error {
		out, err := c.Output("out")
		if err != nil {
			return err
		}
		if _, err := io.WriteString(out, "half of the rows"); err != nil {
			return err
		}
		var rows []int
		c.Logf("row 3 is %d", rows[3]) // index out of range: panics before Close
		return out.Close()
	})
}
