// Command precompiler compiles a task's module into a compilation cache for
// gcfbundle.Package, through fnrt.Precompile. It is built from the same
// module, with the same wazero, as the function that reads the cache, so
// the cache's keys match; it does nothing when run by hand.
package main

import (
	"fmt"
	"os"

	"github.com/glacier-pipeline/glacier/providers/internal/fnrt"
)

func main() {
	fnrt.ServeIfRequested()
	fmt.Fprintln(os.Stderr, "precompiler: gcfbundle.Package runs this program; it has nothing to do when run by hand")
	os.Exit(2)
}
