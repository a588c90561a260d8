package wasmrt

import (
	"encoding/json"
	"fmt"
	"os"
)

// A test binary started with GLACIER_WASMRT_TEST_FAKE_WORKER=crash acts as a
// worker that completes the handshake and then dies on its first job, the
// way a worker hit by a runtime bug would. init runs before TestMain, so the
// fake takes over before the real worker code could.
func init() {
	if os.Getenv("GLACIER_WASMRT_TEST_FAKE_WORKER") != "crash" {
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
	_ = json.NewEncoder(replies).Encode(reply{Op: "loaded"})
	fmt.Fprintln(os.Stderr, "fake worker: simulated crash")
	os.Exit(7)
}
