// Package sdkguest carries the sources of the guest SDK, so the glacier CLI
// can hand them to a new project.
package sdkguest

import "embed"

// Sources holds the guest SDK's non-test Go files under their paths in this
// directory: task/, tasktest/ and the internal/ packages they import.
// glacier init copies them into a new project as a module of its own, beside
// a copy of the host ABI's module (abi.Sources), so the project's tasks
// build, and their tests run, offline and without fetching the Glacier
// module.
//
// Embed patterns cannot leave out _test.go files, so the files are listed
// one by one; a test checks the list against what the packages need.
//
//go:embed internal/host/host.go internal/host/wasm_other.go internal/host/wasm_wasip1.go
//go:embed internal/memhost/memhost.go
//go:embed task/dataset.go task/doc.go task/json.go task/parts.go task/run.go task/task.go
//go:embed tasktest/tasktest.go
var Sources embed.FS
