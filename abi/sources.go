package abi

import "embed"

// Sources holds this package's Go source, so glacier init can copy the ABI
// into a new project as a module of its own, beside its copy of the guest
// SDK, and the project's tasks build offline. A test checks that it holds
// every file the package builds from.
//
//go:embed abi.go key.go sources.go
var Sources embed.FS
