package aws

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/etlgolden"
	"github.com/glacier-pipeline/glacier/internal/testutil/fakes3"
	"github.com/glacier-pipeline/glacier/internal/testutil/glacierbin"
	"github.com/glacier-pipeline/glacier/internal/testutil/lambdarie"
	"github.com/glacier-pipeline/glacier/manifest"
	"github.com/glacier-pipeline/glacier/providers/aws/internal/sfntest"
	"github.com/glacier-pipeline/glacier/providers/aws/s3store"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/providers/local"
	"github.com/glacier-pipeline/glacier/store"
)

// TestEndToEnd deploys examples/etl as far as this machine can: the
// compiled state machine runs in aws-local-stepfunctions, each Task state
// invokes the task's own zip, unzipped and served by the Lambda Runtime
// Interface Emulator, and the buckets live in gofakes3, holding what the
// Pulumi program would upload: each source as its stable name and as a
// version in the store, and the source's record in the state bucket.
//
// The first execution runs every task, and every dataset's stable name
// equals, byte for byte, the output glacier run gives
// (examples/etl/testdata/golden). The second runs no guest: every task
// answers cached, from the store. Then one source changes and is deployed
// again: exactly the tasks with a changed input run, every output equals
// glacier run's over the changed project, and every cache key is glacier
// run's. Last, the glacier command against the emulated store: runs,
// datasets and cat with --remote; run --remote in a fresh copy of the
// project, which runs no guest; and run --remote --push after a change
// on the laptop, after which the cloud's execution runs no guest either.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs five functions under the Lambda emulator; run without -short")
	}
	node := sfntest.Find(t)
	out, comp := x86ETL(t)
	m, mods := etl(t)
	opts := x86Opts
	opts.Dir = m.Dir
	dep, probs := designFor(t, m.Pipeline, opts)
	require.NoError(t, probs.Err())
	require.NotEmpty(t, dep.StateLogical, "examples/etl keeps a store")

	s3 := fakes3.Start(t)
	bucket := map[string]string{}
	for _, d := range dep.Datasets {
		bucket[d.Name] = d.Logical + "-e2e"
		s3.CreateBucket(t, bucket[d.Name])
	}
	state := dep.StateLogical + "-e2e"
	s3.CreateBucket(t, state)
	// upload does what the program's uploads do for the project compiled
	// into out with dep.
	upload := func(dep *deployment, out string) {
		compiletest.Upload(t, s3, dep.Deployment, out, "s3", state, func(d string) string { return bucket[d] }, mods)
	}
	upload(dep, out)

	// One emulator per function, with the environment the program gives
	// it, by state name; byName maps a function's name to its task.
	functions := startFunctions(t, dep, out, bucket, state, func(string) map[string]string { return s3.Env() })
	byName := map[string]string{}
	for _, task := range dep.Tasks {
		byName[task.FunctionName] = task.Name
	}

	// execute runs the state machine once and returns each task's
	// response.
	execute := func(run string) map[string]fnspec.Response {
		var mu sync.Mutex
		responses := map[string]fnspec.Response{}
		handler := func(ctx context.Context, state string, input json.RawMessage) (json.RawMessage, error) {
			body, resp, err := invokeTaskState(ctx, input, func(name string) (*lambdarie.Function, error) {
				if byName[name] != state {
					return nil, errors.New("state " + state + " invokes function " + name)
				}
				return functions[state], nil
			})
			if err != nil {
				return nil, err
			}
			mu.Lock()
			responses[state] = resp
			mu.Unlock()
			return body, nil
		}
		// The deadline only stops a hung run.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		res, err := node.Run(ctx, filepath.Join(out, "statemachine.asl.json"), sfntest.Options{ExecutionName: run, Handler: handler})
		require.NoError(t, err)
		require.Equal(t, "SUCCEEDED", res.Status, "%+v", res)
		for _, task := range dep.Tasks {
			resp, ok := responses[task.Name]
			require.True(t, ok, "%s: task %s never ran", run, task.Name)
			assert.Equal(t, task.Name, resp.Task)
			assert.Equal(t, run, resp.RunID, "the execution's name is the run ID")
		}
		return responses
	}
	// check checks that every output's stable name holds want's bytes and
	// that the response names them.
	check := func(run string, responses map[string]fnspec.Response, want func(dataset string) []byte) {
		for _, task := range dep.Tasks {
			for _, ds := range task.Writes {
				got, ok := s3.GetObject(t, bucket[ds], ds)
				require.True(t, ok, "%s: %s wrote no %s", run, task.Name, ds)
				w := want(ds)
				assert.True(t, bytes.Equal(w, got), "%s: %s: %d bytes in S3, %d expected", run, ds, len(got), len(w))
				sum := sha256.Sum256(w)
				assert.Equal(t, fnspec.OutputInfo{Size: int64(len(w)), SHA256: hex.EncodeToString(sum[:])}, responses[task.Name].Outputs[ds])
			}
		}
	}
	statuses := func(responses map[string]fnspec.Response) map[string]string {
		out := map[string]string{}
		for task, r := range responses {
			out[task] = r.Status
		}
		return out
	}
	all := func(status string) map[string]string { return everyTask(dep, status) }
	golden := func(ds string) []byte { return etlgolden.Output(t, ds) }

	first := execute("e2e-run")
	assert.Equal(t, all("succeeded"), statuses(first), "the first execution runs every task")
	check("e2e-run", first, golden)

	second := execute("e2e-again")
	assert.Equal(t, all("cached"), statuses(second), "an unchanged pipeline runs no guest")
	check("e2e-again", second, golden)

	// One customer changes segment; the project is compiled and deployed
	// again, and glacier run over it says what the outputs must be.
	m2, want := etlgolden.Changed(t, mods)
	out2, comp2, dep2 := recompile(t, m2, mods)
	for i, a := range comp2.Artifacts {
		assert.Equal(t, comp.Artifacts[i].ModuleSHA256, a.ModuleSHA256, "a changed source changes no artifact")
	}
	upload(dep2, out2)

	third := execute("e2e-changed")
	t.Logf("after the change: %v", statuses(third))
	expect := map[string]string{}
	for _, task := range dep.Tasks {
		expect[task.Name] = "cached"
		for _, in := range task.Reads {
			if in == etlgolden.ChangedSource || !etlgolden.IsSource(t, in) && !bytes.Equal(golden(in), want(in)) {
				expect[task.Name] = "succeeded"
			}
		}
	}
	assert.Contains(t, expect, "clean_orders")
	assert.Equal(t, "cached", expect["clean_orders"], "orders did not change")
	assert.Equal(t, expect, statuses(third), "exactly the tasks with a changed input run")
	check("e2e-changed", third, want)
	// customer_stats has retention_days: the version the change replaced
	// left its name for its retired one, where a lifecycle rule expires it.
	// daily_revenue has too, but ran to the same bytes: nothing retired.
	compiletest.Retired(t, s3, bucket["customer_stats"], golden("customer_stats"))
	require.Equal(t, "succeeded", third["daily_revenue"].Status)
	compiletest.Kept(t, s3, bucket["daily_revenue"], want("daily_revenue"))
	// Every task's cache key is the one glacier run computed for the same
	// invocation, so results can move between the two.
	localStore, err := local.OpenStore(m2.Dir)
	require.NoError(t, err)
	drv, err := s3store.New(s3.Client, nil)
	require.NoError(t, err)
	s3store.SetDefault(drv)
	t.Cleanup(func() { s3store.SetDefault(nil) })
	cloudStore, err := store.Open(context.Background(), nil, "s3://"+state, dep.Pipeline)
	require.NoError(t, err)
	for _, task := range dep.Tasks {
		lr, ok := localStore.TaskRef(dep.Pipeline, task.Name)
		require.True(t, ok, "glacier run committed no %s", task.Name)
		cr, _, ok, err := cloudStore.Ref(context.Background(), dep.Pipeline, task.Name)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, lr.Key, cr.Key, "%s: the cloud's cache key is glacier run's", task.Name)
	}

	// The CLI reads the deployed store, given its state's URL.
	glacier := glacierbin.Build(t)
	cliIn := func(dir string, args ...string) string {
		t.Helper()
		return glacierbin.Run(t, glacier, dir, s3.Env(), args...)
	}
	cli := func(args ...string) string { t.Helper(); return cliIn(m2.Dir, args...) }
	remote := "s3://" + state
	runs := cli("runs", "--remote", remote)
	t.Logf("glacier runs --remote %s:\n%s", remote, runs)
	assert.Regexp(t, `(?m)^e2e-again +succeeded +.* 5 cached$`, runs)
	assert.Regexp(t, `(?m)^e2e-run +succeeded +.* 5 succeeded$`, runs)
	assert.Regexp(t, `(?m)^e2e-changed +succeeded +.* 1 cached, 4 succeeded$`, runs)
	assert.Regexp(t, `(?m)^clean_orders +cached +\S+ +yes$`, cli("runs", "--remote", remote, "e2e-changed"))
	// The run's record keeps the end of the guest's log, and the link to
	// the whole of it from the variables Lambda sets.
	assert.Regexp(t, `(?m)^summarised \d+ orders of \d+ customers$`, cli("logs", "--remote", remote, "customer_stats"))
	rt, ok, err := cloudStore.RunTaskOf(context.Background(), "e2e-changed", "customer_stats")
	require.NoError(t, err)
	require.True(t, ok)
	// The emulator names the log group as Lambda does, by function.
	assert.Contains(t, rt.LogsURL, "#logsV2:log-groups/log-group/$252Faws$252Flambda$252FFunctions/log-events/", "the link to the whole log")
	datasets := cli("datasets", "--remote", remote)
	t.Logf("glacier datasets --remote %s:\n%s", remote, datasets)
	sum := sha256.Sum256(want("customer_stats"))
	assert.Regexp(t, `(?m)^customer_stats +task customer_stats +\S+ \S+ +`+hex.EncodeToString(sum[:])[:12]+`\S* +e2e-changed$`, datasets)
	assert.Equal(t, string(want("customer_stats")), cli("cat", "--remote", remote, "customer_stats"))
	lineage := cli("lineage", "--remote", remote, "customer_stats")
	t.Logf("glacier lineage --remote %s customer_stats:\n%s", remote, lineage)
	for _, re := range []string{
		`(?m)^customer_stats  sha256:` + hex.EncodeToString(sum[:])[:12] + ` .*\(task customer_stats, module sha256:\w{12}, run e2e-changed\)$`,
		`(?m)^└── enriched_orders  sha256:\w{12} .*\(task enrich, module sha256:\w{12}, run e2e-changed\)$`,
		`(?m)^    │   └── customers_raw  sha256:\w{12} .*\(source data/customers.csv\)$`,
		`(?m)^    └── orders  sha256:\w{12} .*\(task clean_orders, module sha256:\w{12}, run e2e-run, params currency="EUR"\)$`,
		`(?m)^        └── orders_raw  sha256:\w{12} .*\(source data/orders.csv\)$`,
	} {
		assert.Regexp(t, re, lineage)
	}

	// glacier run --remote in a fresh copy of the project reuses what the
	// cloud computed: no guest runs locally, and the outputs are the
	// cloud's, byte for byte.
	fresh := freshProject(t, m2.Dir)
	var rec local.RunRecord
	runOut := cliIn(fresh, "run", "--remote", remote, "--json")
	require.NoError(t, json.Unmarshal([]byte(runOut), &rec))
	require.Len(t, rec.Tasks, len(dep.Tasks))
	for _, task := range rec.Tasks {
		assert.Equal(t, "cached", string(task.Status), task.Task)
		assert.True(t, task.Remote, "%s came from the deployed store", task.Task)
		assert.Zero(t, task.Attempts, "%s ran no guest", task.Task)
	}
	for _, task := range dep.Tasks {
		for _, ds := range task.Writes {
			assert.Equal(t, string(want(ds)), cliIn(fresh, "cat", ds), "%s, pulled from the cloud", ds)
		}
	}

	// The other way: a source changed on the laptop runs there and, with
	// --push, its results go to the deployed store; once the change is
	// deployed, the cloud's execution runs no guest.
	csv := filepath.Join(fresh, "data", "customers.csv")
	data, err := os.ReadFile(csv)
	require.NoError(t, err)
	edited := strings.Replace(string(data), ",smb,", ",enterprise,", 1)
	require.NotEqual(t, string(data), edited)
	require.NoError(t, os.WriteFile(csv, []byte(edited), 0o644))
	require.NoError(t, json.Unmarshal([]byte(cliIn(fresh, "run", "--remote", remote, "--push", "--json")), &rec))
	ran := map[string]string{}
	for _, task := range rec.Tasks {
		ran[task.Task] = string(task.Status)
	}
	assert.Equal(t, "cached", ran["clean_orders"])
	assert.Equal(t, "succeeded", ran["clean_customers"], "the changed source's task ran on the laptop")
	m3, err := manifest.Load(filepath.Join(fresh, manifest.DefaultFile))
	require.NoError(t, err)
	out3, _, dep3 := recompile(t, m3, mods)
	upload(dep3, out3)
	pushed := execute("e2e-pushed")
	assert.Equal(t, all("cached"), statuses(pushed), "the laptop's pushed results make the cloud's execution run no guest")
	check("e2e-pushed", pushed, func(ds string) []byte { return []byte(cliIn(fresh, "cat", ds)) })
}

// freshProject copies the project in dir, without its store, to where
// examples/etl is in a copy of this module's root (its go.mod, go.sum and
// the guest SDK and ABI modules it replaces), so its tasks build to the
// very modules they build to in the repository: a module records its
// dependencies' replacements, so those must be where they are here.
func freshProject(t *testing.T, dir string) string {
	t.Helper()
	root := filepath.Join("..", "..")
	mod := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(root, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(mod, f), data, 0o644))
	}
	for _, d := range []string{"abi", "sdk-guest"} {
		require.NoError(t, os.CopyFS(filepath.Join(mod, d), os.DirFS(filepath.Join(root, d))))
	}
	fresh := filepath.Join(mod, "examples", "etl")
	require.NoError(t, os.CopyFS(fresh, os.DirFS(dir)))
	require.NoError(t, os.RemoveAll(filepath.Join(fresh, ".glacier")))
	return fresh
}
