package gcp

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
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

// The functions' URLs exist only once they are deployed, so the workflow
// reads them from environment variables the program sets on it, each a
// JSON object of URLs by task name: the definition is deployed as
// written. Workflows takes at most maxEnvVars variables of at most
// maxEnvValueBytes each, and a function's URL, that of its Cloud Run
// service (https://<a 63-character label>.a.run.app), is at most
// maxURLBytes long.
const (
	maxEnvVars       = 20
	maxEnvValueBytes = 4 << 10
	maxURLBytes      = 128
	urlsEnv          = "GLACIER_URLS"
)

// urlVar is one environment variable of the workflow holding the URLs of
// some tasks' functions.
type urlVar struct {
	Name  string
	Tasks []string
}

// urlVars spreads the tasks' URLs over as few variables as hold them at
// their longest, in declaration order: GLACIER_URLS, then GLACIER_URLS_2
// and so on.
func urlVars(tasks []taskDecl) []urlVar {
	var out []urlVar
	size := 0
	for _, t := range tasks {
		entry := len(strconv.Quote(t.Name)) + len(`:"",`) + maxURLBytes
		if len(out) == 0 || size+entry > maxEnvValueBytes-len("{}") {
			name := urlsEnv
			if len(out) > 0 {
				name = fmt.Sprintf("%s_%d", urlsEnv, len(out)+1)
			}
			out = append(out, urlVar{Name: name})
			size = 0
		}
		out[len(out)-1].Tasks = append(out[len(out)-1].Tasks, t.Name)
		size += entry
	}
	return out
}

// workflowDef is a Workflows definition: the main workflow and the
// subworkflow task_failed, the predicate of a task's own retries.
type workflowDef struct {
	Main       subworkflow
	TaskFailed subworkflow
	// Comment heads the file.
	Comment string
}

type subworkflow struct {
	Params []string `yaml:"params,omitempty,flow"`
	Steps  []step   `yaml:"steps"`
}

// step is one named step; it is written as a map with one key, its name,
// under an optional comment.
type step struct {
	Name    string
	Comment string
	Body    stepBody
}

// stepBody holds what one kind of step needs; the others stay empty.
type stepBody struct {
	Assign   []assignment `yaml:"assign,omitempty"`
	Try      *httpCall    `yaml:"try,omitempty"`
	Retry    *retryPolicy `yaml:"retry,omitempty"`
	Except   *except      `yaml:"except,omitempty"`
	Parallel *parallel    `yaml:"parallel,omitempty"`
	Steps    []step       `yaml:"steps,omitempty"`
	Switch   []condition  `yaml:"switch,omitempty"`
	Call     string       `yaml:"call,omitempty"`
	Args     any          `yaml:"args,omitempty"`
	Return   any          `yaml:"return,omitempty"`
}

// assignment assigns one variable; it is written as a map with one key.
type assignment struct {
	Name  string
	Value any
}

// httpCall posts the run's ID, and for a map task what to do, to a task's
// function with an OIDC token.
type httpCall struct {
	Call   string   `yaml:"call"`
	Args   httpArgs `yaml:"args"`
	Result string   `yaml:"result"`
}

type httpArgs struct {
	URL     string            `yaml:"url"`
	Auth    map[string]string `yaml:"auth"`
	Body    callBody          `yaml:"body"`
	Timeout int               `yaml:"timeout"`
}

// callBody is an fnspec.Request: the run's ID and, for a map task, what
// to do.
type callBody struct {
	RunID  string `yaml:"run_id"`
	Plan   bool   `yaml:"plan,omitempty"`
	Batch  string `yaml:"batch,omitempty"`
	Commit bool   `yaml:"commit,omitempty"`
}

// logArgs are sys.log's arguments.
type logArgs struct {
	Severity string `yaml:"severity"`
	JSON     any    `yaml:"json"`
}

// batchFailure is what the workflow logs of a map task's batch that
// failed.
type batchFailure struct {
	Task  string `yaml:"task"`
	Batch string `yaml:"batch"`
	Error string `yaml:"error"`
}

// except handles what its step's try raised, once the retries are spent.
type except struct {
	As    string `yaml:"as"`
	Steps []step `yaml:"steps"`
}

type retryPolicy struct {
	Predicate  string  `yaml:"predicate"`
	MaxRetries int     `yaml:"max_retries"`
	Backoff    backoff `yaml:"backoff"`
}

type backoff struct {
	InitialDelay int `yaml:"initial_delay"`
	MaxDelay     int `yaml:"max_delay"`
	Multiplier   int `yaml:"multiplier"`
}

// parallel runs branches, or the iterations of a for loop, at once.
type parallel struct {
	Shared           []string `yaml:"shared,omitempty,flow"`
	ConcurrencyLimit int      `yaml:"concurrency_limit,omitempty"`
	Branches         []step   `yaml:"branches,omitempty"`
	For              *forLoop `yaml:"for,omitempty"`
}

