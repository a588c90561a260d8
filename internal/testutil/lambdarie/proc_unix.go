//go:build unix

package lambdarie

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the emulator in a process group of its own, so the
// bootstrap it starts can be stopped with it even if it hangs.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// terminate asks the emulator to stop; it then kills its bootstrap.
func terminate(cmd *exec.Cmd) { _ = cmd.Process.Signal(syscall.SIGTERM) }

// kill kills the emulator's process group: the emulator and its bootstrap.
func kill(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
