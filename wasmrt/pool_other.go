//go:build !linux

package wasmrt

import "os/exec"

// setParentDeathSignal does nothing here; a worker notices its parent's
// death when its job pipe closes.
func setParentDeathSignal(*exec.Cmd) {}
