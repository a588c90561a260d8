// Package fnrt is the function runtime Glacier's serverless targets share:
// the code that, inside an AWS Lambda function or a Google Cloud Function,
// runs one task's WebAssembly module in the wasmrt sandbox once per
// invocation. It knows nothing of any cloud: the Lambda bootstrap
// (providers/aws/lambdazip) and the Cloud Functions entry point import
// their storage driver, which registers its scheme on
// storage.DefaultURLMux, build a Handler at cold start and call Invoke for
// each request.
//
// What a function's artifact holds, what an invocation sends and answers
// and the kinds of failure it reports are the contract with the compilers,
// in package fnspec, which compilers use without linking this package and
// the sandbox.
//
// # Processes
//
// The task runs in a wasmrt.Pool worker: a second process running the same
// program, started at cold start. A task that would outlive the platform's
// deadline is stopped by killing that process shortly before the deadline
// (Options.StopMargin), so the invocation still reports a clear timeout and
// commits nothing, while guest code runs at full speed without preemption
// checks. A program using fnrt therefore calls ServeIfRequested first thing
// in main.
//
// The second process costs little (go test -bench . ./providers/internal/fnrt/
// measures it): starting it is most of New's time, a warm invocation
// through it is no slower than one in process, and its resident memory
// besides the task's is that of the module's machine code and the storage
// driver's buffers (see fnspec.HostReserveMiB). After a task is stopped,
// the next invocation starts a new worker and loads the module from the
// compilation cache again, as a cold start does (BenchmarkFirstInvoke).
//
// # Compilation cache
//
// Platforms mount the function's code read-only, but wazero writes to its
// compilation cache when it has to compile (for instance when the
// precompiled code was made for a CPU with other features). New therefore
// builds a writable cache in Options.ScratchDir whose entries are symbolic
// links to the precompiled files: a hit costs no copy, a miss compiles
// and stores the result beside them.
//
// # Logs
//
// The task's stdout and stderr, capped per invocation, reach Options.Log
// (the function's stderr, which the platform ships to its log service) as
// they are written, one line at a time, each prefixed with "[task] ".
package fnrt
