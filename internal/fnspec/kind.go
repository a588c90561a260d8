package fnspec

// Kind names a kind of failure. Platforms expose it where callers branch
// on it (Lambda's errorType, for Step Functions retries; a Cloud
// Function's failure body), and the sandbox's worker processes send it
// across their pipe, so a kind's name never changes.
type Kind string

// Kinds of failure. The sandbox reports those from TaskFailed to
// Contract (wasmrt.KindOf); the function runtimes add the others.
const (
	KindTaskFailed    Kind = "TaskFailed"    // the task exited with a non-zero code or returned an error
	KindTimeout       Kind = "Timeout"       // the task ran out of time
	KindCanceled      Kind = "Canceled"      // the invocation was canceled
	KindMemoryLimit   Kind = "MemoryLimit"   // the task asked for more memory than its limit
	KindMissingOutput Kind = "MissingOutput" // the task succeeded without writing a declared output
	KindABIVersion    Kind = "ABIVersion"    // the module was built for another host ABI
	KindFault         Kind = "Fault"         // the task passed a bad argument to the host
	KindTrap          Kind = "Trap"          // the module trapped
	KindStorage       Kind = "Storage"       // reading or writing a dataset failed; worth a retry
	KindStorageDenied Kind = "StorageDenied" // the storage refused for good (missing bucket, access denied); not retried
	KindWorkerCrashed Kind = "WorkerCrashed" // the sandbox process died
	KindInvalidModule Kind = "InvalidModule" // the module was refused before it ran
	KindCompileBudget Kind = "CompileBudget" // compiling the module took too long or too much memory
	KindHostBug       Kind = "HostBug"       // the host failed in a way no task may cause
	KindContract      Kind = "Contract"      // the task wrote an output that breaks its dataset's schema

	KindInit       Kind = "Init"       // the function could not start: its deployment is broken
	KindBadRequest Kind = "BadRequest" // the invocation's payload is not a valid Request
	KindError      Kind = "Error"      // anything else
)

// Permanent reports whether a failure of kind k is one no retry can fix,
// so that no platform retries it: storage that refused for good, and an
// output that broke its contract (the same inputs break it again), which
// glacier run does not retry either. The state machine's and the
// workflow's retries skip them.
func (k Kind) Permanent() bool { return k == KindStorageDenied || k == KindContract }

// PermanentKinds returns the kinds whose Permanent is true.
func PermanentKinds() []Kind { return []Kind{KindStorageDenied, KindContract} }

// ErrorType returns the errorType a Lambda function reports for a failure
// of kind k, "Glacier." and k, which a Step Functions Retry's ErrorEquals
// names.
func (k Kind) ErrorType() string { return "Glacier." + string(k) }
