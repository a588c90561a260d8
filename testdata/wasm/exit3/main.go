// Command exit3 writes and closes its output "out", then exits with code 3
// without returning from its task function.
package main

import (
	"io"
	"os"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() {
	task.Run(func(c *task.Context) error {
		out, err := c.Output("out")
		if err != nil {
			return err
		}
		if _, err := io.WriteString(out, "complete output"); err != nil {
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
		os.Exit(3)
		return nil
	})
}
