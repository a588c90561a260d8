package main

import (
	"os"
	"testing"

	"github.com/glacier-pipeline/glacier/cmd/glacier/internal/cli"
	"github.com/glacier-pipeline/glacier/providers/local"
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
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// holdlock DIR COMMAND [ARGS...] runs COMMAND while holding the
			// store lock of the project in DIR, as a concurrent run would.
			"holdlock": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 2 {
					ts.Fatalf("usage: holdlock dir command [args...]")
				}
				store, err := local.OpenStore(ts.MkAbs(args[0]))
				ts.Check(err)
				unlock, err := store.Lock()
				ts.Check(err)
				defer unlock()
				err = ts.Exec(args[1], args[2:]...)
				switch {
				case err != nil && !neg:
					ts.Fatalf("%s: %v", args[1], err)
				case err == nil && neg:
					ts.Fatalf("%s succeeded unexpectedly", args[1])
				}
			},
		},
	})
}
