package gcp

import (
	"encoding/json"
	"fmt"
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
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// call is one task call found in a workflow definition.
type call struct {
	Task       string
	URL        string
	Predicate  string
	MaxRetries int
	Timeout    int
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
				inner := branch["steps"].([]any)
				require.Len(t, inner, 2, "branch %s runs and saves one task", bname)
				c := callOf(t, toStep(t, inner[0]), toStep(t, inner[1]))
				assert.Equal(t, "task_"+stepID(c.Task), bname)
				wave = append(wave, c)
			}
			waves = append(waves, wave)
			continue
		}
		require.Less(t, i+1, len(body), "step %s has no save step", name)
		waves = append(waves, []call{callOf(t, body[i], body[i+1])})
		i++
	}
	return urlVars, waves
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

// callOf checks a run step and its save step and returns the call.
func callOf(t *testing.T, run, save yamlStep) call {
	t.Helper()
	rname, r := only(t, run)
	try := r["try"].(map[string]any)
	assert.Equal(t, "http.post", try["call"])
	args := try["args"].(map[string]any)
	m := urlRE.FindStringSubmatch(args["url"].(string))
	require.NotNil(t, m, "url %q", args["url"])
	c := call{Task: m[1], URL: args["url"].(string)}
	assert.Equal(t, "run_"+stepID(c.Task), rname)
	assert.Equal(t, map[string]any{"type": "OIDC"}, args["auth"])
	assert.Equal(t, map[string]any{"run_id": `${sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}`}, args["body"])
	c.Timeout = args["timeout"].(int)
	result := try["result"].(string)
	retry := r["retry"].(map[string]any)
	c.Predicate = retry["predicate"].(string)
	c.MaxRetries = retry["max_retries"].(int)
	assert.Equal(t, map[string]any{"initial_delay": 2, "max_delay": 60, "multiplier": 2}, retry["backoff"])

	sname, s := only(t, save)
	assert.Equal(t, "save_"+stepID(c.Task), sname)
	assert.Equal(t, []any{map[string]any{fmt.Sprintf("results[%q]", c.Task): "${" + result + ".body}"}}, s["assign"])
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
