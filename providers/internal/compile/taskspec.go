package compile

import (
	"github.com/glacier-pipeline/glacier/abi"
	"github.com/glacier-pipeline/glacier/internal/fnspec"
)

// TaskSpec is what a task's function runtime is told about it, in its
// artifact: the limits its sandbox gets are the task's own, not its
// function's, so the task behaves as under glacier run.
func (t *Task) TaskSpec(pipeline string) fnspec.TaskSpec {
	return fnspec.TaskSpec{
		ABI:          abi.Version,
		Pipeline:     pipeline,
		Task:         t.Name,
		ModuleSHA256: t.Module.SHA256,
		Params:       t.Params,
		Inputs:       t.Reads,
		Outputs:      t.Writes,
		MemoryMiB:    t.Limits.MemoryMiB,
		TimeoutSecs:  t.Limits.TimeoutSecs,

		CompileMemoryMiB:   t.Limits.Compile.MemoryMiB,
		CompileTimeoutSecs: t.Limits.Compile.TimeoutSecs,
		Schemas:            t.Schemas,
		Retire:             t.Retire,

		Partitioned:       t.Partitioned,
		Map:               t.Map,
		MapBatch:          t.Batch(),
		ToleratedFailures: t.ToleratedFailures,
		Producers:         t.Producers,
	}
}
