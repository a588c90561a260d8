package gcp_test

import (
	"fmt"

	"github.com/glacier-pipeline/glacier/providers/gcp"
)

func ExampleCPUFor() {
	for _, mem := range []int{256, 512, 3000, 16384, 65536} {
		cpu, ok := gcp.CPUFor(mem)
		fmt.Println(mem, cpu, ok)
	}
	// Output:
	// 256 0.167 true
	// 512 0.333 true
	// 3000 2 true
	// 16384 4 true
	// 65536  false
}
