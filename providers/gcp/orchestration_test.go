package gcp

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// call is one task call found in a workflow definition.
type call struct {
	Task       string
	URL        string
	Predicate  string
	MaxRetries int
	Timeout    int
	// Map is how a map task's batches run; nil for a task that does not
	// map.
	Map *mapRun
}

// mapRun is how the workflow runs a map task's batches.
type mapRun struct {
	Concurrency int
	// Tolerant: a batch that fails is logged, and the commit decides.
	Tolerant bool
}

// yamlStep is a workflow step: a map with one key, the step's name.
type yamlStep = map[string]map[string]any

// parseWorkflow parses a definition and returns the environment variables
// it reads the functions' URLs from, and its task calls wave by wave,
// failing t if the definition does not have the shape definition writes:
// init, one step (or step pair) per wave, finish.
func parseWorkflow(t *testing.T, src []byte) (urlVars []string, waves [][]call) {
	t.Helper()
	var doc struct {
		Main struct {
			Steps []yamlStep `yaml:"steps"`
		} `yaml:"main"`
		TaskFailed map[string]any `yaml:"task_failed"`
	}
	require.NoError(t, yaml.Unmarshal(src, &doc), "the definition must be YAML")
	require.NotNil(t, doc.TaskFailed, "the task_failed predicate is defined")
	steps := doc.Main.Steps
	require.GreaterOrEqual(t, len(steps), 2)

	init := steps[0]["init"]
	require.NotNil(t, init, "the first step is init")
	for i, a := range init["assign"].([]any) {
		for k, v := range a.(map[string]any) {
			if k == "urls" {
				re := urlsRE
				if i > 0 {
					re = moreURLsRE
				}
				m := re.FindStringSubmatch(v.(string))
				require.NotNil(t, m, "urls are read from the workflow's environment: %v", v)
				urlVars = append(urlVars, m[1])
			}
		}
	}
	require.Contains(t, steps[len(steps)-1], "finish")
	assert.Equal(t, "${results}", steps[len(steps)-1]["finish"]["return"])

	body := steps[1 : len(steps)-1]
	for i := 0; i < len(body); i++ {
		name, step := only(t, body[i])
		if par, ok := step["parallel"].(map[string]any); ok {
			assert.Regexp(t, `^wave_\d+$`, name)
			assert.Equal(t, []any{"results"}, par["shared"])
			var wave []call
			for _, br := range par["branches"].([]any) {
				bname, branch := only(t, toStep(t, br))
				var inner []yamlStep
				for _, s := range branch["steps"].([]any) {
					inner = append(inner, toStep(t, s))
				}
				c, n := taskCall(t, inner)
				require.Len(t, inner, n, "branch %s runs one task", bname)
				assert.Equal(t, "task_"+stepID(c.Task), bname)
				wave = append(wave, c)
			}
			waves = append(waves, wave)
			continue
		}
		c, n := taskCall(t, body[i:])
		waves = append(waves, []call{c})
		i += n - 1
	}
	return urlVars, waves
}

