// Command loop never ends: a runaway task. It opens its output first, so a
// test can check that nothing is committed when it is stopped.
package main

import (
	"io"
	"os"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

var sink uint64

func main() {
	task.Run(func(c *task.Context) error {
		out, err := c.Output("out")
		if err != nil {
			return err
		}
		if _, err := io.WriteString(out, "partial"); err != nil {
			return err
		}
		os.Stderr.WriteString("looping forever\n")
		for i := uint64(0); ; i++ {
			sink += i * i
		}
	})
}
