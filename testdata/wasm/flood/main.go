// Command flood writes the param "mib" MiB (default 200) to stdout and as
// much to stderr, interleaved, then succeeds.
package main

import (
	"bytes"
	"os"
	"strconv"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

func main() {
	task.Run(func(c *task.Context) error {
		mib, err := strconv.Atoi(c.Param("mib"))
		if err != nil {
			mib = 200
		}
		chunk := bytes.Repeat([]byte("flood! "), 64<<10/7)
		for written := 0; written < mib<<20; written += len(chunk) {
			if _, err := os.Stdout.Write(chunk); err != nil {
				return err
			}
			if _, err := os.Stderr.Write(chunk); err != nil {
				return err
			}
		}
		return nil
	})
}