// taskCall checks the steps that run one task at the head of steps: a
// call and its save step, or a map task's five steps. It returns the call
// and how many steps it took.
func taskCall(t *testing.T, steps []yamlStep) (call, int) {
	t.Helper()
	name, _ := only(t, steps[0])
	if !strings.HasPrefix(name, "plan_") {
		require.GreaterOrEqual(t, len(steps), 2, "step %s has no save step", name)
		return callOf(t, steps[0], steps[1], nil), 2
	}
	require.GreaterOrEqual(t, len(steps), 5, "map task %s has plan, skip, map, commit and save steps", name)
	id := strings.TrimPrefix(name, "plan_")
	plan := postOf(t, steps[0], map[string]any{"plan": true})
	assert.Equal(t, id+"_plan", plan.result)

	sname, skip := only(t, steps[1])
	assert.Equal(t, "skip_"+id, sname)
	assert.Equal(t, []any{map[string]any{"condition": "${" + id + "_plan.body.batches == 0}", "next": "commit_" + id}}, skip["switch"],
		"no batches: straight to the commit")

	mname, m := only(t, steps[2])
	assert.Equal(t, "map_"+id, mname)
	par := m["parallel"].(map[string]any)
	run := &mapRun{Concurrency: par["concurrency_limit"].(int)}
	assert.NotContains(t, par, "shared", "an iteration writes nothing the workflow keeps")
	loop := par["for"].(map[string]any)
	assert.Equal(t, id+"_batch", loop["value"])
	assert.Equal(t, []any{0, "${" + id + "_plan.body.batches - 1}"}, loop["range"])
	inner := loop["steps"].([]any)
	require.Len(t, inner, 1)
	batch := toStep(t, inner[0])
	bname, b := only(t, batch)
	assert.Equal(t, "batch_"+id, bname)
	bc := postOf(t, batch, map[string]any{"batch": "${" + id + "_batch}"})
	assert.Equal(t, id+"_batch_response", bc.result)
	if exc, ok := b["except"].(map[string]any); ok {
		run.Tolerant = true
		assert.Equal(t, "e", exc["as"])
		assert.Equal(t, []any{map[string]any{"tolerate_" + id: map[string]any{"call": "sys.log", "args": map[string]any{
			"severity": "WARNING", "json": map[string]any{"task": bc.Task, "batch": "${" + id + "_batch}", "error": "${e}"},
		}}}}, exc["steps"])
	}

	c := callOf(t, steps[3], steps[4], map[string]any{"commit": true})
	c.Map = run
	for _, other := range []call{plan.call, bc.call} {
		other.Map = run
		assert.Equal(t, c, other, "every call of map task %s is the same but for its body", c.Task)
	}
	return c, 5
}

// urlsRE and moreURLsRE match the assignments of the functions' URLs:
// from one environment variable, then merged with those of the next.
var (
	urlsRE     = regexp.MustCompile(`^\$\{json\.decode\(sys\.get_env\("([A-Z0-9_]+)"\)\)\}$`)
	moreURLsRE = regexp.MustCompile(`^\$\{map\.merge\(urls, json\.decode\(sys\.get_env\("([A-Z0-9_]+)"\)\)\)\}$`)
)

func only(t *testing.T, s yamlStep) (string, map[string]any) {
	t.Helper()
	require.Len(t, s, 1, "a step is a map with one key")
	for k, v := range s {
		return k, v
	}
	return "", nil
}

func toStep(t *testing.T, v any) yamlStep {
	t.Helper()
	m, ok := v.(map[string]any)
	require.True(t, ok, "a step is a map: %v", v)
	out := yamlStep{}
	for k, inner := range m {
		im, ok := inner.(map[string]any)
		require.True(t, ok, "step %s holds a map", k)
		out[k] = im
	}
	return out
}

var urlRE = regexp.MustCompile(`^\$\{urls\["([a-z0-9_-]+)"\]\}$`)

// post is a call step: the call, and the variable its answer goes to.
type post struct {
	call
	result string
}

// postOf checks a step posting the run's ID and the fields of body to a
// task's function.
func postOf(t *testing.T, s yamlStep, body map[string]any) post {
	t.Helper()
	_, r := only(t, s)
	try := r["try"].(map[string]any)
	assert.Equal(t, "http.post", try["call"])
	args := try["args"].(map[string]any)
	m := urlRE.FindStringSubmatch(args["url"].(string))
	require.NotNil(t, m, "url %q", args["url"])
	c := call{Task: m[1], URL: args["url"].(string)}
	assert.Equal(t, map[string]any{"type": "OIDC"}, args["auth"])
	want := map[string]any{"run_id": `${sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}`}
	maps.Copy(want, body)
	assert.Equal(t, want, args["body"])
	c.Timeout = args["timeout"].(int)
	retry := r["retry"].(map[string]any)
	c.Predicate = retry["predicate"].(string)
	c.MaxRetries = retry["max_retries"].(int)
	assert.Equal(t, map[string]any{"initial_delay": 2, "max_delay": 60, "multiplier": 2}, retry["backoff"])
	return post{call: c, result: try["result"].(string)}
}

