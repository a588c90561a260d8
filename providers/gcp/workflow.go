package gcp

import (
	"fmt"
	"strconv"
	"strings"
)

// Retry backoff of a failed task call: 2, 4, 8, ... seconds, at most 60.
const (
	backoffInitialSecs = 2
	backoffMaxSecs     = 60
	backoffMultiplier  = 2
	// serviceRetries is how often a call Cloud Functions refused before
	// running the task (HTTP 429 or 503) is retried for a task that has no
	// retries of its own.
	serviceRetries = 3
)

// urlsLine is the line of the definition that main.go replaces with the
// functions' URLs, which are known only once they are deployed.
const urlsLine = "          - urls: {}\n"

// definition renders the Workflows definition that runs dep's tasks wave
// by wave: a wave of one task calls it; a wave of several runs one
// parallel branch per task. Each call posts {"run_id": <execution ID>} to
// the task's function with an OIDC token and keeps the answer in results,
// which the workflow returns.
func definition(dep *deployment) []byte {
	byName := map[string]taskDecl{}
	for _, t := range dep.Tasks {
		byName[t.Name] = t
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Runs the Glacier pipeline %s on Google Cloud, wave by wave: the tasks\n", dep.Pipeline)
	b.WriteString("# of a wave run in parallel branches, each a call to the task's Cloud Function.\n")
	b.WriteString("# glacier compile --target gcp wrote this file; main.go deploys it with the\n")
	b.WriteString("# functions' URLs in place of the empty urls map below.\n")
	b.WriteString("main:\n")
	b.WriteString("  steps:\n")
	b.WriteString("    - init:\n")
	b.WriteString("        assign:\n")
	b.WriteString(urlsLine)
	b.WriteString("          - results: {}\n")
	for i, wave := range dep.Waves {
		fmt.Fprintf(&b, "    # Wave %d: %s.\n", i+1, strings.Join(wave, ", "))
		if len(wave) == 1 {
			writeCall(&b, byName[wave[0]], "    ")
			continue
		}
		fmt.Fprintf(&b, "    - wave_%d:\n", i+1)
		b.WriteString("        parallel:\n")
		b.WriteString("          shared: [results]\n")
		b.WriteString("          branches:\n")
		for _, name := range wave {
			t := byName[name]
			fmt.Fprintf(&b, "            - task_%s:\n", t.Step)
			b.WriteString("                steps:\n")
			writeCall(&b, t, "                  ")
		}
	}
	b.WriteString("    - finish:\n")
	b.WriteString("        return: ${results}\n")
	b.WriteString(`
# task_failed says whether a failed call is worth retrying: the task failed
# (HTTP 500), Cloud Functions could not run it (429, 502, 503, 504), or the
# connection broke or timed out. A refused request (400, 403, 404) is not.
task_failed:
  params: [e]
  steps:
    - classify:
        switch:
          - condition: ${"ConnectionError" in e.tags or "TimeoutError" in e.tags}
            return: true
          - condition: ${not("HttpError" in e.tags)}
            return: false
          - condition: ${e.code == 429 or e.code >= 500}
            return: true
    - other:
        return: false
`)
	return []byte(b.String())
}

// writeCall writes the steps that run one task, indented by indent.
func writeCall(b *strings.Builder, t taskDecl, indent string) {
	w := func(depth int, format string, args ...any) {
		b.WriteString(indent + strings.Repeat("  ", depth))
		fmt.Fprintf(b, format, args...)
		b.WriteString("\n")
	}
	q := strconv.Quote(t.Name)
	w(0, "- run_%s:", t.Step)
	w(2, "try:")
	w(3, "call: http.post")
	w(3, "args:")
	w(4, "url: ${urls[%s]}", q)
	w(4, "auth:")
	w(5, "type: OIDC")
	w(4, "body:")
	w(5, `run_id: ${sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}`)
	w(4, "timeout: %d", t.CallTimeoutSecs)
	w(3, "result: %s_response", t.Step)
	w(2, "retry:")
	if t.Retries > 0 {
		w(3, "predicate: ${task_failed}")
		w(3, "max_retries: %d", t.Retries)
	} else {
		w(3, "predicate: ${http.default_retry_predicate_non_idempotent}")
		w(3, "max_retries: %d", serviceRetries)
	}
	w(3, "backoff:")
	w(4, "initial_delay: %d", backoffInitialSecs)
	w(4, "max_delay: %d", backoffMaxSecs)
	w(4, "multiplier: %d", backoffMultiplier)
	w(0, "- save_%s:", t.Step)
	w(2, "assign:")
	w(3, "- results[%s]: ${%s_response.body}", q, t.Step)
}
