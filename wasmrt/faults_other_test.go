//go:build !unix

package wasmrt_test

import "time"

// usage is not available here; the benchmarks then report zeros.
func usage() (faults int64, cpu time.Duration) { return 0, 0 }
