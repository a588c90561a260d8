// Command abiv2 is built for a host ABI that does not exist yet
// (glacier_v2); the host must refuse to load it.
package main

//go:wasmimport glacier_v2 task_context
func taskContext(bufPtr, bufCap, lenPtr uint32) uint32

func main() {
	taskContext(0, 0, 0)
}