// callOf checks a call step posting body and its save step, and returns
// the call.
func callOf(t *testing.T, run, save yamlStep, body map[string]any) call {
	t.Helper()
	rname, r := only(t, run)
	p := postOf(t, run, body)
	c := p.call
	want := "run_"
	if body != nil {
		want = "commit_"
	}
	assert.Equal(t, want+stepID(c.Task), rname)
	assert.NotContains(t, r, "except", "a failed %s fails the workflow", rname)
	assert.Equal(t, stepID(c.Task)+"_response", p.result)

	sname, s := only(t, save)
	assert.Equal(t, "save_"+stepID(c.Task), sname)
	assert.Equal(t, []any{map[string]any{fmt.Sprintf("results[%q]", c.Task): "${" + p.result + ".body}"}}, s["assign"])
	return c
}

// stepID is the step identifier of the test pipelines' tasks.
func stepID(task string) string { return strings.ReplaceAll(task, "-", "_") }

func TestWorkflowDefinition(t *testing.T) {
	out := t.TempDir()
	compileETL(t, out, Options{})
	src, err := os.ReadFile(filepath.Join(out, "workflow.yaml"))
	require.NoError(t, err)
	urlVars, waves := parseWorkflow(t, src)
	assert.Equal(t, []string{urlsEnv}, urlVars, "the URLs are in the workflow's environment, which main.go sets")

	// examples/etl: two cleaners, then enrich, then two summaries.
	want := [][]string{{"clean_orders", "clean_customers"}, {"enrich"}, {"daily_revenue", "customer_stats"}}
	require.Len(t, waves, len(want))
	for i, wave := range waves {
		var names []string
		for _, c := range wave {
			names = append(names, c.Task)
		}
		assert.Equal(t, want[i], names, "wave %d", i+1)
	}
	byTask := map[string]call{}
	for _, wave := range waves {
		for _, c := range wave {
			byTask[c.Task] = c
		}
	}
	// clean_orders has retries: 2; the others none, so only calls Cloud
	// Functions refused are retried.
	assert.Equal(t, call{Task: "clean_orders", URL: `${urls["clean_orders"]}`, Predicate: "${task_failed}", MaxRetries: 2, Timeout: 90},
		byTask["clean_orders"])
	assert.Equal(t, call{Task: "enrich", URL: `${urls["enrich"]}`, Predicate: "${http.default_retry_predicate_non_idempotent}",
		MaxRetries: serviceRetries, Timeout: 150}, byTask["enrich"])
}

// TestURLVars: the functions' URLs fit the workflow's environment, at their
// longest, in as few variables as hold them.
func TestURLVars(t *testing.T) {
	tasks := func(n int) []taskDecl {
		var out []taskDecl
		for i := range n {
			out = append(out, taskDecl{Task: &compile.Task{Task: plan.Task{Task: glacier.Task{Name: fmt.Sprintf("%040d", i)}}}})
		}
		return out
	}
	assert.Equal(t, []urlVar{{Name: "GLACIER_URLS", Tasks: []string{"t"}}},
		urlVars([]taskDecl{{Task: &compile.Task{Task: plan.Task{Task: glacier.Task{Name: "t"}}}}}))

	vars := urlVars(tasks(50))
	require.Greater(t, len(vars), 1, "fifty long names take more than one variable")
	var names, all []string
	for _, v := range vars {
		names = append(names, v.Name)
		all = append(all, v.Tasks...)
		urls := map[string]string{}
		for _, task := range v.Tasks {
			urls[task] = "https://" + strings.Repeat("u", maxURLBytes-len("https://"))
		}
		js, err := json.Marshal(urls)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(js), maxEnvValueBytes, "%s holds its URLs at their longest", v.Name)
	}
	assert.Equal(t, "GLACIER_URLS", names[0])
	assert.Equal(t, "GLACIER_URLS_2", names[1])
	assert.Len(t, all, 50, "every task's URL is in one variable")

	// The definition reads them all, merged.
	task := &compile.Task{Task: plan.Task{Task: glacier.Task{Name: "t"}}}
	dep := &deployment{Deployment: &compile.Deployment{Pipeline: "p", Waves: [][]string{{"t"}}, Tasks: []*compile.Task{task}},
		Tasks: []taskDecl{{Task: task, Step: "t"}}, URLVars: vars[:2]}
	def, err := target{}.Definition(dep)
	require.NoError(t, err)
	got, _ := parseWorkflow(t, def.Data)
	assert.Equal(t, []string{"GLACIER_URLS", "GLACIER_URLS_2"}, got)

	// More tasks than Workflows' environment can name are refused.
	p := glacier.New("wide")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "in.csv"), nil, 0o644))
	require.NoError(t, p.AddDataset(glacier.Dataset{Name: "in", Storage: glacier.ObjectStorage{}, Source: "in.csv"}))
	for i := range 600 {
		name := fmt.Sprintf("task_with_a_name_long_enough_to_fill_%03d", i)
		require.NoError(t, p.AddDataset(glacier.Dataset{Name: name, Storage: glacier.ObjectStorage{}}))
		require.NoError(t, p.AddTask(glacier.Task{Name: name, Module: "m.wasm", Inputs: []string{"in"}, Outputs: []string{name},
			Compute: glacier.Serverless{}}))
	}
	require.NoError(t, p.Validate().Err())
	_, probs := designFor(t, p, Options{Dir: dir})
	require.Len(t, probs.Errors(), 1)
	assert.Contains(t, probs.Errors()[0].String(), "pipeline: has 600 tasks, whose functions' URLs take")
}

