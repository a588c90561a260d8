package fnspec

// Files of a function artifact, relative to its root directory.
const (
	// SpecFile holds the TaskSpec as JSON.
	SpecFile = "glacier-task.json"
	// ModuleFile is the task's WebAssembly module, byte for byte the one
	// glacier run executes.
	ModuleFile = "task.wasm"
	// PrecompiledDir, when present, is a wazero compilation cache holding
	// the module's machine code for the function's platform, made by the
	// module checker.
	PrecompiledDir = "wazero-cache"
)

// DatasetsEnv names the environment variable that tells the function where
// its datasets live: a JSON object mapping each of the task's inputs and
// outputs, and nothing else, to the URL of its object, such as
// {"orders":"s3://bucket/orders"}.
const DatasetsEnv = "GLACIER_DATASETS"

// StateEnv names the environment variable that gives the URL of the
// store's state (memo entries, refs, run records; see package store), such
// as s3://bucket/glacier. When it is set, the function memoises: it finds
// its inputs' versions through refs, skips the guest when the memo has
// its cache key, and commits through its ref; each dataset's URL is then
// its stable name, in the folder holding its versions.
const StateEnv = "GLACIER_STATE"