// forLoop runs its steps once for each integer of Range, both ends
// included, as Value.
type forLoop struct {
	Value string `yaml:"value"`
	Range []any  `yaml:"range,flow"`
	Steps []step `yaml:"steps"`
}

// condition is one case of a switch: it returns Return, or jumps to the
// step Next.
type condition struct {
	Condition string `yaml:"condition"`
	Next      string `yaml:"next,omitempty"`
	Return    any    `yaml:"return,omitempty"`
}

// MarshalYAML writes the step as a map with one key; marshal adds its
// comment.
func (s step) MarshalYAML() (any, error) {
	return map[string]stepBody{s.Name: s.Body}, nil
}

// MarshalYAML writes the assignment as a map with one key.
func (a assignment) MarshalYAML() (any, error) {
	return map[string]any{a.Name: a.Value}, nil
}

// Definition implements compile.Target: workflow.yaml, the Workflows
// definition that runs dep's tasks wave by wave: a wave of one task calls
// it; a wave of several runs one parallel branch per task. Each call posts
// {"run_id": <execution ID>} to the task's function with an OIDC token and
// keeps the answer in results, which the workflow returns; a map task is a
// plan, a parallel loop over its batches and a commit (see mapSteps).
func (target) Definition(dep *deployment) (pulumiproject.File, error) {
	init := step{Name: "init", Body: stepBody{}}
	for i, v := range dep.URLVars {
		urls := fmt.Sprintf("json.decode(sys.get_env(%q))", v.Name)
		if i > 0 {
			urls = "map.merge(urls, " + urls + ")"
		}
		init.Body.Assign = append(init.Body.Assign, assignment{"urls", "${" + urls + "}"})
	}
	init.Body.Assign = append(init.Body.Assign, assignment{"results", map[string]any{}})
	steps := []step{init}
	for i, wave := range dep.TaskWaves() {
		comment := fmt.Sprintf("Wave %d: %s.", i+1, strings.Join(dep.Waves[i], ", "))
		for _, j := range wave {
			if t := dep.Tasks[j]; t.Map != "" {
				comment += "\n" + mapComment(t)
			}
		}
		if len(wave) == 1 {
			call := callSteps(dep.Tasks[wave[0]])
			call[0].Comment = comment
			steps = append(steps, call...)
			continue
		}
		par := &parallel{Shared: []string{"results"}}
		for _, j := range wave {
			t := dep.Tasks[j]
			par.Branches = append(par.Branches, step{Name: "task_" + t.Step, Body: stepBody{Steps: callSteps(t)}})
		}
		steps = append(steps, step{Name: fmt.Sprintf("wave_%d", i+1), Comment: comment, Body: stepBody{Parallel: par}})
	}
	steps = append(steps, step{Name: "finish", Body: stepBody{Return: "${results}"}})

	def := workflowDef{
		Comment: fmt.Sprintf("Runs the Glacier pipeline %s on Google Cloud, wave by wave: the tasks of a wave\n"+
			"run in parallel branches, each a call to the task's Cloud Function. glacier compile\n"+
			"--target gcp wrote this file, and main.go deploys it as it is, with the functions'\n"+
			"URLs in the workflow's environment variables %s.", dep.Pipeline, urlVarNames(dep.URLVars)),
		Main: subworkflow{Steps: steps},
		TaskFailed: subworkflow{Params: []string{"e"}, Steps: []step{
			{Name: "classify", Body: stepBody{Switch: []condition{
				{Condition: `${"ConnectionError" in e.tags or "TimeoutError" in e.tags}`, Return: true},
				{Condition: `${not("HttpError" in e.tags)}`, Return: false},
				{Condition: `${e.code == 429 or e.code >= 500}`, Return: true},
			}}},
			{Name: "other", Body: stepBody{Return: false}},
		}},
	}
	data, err := def.marshal()
	return pulumiproject.File{Name: "workflow.yaml", Data: data}, err
}

// callSteps are the steps that run one task: its call, then keeping its
// answer; a map task's are mapSteps.
func callSteps(t taskDecl) []step {
	if t.Map != "" {
		return mapSteps(t)
	}
	return []step{
		{Name: "run_" + t.Step, Body: t.invoke(callBody{}, t.Step+"_response")},
		t.save(),
	}
}

// maxConcurrentIterations is how many branches and iterations Workflows
// runs at once in one execution: a map task's batches run at most this
// many at a time, whatever its max_concurrency.
const maxConcurrentIterations = 20

