// Command membomb allocates memory until it runs out, touching every page.
package main

import (
	"fmt"
	"os"

	"github.com/glacier-pipeline/glacier/sdk-guest/task"
)

var keep [][]byte

func main() {
	task.Run(func(c *task.Context) error {
		if _, err := c.Output("out"); err != nil {
			return err
		}
		for i := 0; ; i++ {
			b := make([]byte, 1<<20)
			for j := range b {
				b[j] = byte(i + j)
			}
			keep = append(keep, b)
			if i%64 == 0 {
				fmt.Fprintf(os.Stderr, "allocated %d MiB\n", i)
			}
		}
	})
}
