package plan

import (
	"fmt"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
)

// HostReserveMiB is the memory a function needs besides its task's
// sandbox (see fnspec.HostReserveMiB): the function runtimes' own figure,
// so that a runtime, which shrinks the sandbox of a function with less
// than the task's memory plus this, never has to. docs/aws.md ("Memory")
// has the measurements behind it.
const HostReserveMiB = fnspec.HostReserveMiB

// Sizes are the memory sizes a serverless platform gives a function.
type Sizes struct {
	// Platform names the service in messages ("AWS Lambda").
	Platform string
	// Min and Max bound a function's memory, in MiB.
	Min, Max int
	// Tiers, when set, are the only sizes offered, ascending, ending with
	// Max; otherwise every whole MiB from Min to Max is.
	Tiers []int
}

// Function returns the memory, in MiB, of the function that runs a task
// whose sandbox may use taskMiB: taskMiB plus HostReserveMiB, rounded up
// to the first size s offers. The task's sandbox cap stays taskMiB, as it
// is locally, so the task behaves the same everywhere; the reserve is for
// the runtime around it, which the platform would otherwise have to kill
// when a task nears its cap. The error, for a task too large for any
// size, says how large a task may be.
func (s Sizes) Function(taskMiB int) (int, error) {
	need := taskMiB + HostReserveMiB
	if need > s.Max {
		return 0, fmt.Errorf("memory %d MiB needs a function of %d MiB, since the runtime that hosts the sandbox "+
			"needs %d MiB beside the task's own, and %s gives a function at most %d MiB; set compute memory to %d or less",
			taskMiB, need, HostReserveMiB, s.Platform, s.Max, s.MaxTask())
	}
	need = max(need, s.Min)
	for _, t := range s.Tiers {
		if t >= need {
			return t, nil
		}
	}
	return need, nil
}

// MaxTask is the most memory a task on s may have: its largest function
// less HostReserveMiB.
func (s Sizes) MaxTask() int { return s.Max - HostReserveMiB }

// FunctionMemory returns the memory of t's function on s (see
// Sizes.Function).
func (t Task) FunctionMemory(s Sizes) (int, error) { return s.Function(t.Limits.MemoryMiB) }
