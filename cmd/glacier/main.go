// Command glacier declares, runs and compiles Glacier pipelines: datasets and
// tasks whose bodies are WebAssembly modules run in a sandbox.
//
// Run `glacier help` for the commands, and see the README for a quickstart.
package main

import (
	"os"

	"github.com/glacier-pipeline/glacier/cmd/glacier/internal/cli"
)

func main() { os.Exit(cli.Main()) }
