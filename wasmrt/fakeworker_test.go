package wasmrt

import (
	"encoding/json"
	"fmt"
	"os"
)

// A test binary started with GLACIER_WASMRT_TEST_FAKE_WORKER set acts as a
// worker that completes the handshake and then dies on its first job, the
// way a worker hit by a runtime bug would: "crash" dies with a line on
// stderr once the module is loaded, "fatal" with a Go fatal error and 20 KiB
// of stack traces after it, "oom-loading" with Go's out-of-memory error
// before the module is loaded. init runs before TestMain, so the fake takes
// over before the real worker code could.
func init() {
	mode := os.Getenv("GLACIER_WASMRT_TEST_FAKE_WORKER")
	if mode == "" {
		return
	}
	var cfg workerConfig
	if err := json.Unmarshal([]byte(os.Getenv(workerEnv)), &cfg); err != nil {
		os.Exit(3)
	}
	jobs := os.NewFile(uintptr(cfg.JobsFD), "jobs")
	replies := os.NewFile(uintptr(cfg.RepliesFD), "replies")
	_ = json.NewEncoder(replies).Encode(reply{Op: "hello", Version: protocolVersion})
	var r request
	if err := json.NewDecoder(jobs).Decode(&r); err != nil {
		os.Exit(0)
	}
	if mode == "oom-loading" {
		fatal("runtime: out of memory: cannot allocate 4194304-byte block (268435456 in use)", "fatal error: out of memory")
	}
	_ = json.NewEncoder(replies).Encode(reply{Op: "loaded"})
	if mode == "fatal" {
		fatal("fatal error: concurrent map writes")
	}
	fmt.Fprintln(os.Stderr, "fake worker: simulated crash")
	os.Exit(7)
}

// fatal writes lines to stderr as the Go runtime does when it dies, stack
// traces included, and exits with its code.
func fatal(lines ...string) {
	for _, l := range lines {
		fmt.Fprintln(os.Stderr, l)
	}
	fmt.Fprintln(os.Stderr, "\ngoroutine 1 gp=0xc000002380 m=0 mp=0x5d4ba0 [running]:")
	for i := range 200 {
		fmt.Fprintf(os.Stderr, "runtime.frame%d(...)\n\t/usr/local/go/src/runtime/proc.go:%d +0x1d\n", i, 1000+i)
	}
	os.Exit(2)
}