// TestMapWorkflow: examples/logs' map tasks are each a plan, a parallel
// loop over batch indexes and a commit; a task that does not map is the
// usual call.
func TestMapWorkflow(t *testing.T) {
	out := t.TempDir()
	compileLogs(t, out, Options{})
	src, err := os.ReadFile(filepath.Join(out, "workflow.yaml"))
	require.NoError(t, err)
	_, waves := parseWorkflow(t, src)
	require.Len(t, waves, 3)
	for _, w := range waves {
		require.Len(t, w, 1)
	}
	// parse: max_concurrency 8 and tolerated_failures 10%; daily:
	// Workflows' limit, and a failed batch fails the workflow.
	assert.Equal(t, &mapRun{Concurrency: 8, Tolerant: true}, waves[0][0].Map)
	assert.Equal(t, "parse", waves[0][0].Task)
	assert.Equal(t, &mapRun{Concurrency: maxConcurrentIterations}, waves[1][0].Map)
	assert.Nil(t, waves[2][0].Map, "all_time does not map")
}

// TestMapInWave: a map task sharing a wave with another task runs its
// steps in its branch, and a max_concurrency over Workflows' limit is
// warned of and capped.
func TestMapInWave(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.log", "b/c.log"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, "logs", f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "logs", f), []byte(f), 0o644))
	}
	obj := glacier.ObjectStorage{}
	p := glacier.New("wave")
	require.NoError(t, p.AddDataset(glacier.Dataset{Name: "logs", Storage: obj, Source: "logs", Partitioned: true}))
	require.NoError(t, p.AddDataset(glacier.Dataset{Name: "parsed", Storage: obj, Partitioned: true}))
	require.NoError(t, p.AddDataset(glacier.Dataset{Name: "count", Storage: obj}))
	require.NoError(t, p.AddTask(glacier.Task{Name: "parse", Module: "m.wasm", Inputs: []string{"logs"}, Outputs: []string{"parsed"},
		Map: "logs", MaxConcurrency: 50, Compute: glacier.Serverless{}}))
	require.NoError(t, p.AddTask(glacier.Task{Name: "count", Module: "m.wasm", Inputs: []string{"logs"}, Outputs: []string{"count"},
		Compute: glacier.Serverless{}}))
	require.NoError(t, p.Validate().Err())

	dep, probs := designFor(t, p, Options{Dir: dir})
	require.NoError(t, probs.Err())
	errs, warns := compiletest.Problems(probs)
	assert.Empty(t, errs)
	assert.Equal(t, []string{`task "parse": max_concurrency is 50; Workflows runs at most 20 iterations of an execution at once, ` +
		`and a batch runs its 50 parts one after another, so at most 20 parts run at once`}, warns)

	def, err := target{}.Definition(dep)
	require.NoError(t, err)
	_, waves := parseWorkflow(t, def.Data)
	require.Len(t, waves, 1)
	require.Len(t, waves[0], 2, "parse and count run in one wave")
	assert.Equal(t, "parse", waves[0][0].Task)
	assert.Equal(t, &mapRun{Concurrency: maxConcurrentIterations}, waves[0][0].Map)
	assert.Nil(t, waves[0][1].Map)
}
