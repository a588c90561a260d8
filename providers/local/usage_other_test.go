//go:build !unix

package local_test

import "time"

// cpuTime is not measured here; the benchmark then reports zero.
func cpuTime() time.Duration { return 0 }

// maxRSS is not measured here; the benchmark then leaves it out.
func maxRSS() int64 { return 0 }
