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
// Tasks run in worker processes that are this very program, started again,
// so a program that uses the package calls wasmrt.ServeWorkerIfRequested
// first thing in main (and a test binary in TestMain); without it the run
// fails at once, saying so:
//
//	func main() {
//		wasmrt.ServeWorkerIfRequested()
//		p := glacier.New("demo") // or manifest.Load("glacier.yaml")
//		...
//		report, err := p.Run(ctx, local.New(local.Options{Dir: dir}))
//	}
//
// With Options.Modules nil, the run builds the tasks' modules itself (see
// package build); a caller that built them already passes them in.
package local
