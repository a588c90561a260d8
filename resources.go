package glacier

import (
	"slices"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
)

// Hints are opaque provider-specific settings, keyed "<provider>_<setting>"
// (for example "aws_storage_class"). The core keeps them as given; only the
// compiler for that provider reads them, and it warns about keys it does not
// know. Keys with a provider prefix other than KnownHintPrefixes are kept but
// draw a validation warning.
type Hints map[string]string

var knownHintPrefixes = []string{"aws", "gcp", "azure"}

// KnownHintPrefixes returns the provider prefixes a hint key may start
// with.
func KnownHintPrefixes() []string { return slices.Clone(knownHintPrefixes) }

// Storage is the generic storage a dataset lives in: one of ObjectStorage,
// Database, Cache or Queue.
type Storage interface {
	// StorageType names the kind: "object", "database", "cache" or "queue".
	StorageType() string
	// ProviderHints returns the storage's provider hints; it may be nil.
	ProviderHints() Hints
}

// AccessPattern says how often a dataset is read, so a compiler can pick a
// storage class. The zero value leaves the choice to the provider.
type AccessPattern string

// Access patterns.
const (
	AccessFrequent   AccessPattern = "frequent"
	AccessInfrequent AccessPattern = "infrequent"
	AccessArchive    AccessPattern = "archive"
)

var accessPatterns = []AccessPattern{AccessFrequent, AccessInfrequent, AccessArchive}

// AccessPatterns returns the valid non-empty access patterns.
func AccessPatterns() []AccessPattern { return slices.Clone(accessPatterns) }

// ObjectStorage keeps a dataset as objects: S3 on AWS, Cloud Storage on GCP,
// files in .glacier/ locally.
type ObjectStorage struct {
	AccessPattern AccessPattern
	// Versioning keeps earlier versions of the dataset's objects.
	Versioning bool
	// Encryption asks for explicit server-side encryption at rest.
	Encryption bool
	// RetentionDays expires objects (or, with versioning, earlier versions)
	// after this many days; zero keeps them.
	RetentionDays int
	Hints         Hints
}

// Database keeps a dataset as a table (for example DynamoDB or Firestore).
// It is part of the model but not yet runnable: Validate refuses it until
// an executor and the compilers implement it.
type Database struct {
	Encryption bool
	// RetentionDays is how long backups are kept; zero is the provider's default.
	RetentionDays int
	Hints         Hints
}

// Cache keeps a dataset in a key-value cache. It is part of the model but
// not yet runnable: Validate refuses it.
type Cache struct {
	// TTLSeconds is how long an entry lives; zero is the provider's default.
	TTLSeconds int
	Hints      Hints
}

// Queue keeps a dataset as a stream of messages. It is part of the model
// but not yet runnable: Validate refuses it.
type Queue struct {
	Encryption bool
	// RetentionDays is how long an unread message is kept; zero is the provider's default.
	RetentionDays int
	Hints         Hints
}

// StorageType implements Storage.
func (ObjectStorage) StorageType() string { return "object" }

// StorageType implements Storage.
func (Database) StorageType() string { return "database" }

// StorageType implements Storage.
func (Cache) StorageType() string { return "cache" }

// StorageType implements Storage.
func (Queue) StorageType() string { return "queue" }

// ProviderHints implements Storage.
func (s ObjectStorage) ProviderHints() Hints { return s.Hints }

// ProviderHints implements Storage.
func (s Database) ProviderHints() Hints { return s.Hints }

// ProviderHints implements Storage.
func (s Cache) ProviderHints() Hints { return s.Hints }

// ProviderHints implements Storage.
func (s Queue) ProviderHints() Hints { return s.Hints }

// Compute is the generic compute a task runs on: one of Local, Container or
// Serverless. Every kind runs the same WebAssembly module.
type Compute interface {
	// ComputeType names the kind: "local", "container" or "serverless".
	ComputeType() string
	// ProviderHints returns the compute's provider hints; it may be nil.
	ProviderHints() Hints
}

