package main

import (
	"os"
	"testing"

	"github.com/glacier-pipeline/glacier/cmd/glacier/internal/cli"
	"github.com/glacier-pipeline/glacier/wasmrt"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	wasmrt.ServeWorkerIfRequested()
	testscript.Main(m, map[string]func(){
		"glacier": func() { os.Exit(cli.Main()) },
	})
}

// TestScripts runs the end-to-end scripts in testdata/script: each is a
// txtar archive of files and glacier commands with their expected output.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			// Tasks build with the machine's Go toolchain and caches.
			for _, k := range []string{"HOME", "GOPATH", "GOCACHE", "GOMODCACHE", "GOFLAGS", "GOPROXY"} {
				if v, ok := os.LookupEnv(k); ok {
					env.Setenv(k, v)
				}
			}
			return nil
		},
	})
}
