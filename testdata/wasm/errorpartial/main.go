// Command errorpartial writes part of its output "out", then returns an
// error.
package main

import (
	"errors"
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
		return errors.New("row 7: bad currency code")
	})
}