// Local runs a task on the machine that runs the pipeline. It cannot be
// compiled for a cloud.
type Local struct {
	// Workers is the seed model's compute.local(workers=N). It must be positive
	// when set; the local executor's parallelism is chosen per run instead
	// (glacier run --parallel), so today it is validated and otherwise unused.
	Workers int
	// Memory caps the sandbox's memory in MiB; zero means DefaultMemory.
	Memory int
	// Timeout stops the task after this many seconds; zero means DefaultTimeout.
	Timeout int
	Compile CompileBudget
	Hints   Hints
}

// Container runs a task in a container service (for example ECS Fargate or
// Cloud Run jobs). It is part of the model but not yet runnable: Validate
// refuses it until an executor and the compilers implement it.
type Container struct {
	// Image overrides the runtime image; empty means the provider's Glacier runtime.
	Image string
	// CPU is the number of vCPUs; zero means one.
	CPU float64
	// Memory in MiB; zero means DefaultMemory.
	Memory int
	// Timeout in seconds; zero means DefaultTimeout.
	Timeout int
	Compile CompileBudget
	Hints   Hints
}

// Serverless runs a task as a function (AWS Lambda, Cloud Functions).
type Serverless struct {
	// Memory in MiB; zero means DefaultMemory.
	Memory int
	// Timeout in seconds; zero means DefaultTimeout.
	Timeout int
	Compile CompileBudget
	Hints   Hints
}

// CompileBudget bounds reading and compiling a task's module, which come
// before its Memory and Timeout apply: a module beyond it fails as too
// costly to compile, whatever it would do when run. Zero fields leave the
// runner's default (see docs/sandbox.md).
type CompileBudget struct {
	// MemoryMiB bounds the memory compiling may take, in MiB.
	MemoryMiB int
	// TimeoutSecs bounds the time compiling may take, in seconds.
	TimeoutSecs int
}

// Defaults for compute settings left at zero.
const (
	DefaultMemory  = 512 // MiB
	DefaultTimeout = 300 // seconds
)

// ComputeType implements Compute.
func (Local) ComputeType() string { return "local" }

// ComputeType implements Compute.
func (Container) ComputeType() string { return "container" }

// ComputeType implements Compute.
func (Serverless) ComputeType() string { return "serverless" }

// ProviderHints implements Compute.
func (c Local) ProviderHints() Hints { return c.Hints }

// ProviderHints implements Compute.
func (c Container) ProviderHints() Hints { return c.Hints }

// ProviderHints implements Compute.
func (c Serverless) ProviderHints() Hints { return c.Hints }

// Limits are the sandbox limits a compute setting implies, with defaults
// applied: what every executor and runtime enforces.
type Limits struct {
	MemoryMiB   int
	TimeoutSecs int
	// Compile is the compute's compile budget, zeros kept: the runner
	// fills in its own defaults.
	Compile CompileBudget
}

// LimitsOf returns the memory and timeout a task's compute asks for, with
// the defaults filled in. A nil compute means Local{}.
func LimitsOf(c Compute) Limits {
	var mem, timeout int
	var compile CompileBudget
	switch c := c.(type) {
	case Local:
		mem, timeout, compile = c.Memory, c.Timeout, c.Compile
	case Container:
		mem, timeout, compile = c.Memory, c.Timeout, c.Compile
	case Serverless:
		mem, timeout, compile = c.Memory, c.Timeout, c.Compile
	}
	if mem == 0 {
		mem = DefaultMemory
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return Limits{MemoryMiB: mem, TimeoutSecs: timeout, Compile: compile}
}

// String formats the limits for messages and cache keys. It leaves out the
// compile budget, which cannot change what a task computes.
func (l Limits) String() string {
	return fnspec.FormatLimits(l.MemoryMiB, l.TimeoutSecs)
}