// mapSteps are the steps that run a map task: a call asks its function
// how many batches of parts the mapped input makes; a parallel loop calls
// it once per batch index, at most concurrency(t) at once; a last call
// commits the run's parts, and its answer is kept. Only batch indexes
// pass through the workflow's variables, never keys: Workflows holds at
// most 512 KB of them in an execution.
//
// A batch that fails, once its retries are spent, fails the loop, and so
// the workflow, before the commit: nothing is committed. A task with
// tolerated_failures logs the failure instead and lets the commit decide,
// since only the function knows how many parts failed and how many there
// are. With no batches at all the loop is skipped: the commit writes
// empty outputs.
func mapSteps(t taskDecl) []step {
	plan, index := t.Step+"_plan", t.Step+"_batch"
	batch := t.invoke(callBody{Batch: "${" + index + "}"}, t.Step+"_batch_response")
	if t.ToleratedFailures > 0 {
		batch.Except = &except{As: "e", Steps: []step{{Name: "tolerate_" + t.Step, Body: stepBody{
			Call: "sys.log",
			Args: logArgs{Severity: "WARNING", JSON: batchFailure{Task: t.Name, Batch: "${" + index + "}", Error: "${e}"}},
		}}}}
	}
	return []step{
		{Name: "plan_" + t.Step, Body: t.invoke(callBody{Plan: true}, plan)},
		{Name: "skip_" + t.Step, Body: stepBody{Switch: []condition{
			{Condition: "${" + plan + ".body.batches == 0}", Next: "commit_" + t.Step},
		}}},
		{Name: "map_" + t.Step, Body: stepBody{Parallel: &parallel{
			ConcurrencyLimit: concurrency(t),
			For: &forLoop{
				Value: index,
				Range: []any{0, "${" + plan + ".body.batches - 1}"},
				Steps: []step{{Name: "batch_" + t.Step, Body: batch}},
			},
		}}},
		{Name: "commit_" + t.Step, Body: t.invoke(callBody{Commit: true}, t.Step+"_response")},
		t.save(),
	}
}

// mapComment says how a map task's steps run it.
func mapComment(t taskDecl) string {
	s := fmt.Sprintf("%s maps over %s: plan_%s counts its batches of %d parts, map_%s runs them, at most %d at once,\n"+
		"and commit_%s publishes its outputs", t.Name, t.Map, t.Step, t.Batch(), t.Step, concurrency(t), t.Step)
	if t.ToleratedFailures > 0 {
		return s + fmt.Sprintf(" if at most %g%% of its parts failed.", t.ToleratedFailures)
	}
	return s + " if every batch succeeded."
}

// concurrency is how many of a map task's batches run at once: its
// max_concurrency, within Workflows' limit. A batch runs its parts one
// after another, so it bounds the parts running at once too.
func concurrency(t taskDecl) int {
	if t.MaxConcurrency > 0 && t.MaxConcurrency < maxConcurrentIterations {
		return t.MaxConcurrency
	}
	return maxConcurrentIterations
}

// invoke is a step posting body, with the run's ID, to t's function and
// keeping the answer in result, with t's retry policy: its own retries of
// a failed task, or only those of calls Cloud Functions refused before
// running it.
func (t taskDecl) invoke(body callBody, result string) stepBody {
	body.RunID = `${sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}`
	retry := &retryPolicy{
		Predicate:  "${http.default_retry_predicate_non_idempotent}",
		MaxRetries: serviceRetries,
		Backoff:    backoff{InitialDelay: backoffInitialSecs, MaxDelay: backoffMaxSecs, Multiplier: backoffMultiplier},
	}
	if t.Retries > 0 {
		retry.Predicate, retry.MaxRetries = "${task_failed}", t.Retries
	}
	return stepBody{
		Try: &httpCall{
			Call: "http.post",
			Args: httpArgs{
				URL:     "${urls[" + strconv.Quote(t.Name) + "]}",
				Auth:    map[string]string{"type": "OIDC"},
				Body:    body,
				Timeout: t.CallTimeoutSecs,
			},
			Result: result,
		},
		Retry: retry,
	}
}

// save keeps the answer of t's last call in results.
func (t taskDecl) save() step {
	return step{Name: "save_" + t.Step, Body: stepBody{Assign: []assignment{
		{"results[" + strconv.Quote(t.Name) + "]", "${" + t.Step + "_response.body}"},
	}}}
}

// marshal writes the definition as YAML, with its comments.
func (d workflowDef) marshal() ([]byte, error) {
	var doc yaml.Node
	err := doc.Encode(struct {
		Main       subworkflow `yaml:"main"`
		TaskFailed subworkflow `yaml:"task_failed"`
	}{d.Main, d.TaskFailed})
	if err != nil {
		return nil, fmt.Errorf("gcp: workflow definition: %w", err)
	}
	doc.HeadComment = d.Comment
	doc.Content[2].HeadComment = "task_failed says whether a failed call is worth retrying: the task failed\n" +
		"(HTTP 500), Cloud Functions could not run it (429, 502, 503, 504), or the\n" +
		"connection broke or timed out. A refused request (400, 403, 404) is not, nor\n" +
		"is a failure no retry fixes (424: a missing bucket, denied access, an output\n" +
		"that broke its contract)."
	// The steps of main, each a map with one key, get their comments.
	comments := map[string]string{}
	for _, s := range d.Main.Steps {
		comments[s.Name] = s.Comment
	}
	for _, item := range doc.Content[1].Content[1].Content {
		item.HeadComment = comments[item.Content[0].Value]
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("gcp: workflow definition: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func urlVarNames(vars []urlVar) string {
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.Name
	}
	return strings.Join(names, ", ")
}
