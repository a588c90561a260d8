// Command streamout writes param "mib" MiB (default 256) to its output "out"
// from a 1 MiB buffer: the guest-to-host data path alone.
package main

import (
	"strconv"

	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/testdata/wasm/internal/raw"
)

func main() {
	tc, err := raw.Context()
	raw.Check(err)
	mib, err := strconv.Atoi(tc.Params["mib"])
	if err != nil {
		mib = 256
	}
	h, err := raw.Open("out", abi.ModeWrite)
	raw.Check(err)
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	for i := 0; i < mib; i++ {
		raw.Check(raw.Write(h, buf))
	}
	raw.Check(raw.Close(h))
}
