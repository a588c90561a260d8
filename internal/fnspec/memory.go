package fnspec

// HostReserveMiB is the memory a function needs besides its task's
// sandbox: the function runtime's two Go processes, the compiled module
// and the storage client's buffers. Compilers size a function at
// FunctionMemoryMiB so that its task gets its whole memory; a runtime given
// less shrinks the sandbox rather than let the platform kill the function.
// The measurements behind it are in docs/aws.md ("Memory").
const HostReserveMiB = 96

// FunctionMemoryMiB returns the memory a function running a task of
// taskMiB needs for the sandbox to get all of taskMiB.
func FunctionMemoryMiB(taskMiB int) int { return taskMiB + HostReserveMiB }
