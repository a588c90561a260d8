// Command byteloop runs a kernel loop (param "kind": "hash", the default, or
// "scan") over 1 MiB, param "rounds" times (default 64), and prints the
// result. It calls the host only at start-up, so it measures pure guest
// compute.
package main

import (
	"fmt"
	"strconv"

	"github.com/glacier-pipeline/glacier/testdata/wasm/byteloop/kernel"
	"github.com/glacier-pipeline/glacier/testdata/wasm/internal/raw"
)

func main() {
	tc, err := raw.Context()
	raw.Check(err)
	rounds, err := strconv.Atoi(tc.Params["rounds"])
	if err != nil {
		rounds = 64
	}
	buf := make([]byte, 1<<20)
	kernel.Fill(buf)
	fmt.Printf("%08x\n", kernel.Run(tc.Params["kind"], buf, rounds))
}
