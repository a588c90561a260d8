package aws

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// Lambda's limits, checked at compile time.
const (
	// MinMemoryMiB and MaxMemoryMiB bound a function's memory; a task may
	// have at most MaxMemoryMiB less plan.HostReserveMiB.
	MinMemoryMiB   = 128
	MaxMemoryMiB   = 10240
	MaxTimeoutSecs = 900
	// MaxZipBytes is the largest zip Lambda accepts uploaded directly, as
	// the Pulumi program does.
	MaxZipBytes = 50 << 20
	// MaxUnzippedBytes is the largest a function's unzipped code may be.
	MaxUnzippedBytes = 250 << 20
	// MaxEnvBytes bounds a function's environment variables, keys and
	// values together.
	MaxEnvBytes = 4 << 10
	// MaxMapConcurrency is the most child executions a Distributed Map
	// runs at once.
	MaxMapConcurrency = 10000
)

// lambdaMemory are the memory sizes of a Lambda function: every MiB from
// MinMemoryMiB to MaxMemoryMiB.
var lambdaMemory = plan.Sizes{Platform: "AWS Lambda", Min: MinMemoryMiB, Max: MaxMemoryMiB}

// logRetentionDays are the retention periods CloudWatch Logs accepts; 0
// keeps logs forever.
var logRetentionDays = []int{0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)

// tagging: a resource takes 50 tags, and the compiler sets two.
var tagging = compile.Tagging{Word: "tag", Pipeline: "glacier:pipeline", Max: 48, Check: checkTag}

// check reports invalid options of AWS's own, and region, as problems of
// kind "option".
func (o Options) check(region string, report plan.Report) {
	errorf := func(name string) func(string, ...any) { return report(glacier.Error, "option", name) }
	if !regionRE.MatchString(region) {
		errorf("region")("%q is not an AWS region name such as us-east-1 or eu-west-3", region)
	}
	if !validArch(o.Arch) {
		errorf("arch")("%q is not a Lambda architecture; use arm64 or x86_64", o.Arch)
	}
	if !slices.Contains(logRetentionDays, o.Defaults.LogRetentionDays) {
		errorf("defaults")("log retention %d days is not one CloudWatch Logs accepts; use one of %s",
			o.Defaults.LogRetentionDays, joinInts(logRetentionDays[1:]))
	}
}

func checkTag(k, v string) string {
	tagChar := func(s string) bool {
		return strings.IndexFunc(s, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsSpace(r) && !strings.ContainsRune("_.:/=+-@", r)
		}) < 0
	}
	switch {
	case k == "" || len([]rune(k)) > 128:
		return "a key has 1 to 128 characters"
	case len([]rune(v)) > 256:
		return "a value has at most 256 characters"
	case strings.HasPrefix(strings.ToLower(k), "aws:"):
		return "keys starting with aws: are reserved by AWS"
	case strings.HasPrefix(k, "glacier:"):
		return "keys starting with glacier: are set by the compiler"
	case !tagChar(k) || !tagChar(v):
		return "tags may hold only letters, digits, spaces and _ . : / = + - @"
	}
	return ""
}

func validArch(a Arch) bool { return a == ArchARM64 || a == ArchX86_64 }

// checkFunction reports what Lambda refuses of a task's settings: its
// timeout, and the environment naming its datasets.
func checkFunction(t taskDecl, errorf func(string, ...any)) {
	if t.Limits.TimeoutSecs > MaxTimeoutSecs {
		errorf("timeout is %d s; an AWS Lambda function runs at most %d s (15 minutes), so lower compute timeout or split the task",
			t.Limits.TimeoutSecs, MaxTimeoutSecs)
	}
	if n := envSize(t.Touches()); n > MaxEnvBytes {
		errorf("touches %d datasets, and naming their objects in GLACIER_DATASETS may take %d bytes, over Lambda's %d-byte "+
			"environment limit; split the task", len(t.Touches()), n, MaxEnvBytes)
	}
}

// checkMap warns of a map task's max_concurrency over what a Distributed
// Map runs at once: the state machine runs its batches at that limit
// instead.
func checkMap(t taskDecl, warnf func(string, ...any)) {
	if t.Map != "" && t.MaxConcurrency > MaxMapConcurrency {
		warnf("max_concurrency is %d; a Step Functions Distributed Map runs at most %d child executions at once, "+
			"each a batch of %d parts one after another, so at most %d parts run at once",
			t.MaxConcurrency, MaxMapConcurrency, t.Batch(), MaxMapConcurrency)
	}
}

// envSize bounds the size of a function's environment naming datasets,
// with bucket names at their longest.
func envSize(datasets []string) int {
	n := len("GLACIER_DATASETS") + len("{}")
	for i, d := range datasets {
		// "d":"s3://<63>/d"
		n += len(d)*2 + len(`"":"s3:///"`) + plan.S3Bucket.MaxLen
		if i > 0 {
			n++
		}
	}
	return n
}

// checkArtifact reports a zip whose code is too large unzipped.
func checkArtifact(packed plan.Packed, problem func(string, ...any)) {
	if packed.Unzipped > MaxUnzippedBytes {
		problem("its code is %s unzipped, over Lambda's %s; make the module smaller", plan.MiB(packed.Unzipped), plan.MiB(MaxUnzippedBytes))
	}
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
