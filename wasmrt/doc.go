// Package wasmrt is Glacier's sandbox: it runs task modules (WASI commands,
// typically Go main packages built with GOOS=wasip1 GOARCH=wasm) in wazero,
// serves them the glacier_v1 host ABI (docs/abi.md), and commits their
// outputs only when they succeed.
//
// # Running a task
//
// A Runtime compiles modules (once per SHA-256, optionally through an
// on-disk compilation cache) and runs each invocation in a fresh instance:
//
//	rt, err := wasmrt.NewRuntimeWithConfig(ctx, wasmrt.NewConfig().WithCacheDir(dir))
//	m, err := rt.Load(ctx, wasm)
//	res, err := rt.Run(ctx, m, wasmrt.Invocation{
//		Task: "clean", Inputs: []string{"raw"}, Outputs: []string{"clean"},
//		Storage: storage.URLs{"raw": "file:///data/raw", "clean": "file:///data/clean"},
//	})
//
// The guest gets its task name as its only argument, no environment, no
// files, no sockets and an empty stdin; the clocks and randomness work. Its
// stdout and stderr go to Invocation.Log, capped (Config.WithLogLimit). It
// reads declared inputs and writes declared outputs through handles that
// stream straight between the Invocation's storage.Datasets and guest
// memory. Its memory is capped
// per invocation (Invocation.MemoryLimit) through wazero's
// experimental.MemoryAllocator.
//
// Each output's SHA-256 is computed as it streams (Result.Outputs), since
// the local store addresses versions by it. That runs at the speed of
// SHA-256, 1 to 2 GB/s with SHA instructions, and so bounds how fast a task
// can write; Invocation.SkipDigests (Job.SkipDigests) turns it off for a
// caller that needs no digests, and writes then cost little more than the
// storage's own work (the host passes the guest's bytes to
// storage.Staged.Write without copying them).
//
// Outputs are staged (storage.Datasets.Stage) and committed only if the
// task exits 0, passed no bad pointer, length or handle (ErrFault), hit no
// storage error, and opened every declared output. On any failure
// everything staged is discarded. The errors name the task, say what happened and, where there is
// one, the fix; callers branch on them with errors.Is (ErrTimeout,
// ErrMemoryLimit, ...) and errors.As (*ExitError).
//
// # Timeouts: why a Pool of processes
//
// Guest code compiled by wazero runs as native code with no preemption
// points. Stopping it in process takes wazero's WithCloseOnContextDone,
// which adds a check to every loop and function: measured here it makes a
// byte loop 6 to 20 times slower. A loop that never calls the host also
// cannot be preempted by the Go scheduler, so while it runs the host
// process's garbage collector cannot stop the world: a runaway task in
// process eventually freezes every goroutine of the host, not only its own.
//
// So timeouts are enforced from outside. A Pool keeps N worker processes
// (this program, re-executed; it opts in by calling ServeWorkerIfRequested
// first thing in main), each with a Runtime whose modules stay compiled in
// memory and whose compilation cache is shared on disk. Pool.Run sends a Job
// over a pipe; the worker answers when the module is loaded (the timeout
// starts then, so a cold compile does not eat a task's time) and again when
// the task has finished with its outputs staged. Only then does the parent
// tell it to commit, so a task is committed only if it finished in time, and
// a commit once begun is never cut short by the deadline. At the timeout, or when the
// context is canceled, the parent kills the worker with SIGKILL, which stops
// any guest instantly at no cost to guest code, and starts a replacement
// when the slot is next used. The killed worker's staged files are left
// behind under recognisable names (filestore.StagedSuffix) for
// filestore.SweepStaged.
//
// Guest code in a worker runs at the speed of an in-process runtime without
// any timeout, and the per-job protocol (a few small JSON messages over
// pipes) costs well under a millisecond. docs/sandbox.md has the measured
// figures and the benchmarks that produce them.
//
// # Loading modules
//
// Before the engine sees a module, Load checks it with package wasmcheck:
// well-formed, and declaring no more than Config.WithModuleLimits allows.
// A Pool worker also reads the module as a regular file of bounded size and
// compiles it under the job's CompileBudget (a time the parent enforces by
// killing the worker, and on Linux a cap on the worker's address space), so
// no module can exhaust the host while it loads. docs/sandbox.md has the
// limits and the measurements behind them.
//
// In-process Runtime.Run is right where the process exists for one
// invocation and is itself killed at its deadline (a Lambda or Cloud
// Functions instance), and for short trusted tasks; use a Pool for the rest.
package wasmrt
