//go:build !unix

package fnrt

import (
	"errors"
	"os"
)

// openFIFO fails: functions run on Linux, and named pipes are a Unix thing.
func openFIFO(string) (*os.File, error) {
	return nil, errors.New("fnrt needs named pipes, which this system lacks; functions run on Linux")
}
