// Command environ writes what it can see of its process to its output "env":
// the environment, one variable a line, then its arguments.
package main

import (
	"io"
	"os"
	"strings"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() {
	task.Run(func(c *task.Context) error {
		out, err := c.Output("env")
		if err != nil {
			return err
		}
		text := "environ:" + strings.Join(os.Environ(), "\n") + "\nargs:" + strings.Join(os.Args, " ") + "\n"
		if _, err := io.WriteString(out, text); err != nil {
			return err
		}
		return out.Close()
	})
}
