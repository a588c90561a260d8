//go:build !unix

package schema_test

import "time"

func cpuTime() (time.Duration, bool) { return 0, false }
