// Command streamin reads its input "in" to the end through a 1 MiB buffer
// and prints the byte count: the host-to-guest data path alone.
package main

import (
	"fmt"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/testdata/wasm/internal/raw"
)

func main() {
	h, err := raw.Open("in", abi.ModeRead)
	raw.Check(err)
	buf := make([]byte, 1<<20)
	total := 0
	for {
		n, err := raw.Read(h, buf)
		raw.Check(err)
		if n == 0 {
			break
		}
		total += n
	}
	raw.Check(raw.Close(h))
	fmt.Println(total)
}
