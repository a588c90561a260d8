// Command writeinput tries to overwrite its own input "in".
package main

import (
	"io"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() {
	task.Run(func(c *task.Context) error {
		w, err := c.Output("in")
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, "overwritten"); err != nil {
			return err
		}
		return w.Close()
	})
}
