//go:build !unix

package wasmcheck

import "os"

func openNonblocking(path string) (*os.File, error) { return os.Open(path) }
