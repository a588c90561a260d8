// Package local runs pipelines on this machine: every task in its own wazero
// sandbox (through a pool of worker processes, so a runaway task can be
// stopped without slowing the others), datasets in the embedded store under
// .glacier/ beside the manifest.
//
// A run imports the source files, then runs the tasks in dependency order,
// independent ones in parallel. A task whose module, inputs, params and
// compute settings are unchanged since a successful run is not run again: its
// recorded outputs are reused and it is reported as cached. A failed task's
// downstream tasks are skipped; other branches finish. Outputs are committed
// only when their task succeeds, and a run killed at any moment leaves the
// store readable and the next run correct.
//
//	mods, _ := build.Modules(ctx, p, build.Options{Dir: dir})
//	exec := local.New(local.Options{Dir: dir, Modules: mods})
//	report, err := p.Run(ctx, exec)
package local
