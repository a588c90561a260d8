// Command undeclared tries to read a dataset it did not declare ("secret")
// and fails with the SDK's error when that is denied.
package main

import (
	"io"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() {
	task.Run(func(c *task.Context) error {
		r, err := c.Input("secret")
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, r)
		return err
	})
}
