package gcfbundle

// The Go source of every bundle. It is the same for every task: a bundle's
// task is its files (fnspec.ModuleFile, fnspec.SpecFile), which gcfrt reads at
// cold start.

// functionSource is the function package, at the bundle's root. It imports
// the Functions Framework's functions package itself because that is how
// the Cloud Functions buildpack recognises a function that registers
// itself by name (and generates a main that only imports it).
const functionSource = `// Package function is the Google Cloud Function of one Glacier task. Its
// entry point is ` + EntryPoint + `; gcfrt does the work.
package function

import (
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle/gcfrt"
)

// init, not main: Cloud Functions generates this program's main, and a
// sandbox worker (this same binary, re-executed) must take over inside
// gcfrt.Start before that main starts serving.
func init() {
	functions.HTTP(gcfrt.EntryPoint, gcfrt.Start().ServeHTTP)
}
`

// cmdSource serves the function locally as Cloud Functions does; the
// buildpack ignores it and generates its own main.
const cmdSource = `// Command cmd serves the function locally, as Cloud Functions does:
//
//	FUNCTION_TARGET=` + EntryPoint + ` PORT=8080 \
//	GLACIER_DATASETS='{"in": "gs://bucket/in", "out": "gs://bucket/out"}' \
//	STORAGE_EMULATOR_HOST=localhost:4443 go run ./cmd
//
// then POST {"run_id": "..."} to it. Run it from the bundle's directory,
// where the task's files are. Cloud Functions does not use it.
package main

import (
	"log"
	"os"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	_ "` + bundleModule + `"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if err := funcframework.StartHostPort(os.Getenv("HOST"), port); err != nil {
		log.Fatalf("serve the function: %v", err)
	}
}
`
