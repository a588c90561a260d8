package gcp

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// Limits of Cloud Functions (2nd gen) and Workflows that Compile checks.
const (
	// MinMemoryMiB and MaxMemoryMiB bound a function's memory; a task may
	// have at most MaxMemoryMiB less plan.HostReserveMiB.
	MinMemoryMiB = 128
	MaxMemoryMiB = 32 << 10
	// MaxFunctionTimeoutSecs is the longest an HTTP function may run.
	MaxFunctionTimeoutSecs = 3600
	// MaxCallTimeoutSecs is the longest a Workflows HTTP call waits for a
	// response. A task runs inside one call, so it bounds every task's
	// timeout more tightly than Cloud Functions does.
	MaxCallTimeoutSecs = 1800
	// MaxBundleBytes bounds a source bundle: Cloud Functions deploys
	// sources of at most 100 MiB compressed from Cloud Storage.
	MaxBundleBytes = 100 << 20
)

// cpuTiers is the vCPU Cloud Functions gives each memory size: a function
// gets the CPU of the smallest tier that holds its memory. Written as the
// API takes it, in the order of the documentation's table.
var cpuTiers = []struct {
	MemoryMiB int
	CPU       string
}{
	{128, "0.083"},
	{256, "0.167"},
	{512, "0.333"},
	{1 << 10, "0.583"},
	{2 << 10, "1"},
	{4 << 10, "2"},
	{8 << 10, "2"},
	{16 << 10, "4"},
	{32 << 10, "8"},
}

// functionMemory are the memory sizes the compiler gives a function: the
// tiers of cpuTiers, each with its documented vCPU.
var functionMemory = plan.Sizes{Platform: "Cloud Functions (2nd gen)", Min: MinMemoryMiB, Max: MaxMemoryMiB, Tiers: tierSizes()}

func tierSizes() []int {
	sizes := make([]int, len(cpuTiers))
	for i, t := range cpuTiers {
		sizes[i] = t.MemoryMiB
	}
	return sizes
}

// CPUFor returns the vCPU count, as the Cloud Functions API writes it, that
// goes with memoryMiB, and false if memoryMiB is outside MinMemoryMiB to
// MaxMemoryMiB.
func CPUFor(memoryMiB int) (string, bool) {
	if memoryMiB < MinMemoryMiB {
		return "", false
	}
	for _, t := range cpuTiers {
		if memoryMiB <= t.MemoryMiB {
			return t.CPU, true
		}
	}
	return "", false
}

// Regions returns the regions where Cloud Functions (2nd gen) runs, and so
// the values Options.Region accepts.
func Regions() []string {
	return []string{
		"africa-south1",
		"asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3",
		"asia-south1", "asia-south2", "asia-southeast1", "asia-southeast2",
		"australia-southeast1", "australia-southeast2",
		"europe-central2", "europe-north1", "europe-southwest1",
		"europe-west1", "europe-west2", "europe-west3", "europe-west4", "europe-west6",
		"europe-west8", "europe-west9", "europe-west10", "europe-west12",
		"me-central1", "me-central2", "me-west1",
		"northamerica-northeast1", "northamerica-northeast2",
		"southamerica-east1", "southamerica-west1",
		"us-central1", "us-east1", "us-east4", "us-east5", "us-south1",
		"us-west1", "us-west2", "us-west3", "us-west4",
	}
}

// Runtimes returns the Go runtimes of Cloud Functions that are supported
// and not deprecated, oldest first: the values Options.Runtime accepts.
func Runtimes() []string { return []string{"go125", "go126", "go127"} }

