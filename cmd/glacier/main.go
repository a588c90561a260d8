// Command glacier declares, runs and compiles Glacier pipelines: datasets and
// tasks whose bodies are WebAssembly modules run in a sandbox.
//
// Run `glacier help` for the commands, and see the README for a quickstart.
package main

import (
	"os"

	"github.com/glacier-pipeline/glacier/cmd/glacier/internal/cli"
	"github.com/glacier-pipeline/glacier/wasmrt"
)

func main() {
	// Task sandboxes run in worker processes that are this program again.
	wasmrt.ServeWorkerIfRequested()
	os.Exit(cli.Main())
}
