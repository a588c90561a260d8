package fnspec

// CheckProtocol is the version of CheckRequest and CheckResult. It changes
// whenever they do, so a checker built from other sources says so instead
// of misreading a request.
const CheckProtocol = 1

// CheckRequest asks the module checker to load a task's module as the
// function's sandbox will: from a regular file of bounded size whose
// SHA-256 is the spec's, under the spec's memory limit and compile budget.
type CheckRequest struct {
	// Protocol is CheckProtocol.
	Protocol int `json:"protocol"`
	// Spec is the task's spec.
	Spec TaskSpec `json:"spec"`
	// Module is the path of the module file.
	Module string `json:"module"`
	// Precompile, when set, is an empty directory the checker fills with
	// the module's machine code for this machine (a PrecompiledDir).
	// Empty means check only, which is faster: no machine code is made.
	Precompile string `json:"precompile,omitempty"`
}

// CheckResult is the checker's answer to a CheckRequest.
type CheckResult struct {
	// Kind is empty when the module loads, and otherwise the kind of the
	// refusal, as the function would report it (KindInvalidModule,
	// KindABIVersion, KindCompileBudget, KindMemoryLimit, ...).
	Kind Kind `json:"kind,omitempty"`
	// Error is the sandbox's message, which names the task.
	Error string `json:"error,omitempty"`
}
