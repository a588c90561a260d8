// Package gcfbundle packages Glacier tasks as Google Cloud Functions (2nd
// gen) on the Go runtime. Each function is a source bundle, a zip laid out
// the way the Cloud Functions Go buildpack builds it:
//
//	go.mod, go.sum         module glacier.local/function; the Glacier module is
//	                       replaced by its vendored copy (it is not published)
//	function.go            the function package: registers EntryPoint in init
//	cmd/main.go            serves the function locally (the buildpack ignores it)
//	task.wasm              the task's module, byte for byte (fnspec.ModuleFile)
//	glacier-task.json      the task's fnspec.TaskSpec (fnspec.SpecFile)
//	wazero-cache/          the module's precompiled machine code, optional
//	                       (fnspec.PrecompiledDir)
//	vendor/                every package the function imports, so the build
//	                       needs no network and no unpublished module
//
// The function itself is gcfrt: at cold start it reads the task's files from
// the function's source directory and starts the wasmrt sandbox; each
// request runs the task once.
//
//	zip, err := gcfbundle.Package(ctx, gcfbundle.PackageOptions{
//		Spec:     spec,
//		WasmPath: mod.Path,
//		CacheDir: ".glacier/cache",
//	})
//
// Deploy it with runtime Runtime and entry point EntryPoint, and set
// GLACIER_DATASETS (fnspec.DatasetsEnv) in the function's environment.
//
// The same inputs give the same zip bytes on the same kind of machine:
// entries are sorted and carry fixed timestamps and modes, vendoring is
// deterministic, and so is the precompiled code (which depends on the
// packaging machine's CPU features; see Precompilable).
//
// # Vendoring
//
// The Glacier module is not published, so the buildpack could not download
// it. Package vendors instead: it writes a temporary module holding the
// bundle's Go source, requiring the Glacier module (replaced by its source,
// found by artifact.SourceDir: GLACIER_SOURCE, a released version's
// download, or the tree this package was built from) at the versions its
// go.mod pins, runs `go mod vendor`, cuts the
// requirements to the modules that provide packages and vendors again. The
// modules come from the module cache; the go command downloads only what
// is missing, checked against the Glacier module's go.sum. In the bundle the
// replacement points at the vendored copy, and go.sum keeps only the lines
// of the modules vendored. The buildpack builds a vendored module offline
// (a go.mod of go 1.14 or later and a vendor directory make the go command
// use -mod=vendor), and it accepts vendored dependencies because the
// Functions Framework is among them. Vendoring runs once per process; the
// shared files (about 41 MiB of source) are about 9.5 MiB of each zip, so a
// bundle is 9.5 to 10 MiB without precompiled code and about 12 MiB with it.
//
// # Precompiled code
//
// Without it, a cold start compiles the module: well over a second here for
// a 3 MiB module, and longer on a Cloud Function's fraction of a CPU. With
// it the module loads in tens of milliseconds, for a few MiB more of zip
// (BenchmarkColdStart and BenchmarkPackage measure both; the README's
// table has the figures). wazero files it under a directory
// named after its version, the architecture and the OS, with a key hashing
// the module and the CPU features it compiled for (SSE4.1, BMI1, ABM), and
// checks its version again in the file's header; a function whose wazero or
// CPU differs misses the cache and compiles as if there were none, so the
// risk is a slower cold start, never wrong code. (The code is made by the
// module checker (package modcheck), a program built from the same module
// as the function, with the sandbox configured as the function's, since
// the key does not cover wazero's settings.) The function's code
// directory may be read-only, so fnrt links the shipped files into a
// writable cache at cold start. Cloud Functions runs linux/amd64, on
// server CPUs that have had all three features for a decade, which is why
// Package precompiles only on a linux/amd64 machine; a packaging machine
// without them makes code the function ignores.
package gcfbundle
