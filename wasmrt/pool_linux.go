package wasmrt

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal has the kernel kill a worker whose parent dies, even
// while the worker is stuck in guest code and cannot notice its closed pipe.
func setParentDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	if cmd.SysProcAttr.Pdeathsig == 0 {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
}