// runtimeMinor returns 26 for "go126".
func runtimeMinor(rt string) (int, bool) {
	rest, ok := strings.CutPrefix(rt, "go1")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// goMinor returns 26 for a go line "1.26.3" or "1.26".
func goMinor(version string) (int, bool) {
	parts := strings.Split(version, ".")
	if len(parts) < 2 || parts[0] != "1" {
		return 0, false
	}
	n, err := strconv.Atoi(parts[1])
	return n, err == nil
}

// runtimeFor picks the runtime for a bundle whose go.mod says goVersion:
// want if set (it must be able to build the bundle), else the newest
// runtime that can.
func runtimeFor(goVersion, want string) (string, error) {
	need, ok := goMinor(goVersion)
	if !ok {
		return "", fmt.Errorf("its bundle's go.mod has go line %q, which is not a Go version", goVersion)
	}
	if want != "" {
		have, _ := runtimeMinor(want)
		if have < need {
			return "", fmt.Errorf("runtime %s cannot build its bundle, whose go.mod needs Go %s; use one of %s or leave the runtime unset",
				want, goVersion, strings.Join(runtimesFrom(need), ", "))
		}
		return want, nil
	}
	fit := runtimesFrom(need)
	if len(fit) == 0 {
		return "", fmt.Errorf("its bundle's go.mod needs Go %s, newer than every Go runtime of Cloud Functions (%s)",
			goVersion, strings.Join(Runtimes(), ", "))
	}
	return fit[len(fit)-1], nil
}

func runtimesFrom(minor int) []string {
	var out []string
	for _, rt := range Runtimes() {
		if n, _ := runtimeMinor(rt); n >= minor {
			out = append(out, rt)
		}
	}
	return out
}

var (
	projectRE    = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	labelKeyRE   = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	labelValueRE = regexp.MustCompile(`^[a-z0-9_-]{0,63}$`)
)

// labelling: a resource takes 64 labels, and the compiler sets two.
var labelling = compile.Tagging{Word: "label", Pipeline: labelPipeline, Max: 62, Check: checkLabel}

// check reports invalid options of Google Cloud's own, and region, as
// problems of kind "option".
func (o Options) check(region string, report plan.Report) {
	errorf := func(name string) func(string, ...any) { return report(glacier.Error, "option", name) }
	if !slices.Contains(Regions(), region) {
		errorf("region")("%q is not a region where Cloud Functions (2nd gen) runs; use one of %s", region, strings.Join(Regions(), ", "))
	}
	if o.Project != "" && !projectRE.MatchString(o.Project) {
		errorf("project")("%q is not a Google Cloud project ID: 6 to 30 lowercase letters, digits and hyphens, "+
			"starting with a letter and not ending with a hyphen", o.Project)
	}
	if o.Runtime != "" && !slices.Contains(Runtimes(), o.Runtime) {
		errorf("runtime")("%q is not a supported Go runtime of Cloud Functions; use one of %s", o.Runtime, strings.Join(Runtimes(), ", "))
	}
}

func checkLabel(k, v string) string {
	switch {
	case !labelKeyRE.MatchString(k):
		return "a key has 1 to 63 lowercase letters, digits, '_' and '-', and starts with a letter"
	case !labelValueRE.MatchString(v):
		return "a value has at most 63 lowercase letters, digits, '_' and '-'"
	case strings.HasPrefix(k, "goog"):
		return "keys starting with goog are reserved by Google Cloud"
	case strings.HasPrefix(k, "glacier-"):
		return "keys starting with glacier- are set by the compiler"
	}
	return ""
}

// checkFunction reports what Cloud Functions and Workflows refuse of a
// task's timeout.
func checkFunction(t taskDecl, errorf func(string, ...any)) {
	switch timeout := t.Limits.TimeoutSecs; {
	case timeout > MaxFunctionTimeoutSecs:
		errorf("timeout is %d s; a Cloud Functions (2nd gen) HTTP function runs at most %d s (60 minutes), "+
			"and the workflow waits at most %d s for it, so set compute timeout to %d or less or split the task",
			timeout, MaxFunctionTimeoutSecs, MaxCallTimeoutSecs, MaxCallTimeoutSecs)
	case timeout > MaxCallTimeoutSecs:
		errorf("timeout is %d s; Cloud Functions would run it, but a Workflows HTTP call waits at most %d s (30 minutes) "+
			"for the function's answer, so set compute timeout to %d or less or split the task",
			timeout, MaxCallTimeoutSecs, MaxCallTimeoutSecs)
	case timeout < 1:
		errorf("timeout is %d s; set a positive compute timeout", timeout)
	}
}

// checkMap warns of a map task's max_concurrency over what Workflows runs
// at once: the workflow runs its batches at Workflows' limit instead.
func checkMap(t taskDecl, warnf func(string, ...any)) {
	if t.Map != "" && t.MaxConcurrency > maxConcurrentIterations {
		warnf("max_concurrency is %d; Workflows runs at most %d iterations of an execution at once, "+
			"and a batch runs its %d parts one after another, so at most %d parts run at once",
			t.MaxConcurrency, maxConcurrentIterations, t.Batch(), maxConcurrentIterations)
	}
}
