package gcp

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject/projecttest"
	"github.com/glacier-pipeline/glacier/store"
)

// Values of testdata/mocks/outputs.go.txt.
const (
	mockProject = "glacier-test"
	mockSuffix  = "-a1b2c3d"
)

// TestProject compiles examples/etl once, then builds the written project
// in its own directory and runs its program under Pulumi's mocks. Both
// compile the Pulumi GCP SDK, so it runs only with GLACIER_PULUMI_TESTS=1.
func TestProject(t *testing.T) {
	projecttest.Require(t)
	out := t.TempDir()
	comp := compileETL(t, out, Options{Project: "my-project"})
	modules := map[string]string{}
	for _, a := range comp.Artifacts {
		modules[a.Task] = a.ModuleSHA256
	}
	compiletest.Project(t, &spec, out, func(t *testing.T, prog projecttest.Program) { checkProgram(t, out, prog, modules) })
}

// TestModuleFiles checks that the embedded go.mod pins the SDK versions
// the compiler names; TestProject -update rewrites it.
func TestModuleFiles(t *testing.T) { compiletest.ModuleFiles(t, &spec) }

// checkProgram checks what examples/etl's program declares.
func checkProgram(t *testing.T, out string, prog projecttest.Program, modules map[string]string) {
	assert.Equal(t, projecttest.Project{Name: "etl-gcp", Runtime: "go",
		Config: map[string]any{"gcp:project": "my-project", "gcp:region": "us-central1"}}, prog.Project, "Pulumi loads Pulumi.yaml")
	resources := prog.Resources
	m := etl(t)
	pl, err := plan.New(m.Pipeline, nil)
	require.NoError(t, err)

	counts := map[string]int{}
	for _, r := range resources {
		counts[r.Type]++
	}
	nd, nt := len(pl.Datasets), len(pl.Tasks)
	writes := 0
	reads := 0
	for _, task := range pl.Tasks {
		reads += len(task.Reads)
		writes += len(task.Writes)
	}
	dep, probs := designFor(t, m.Pipeline, Options{Dir: m.Dir, Project: "my-project"})
	require.NoError(t, probs.Err())
	// Exactly these resources: the only project-wide IAM bindings are the
	// build account's two.
	assert.Equal(t, map[string]int{
		"gcp:storage/bucket:Bucket":                        nd + 2,                       // and the bundles' and the state's
		"gcp:storage/bucketObject:BucketObject":            3*len(pl.Sources()) + nt + 1, // each source's stable name, version and record; the bundles; the layout
		"gcp:serviceaccount/account:Account":               nt + 2,                       // and the workflow's and the build's
		"gcp:storage/bucketIAMMember:BucketIAMMember":      reads + 3*writes + 3*nt + 1,
		"gcp:projects/iAMMember:IAMMember":                 2,
		"gcp:projects/iAMCustomRole:IAMCustomRole":         1,
		"gcp:cloudfunctionsv2/function:Function":           nt,
		"gcp:cloudrunv2/serviceIamMember:ServiceIamMember": nt,
		"gcp:workflows/workflow:Workflow":                  1,
	}, counts)

	// Buckets: the dataset each holds, by bucket name.
	datasetOf := map[string]string{}
	bundles, state := "", ""
	for _, b := range projecttest.Of(resources, "gcp:storage/bucket:Bucket") {
		name := b.Name + mockSuffix
		assert.Equal(t, "US-CENTRAL1", b.String("location"))
		assert.Equal(t, true, mustGet(t, b, "uniformBucketLevelAccess"))
		assert.Equal(t, "enforced", b.String("publicAccessPrevention"))
		assert.Equal(t, "etl", b.String("labels", "glacier-pipeline"))
		if ds := b.String("labels", "glacier-dataset"); ds != "" {
			datasetOf[name] = ds
			continue
		}
		if b.String("labels", "glacier-state") == "true" {
			assert.Equal(t, dep.StateLogical, b.Name)
			state = name
			continue
		}
		assert.Equal(t, "bundles", b.String("labels", "glacier-bucket"))
		bundles = name
	}
	require.Len(t, datasetOf, nd)
	require.NotEmpty(t, bundles)
	require.NotEmpty(t, state)
	bucketOf := map[string]string{}
	for b, ds := range datasetOf {
		bucketOf[ds] = b
	}
	daily := findByName(t, resources, "gcp:storage/bucket:Bucket", "etl-daily_revenue")
	assert.Equal(t, "NEARLINE", daily.String("storageClass"))
	assert.Equal(t, []any{map[string]any{ // what a failed run left staged
		"action":    map[string]any{"type": "Delete"},
		"condition": map[string]any{"age": 1.0, "matchesPrefixes": []any{"staging/"}},
	}, map[string]any{ // retention_days: 365, of the versions no ref names
		"action":    map[string]any{"type": "Delete"},
		"condition": map[string]any{"age": 365.0, "matchesPrefixes": []any{"retired/"}},
	}}, mustGet(t, daily, "lifecycleRules"))
	stats := findByName(t, resources, "gcp:storage/bucket:Bucket", "etl-customer_stats")
	assert.Equal(t, []any{map[string]any{
		"action":    map[string]any{"type": "Delete"},
		"condition": map[string]any{"age": 1.0, "matchesPrefixes": []any{"staging/"}},
	}, map[string]any{ // retention_days: 90
		"action":    map[string]any{"type": "Delete"},
		"condition": map[string]any{"age": 90.0, "matchesPrefixes": []any{"retired/"}},
	}}, mustGet(t, stats, "lifecycleRules"))
	raw := findByName(t, resources, "gcp:storage/bucket:Bucket", "etl-orders_raw")
	assert.Equal(t, map[string]any{"enabled": true}, mustGet(t, raw, "versioning"))

	// Service accounts: one per task, and the workflow's.
	taskOfMember := map[string]string{}
	for _, task := range pl.Tasks {
		taskOfMember["serviceAccount:"+accountOf(task.Name)+"@"+mockProject+".iam.gserviceaccount.com"] = task.Name
	}
	workflowMember := "serviceAccount:etl-workflow@" + mockProject + ".iam.gserviceaccount.com"
	buildEmail := "etl-build@" + mockProject + ".iam.gserviceaccount.com"

	// The build account reads the bundles and writes images and build logs.
	var buildRoles []string
	for _, g := range projecttest.Of(resources, "gcp:projects/iAMMember:IAMMember") {
		assert.Equal(t, "serviceAccount:"+buildEmail, g.String("member"))
		buildRoles = append(buildRoles, g.String("role"))
	}
	assert.ElementsMatch(t, []string{"roles/logging.logWriter", "roles/artifactregistry.writer"}, buildRoles)
	bundleGrant := findByName(t, resources, "gcp:storage/bucketIAMMember:BucketIAMMember", "etl-build-reads-bundles")
	assert.Equal(t, "serviceAccount:"+buildEmail, bundleGrant.String("member"))
	assert.Equal(t, "roles/storage.objectViewer", bundleGrant.String("role"))
	assert.Equal(t, bundles, bundleGrant.String("bucket"))

	// Least privilege: per task, exactly the grants the compiler derived,
	// each limited to the names it lists.
	replacer := "projects/" + mockProject + "/roles/glacier_etl_objectReplacer"
	bucketOf[compile.StateName] = state
	wantGrants := map[string]bool{"etl-build-reads-bundles": true}
	for _, td := range dep.Tasks {
		for _, g := range td.Grants {
			name := accountOf(td.Name) + "-" + g.What + "-" + g.Dataset
			wantGrants[name] = true
			b := findByName(t, resources, "gcp:storage/bucketIAMMember:BucketIAMMember", name)
			assert.Equal(t, memberOf(taskOfMember, td.Name), b.String("member"), name)
			assert.Equal(t, bucketOf[g.Dataset], b.String("bucket"), name)
			role := g.Role
			if role == dep.WriterRole {
				role = replacer
			}
			assert.Equal(t, role, b.String("role"), name)
			require.NotEmpty(t, g.Keys, name)
			var terms []string
			for _, k := range g.Keys {
				obj := "projects/_/buckets/" + bucketOf[g.Dataset] + "/objects/"
				switch prefix, rest, wild := strings.Cut(k, "*"); {
				case !wild:
					terms = append(terms, `resource.name == "`+obj+k+`"`)
				case rest == "":
					terms = append(terms, `resource.name.startsWith("`+obj+prefix+`")`)
				default:
					terms = append(terms, `(resource.name.startsWith("`+obj+prefix+`") && resource.name.endsWith("`+rest+`"))`)
				}
			}
			assert.Equal(t, strings.Join(terms, " || "), b.String("condition", "expression"), name)
		}
	}
	for _, g := range projecttest.Of(resources, "gcp:storage/bucketIAMMember:BucketIAMMember") {
		assert.True(t, wantGrants[g.Name], "%s grants %s to %s, which the compiler did not derive", g.Name, g.String("role"), g.String("member"))
	}
	role := projecttest.Of(resources, "gcp:projects/iAMCustomRole:IAMCustomRole")[0]
	assert.Equal(t, "glacier_etl_objectReplacer", role.String("roleId"))
	assert.Equal(t, []any{"storage.objects.delete"}, mustGet(t, role, "permissions"))

	// Objects: the sources in their datasets' buckets, the bundles in theirs.
	for _, o := range projecttest.Of(resources, "gcp:storage/bucketObject:BucketObject") {
		asset, _ := o.Get("source", "asset")
		if ds, ok := datasetOf[o.String("bucket")]; ok {
			if strings.HasSuffix(o.Name, "-version") {
				assert.Regexp(t, `^objects/[0-9a-f]{2}/[0-9a-f]{64}$`, o.String("name"))
			} else {
				assert.Equal(t, ds, o.String("name"))
			}
			assert.Equal(t, "sources/"+ds+"/", asset.(string)[:len("sources/"+ds+"/")])
			continue
		}
		if o.String("bucket") == state && o.Name == "layout" {
			assert.Equal(t, "pipelines/etl/layout.json", o.String("name"))
			var rec store.LayoutRecord
			require.NoError(t, json.Unmarshal([]byte(o.String("content")), &rec))
			roots := map[string]string{}
			for b, ds := range datasetOf {
				roots[ds] = "gs://" + b
			}
			assert.Equal(t, store.LayoutRecord{Pipeline: "etl", Datasets: roots, Modules: modules}, rec, "where every dataset lives and which modules run")
			continue
		}
		if o.String("bucket") == state {
			ds := strings.TrimSuffix(strings.TrimPrefix(o.String("name"), "pipelines/etl/sources/"), ".json")
			assert.Equal(t, dep.SourceRecordName(ds), o.String("name"))
			assert.Equal(t, "sources/"+ds+".version.json", asset)
			assert.Contains(t, o.DependsOn, "gcp:storage/bucketObject:BucketObject::"+strings.TrimSuffix(o.Name, "-record")+"-version",
				"the record goes up after its version")
			continue
		}
		assert.Equal(t, bundles, o.String("bucket"))
		task := strings.TrimPrefix(o.Name, "etl-")
		assert.Regexp(t, `^[a-z_]+-[0-9a-f]{16}\.zip$`, o.String("name"))
		assert.Equal(t, "bundles/"+strings.ReplaceAll(task, "-", "_")+".zip", asset)
	}

	// Functions.
	for _, task := range pl.Tasks {
		fname := plan.CloudFunction.Name("etl", task.Name)
		f := findByName(t, resources, "gcp:cloudfunctionsv2/function:Function", fname)
		assert.Equal(t, fname, f.String("name"))
		assert.Equal(t, "us-central1", f.String("location"))
		assert.Equal(t, "go127", f.String("buildConfig", "runtime"))
		assert.Equal(t, gcfbundle.EntryPoint, f.String("buildConfig", "entryPoint"))
		assert.Equal(t, bundles, f.String("buildConfig", "source", "storageSource", "bucket"))
		assert.Equal(t, "projects/"+mockProject+"/serviceAccounts/"+buildEmail, f.String("buildConfig", "serviceAccount"))
		assert.Contains(t, f.DependsOn, "gcp:projects/iAMMember:IAMMember::etl-build-logging.logWriter")
		assert.Regexp(t, "^"+task.Name+`-[0-9a-f]{16}\.zip$`, f.String("buildConfig", "source", "storageSource", "object"))
		// The function has the task's memory, which caps its sandbox, and
		// the runtime's reserve beside it, rounded up to a tier.
		mem := wantFunctionMemory[task.Limits.MemoryMiB]
		require.NotZero(t, mem, "examples/etl changed: task %s has %d MiB", task.Name, task.Limits.MemoryMiB)
		cpu, _ := CPUFor(mem)
		assert.Equal(t, fmt.Sprintf("%dMi", mem), f.String("serviceConfig", "availableMemory"), task.Name)
		assert.Equal(t, cpu, f.String("serviceConfig", "availableCpu"), task.Name)
		assert.Equal(t, float64(task.Limits.TimeoutSecs), mustGet(t, f, "serviceConfig", "timeoutSeconds"), task.Name)
		assert.Equal(t, 1.0, mustGet(t, f, "serviceConfig", "maxInstanceRequestConcurrency"))
		assert.Equal(t, "ALLOW_INTERNAL_ONLY", f.String("serviceConfig", "ingressSettings"))
		assert.Equal(t, "serviceAccount:"+f.String("serviceConfig", "serviceAccountEmail"), memberOf(taskOfMember, task.Name))
		assert.Equal(t, task.Name, f.String("labels", "glacier-task"))

		var env map[string]string
		require.NoError(t, json.Unmarshal([]byte(f.String("serviceConfig", "environmentVariables", "GLACIER_DATASETS")), &env))
		want := map[string]string{}
		for _, ds := range task.Touches() {
			want[ds] = "gs://" + bucketOf[ds] + "/" + ds
		}
		assert.Equal(t, want, env, "GLACIER_DATASETS of %s", task.Name)
		assert.Equal(t, "gs://"+state, f.String("serviceConfig", "environmentVariables", "GLACIER_STATE"))
		assert.Equal(t, mockProject, f.String("serviceConfig", "environmentVariables", "GOOGLE_CLOUD_PROJECT"), "the runtime links its log with it")
		// The function waits for its grants.
		td := dep.Tasks[slices.IndexFunc(dep.Tasks, func(td taskDecl) bool { return td.Name == task.Name })]
		for _, g := range td.Grants {
			assert.Contains(t, f.DependsOn, "gcp:storage/bucketIAMMember:BucketIAMMember::"+accountOf(task.Name)+"-"+g.What+"-"+g.Dataset)
		}
	}

	// The workflow's account may invoke exactly the functions.
	var invoked []string
	for _, inv := range projecttest.Of(resources, "gcp:cloudrunv2/serviceIamMember:ServiceIamMember") {
		assert.Equal(t, "roles/run.invoker", inv.String("role"))
		assert.Equal(t, workflowMember, inv.String("member"))
		invoked = append(invoked, inv.String("name"))
	}
	var functions []string
	for _, task := range pl.Tasks {
		functions = append(functions, "projects/"+mockProject+"/locations/us-central1/services/"+plan.CloudFunction.Name("etl", task.Name))
	}
	assert.ElementsMatch(t, functions, invoked)

	// The workflow runs the waves with the deployed functions' URLs.
	wf := projecttest.Of(resources, "gcp:workflows/workflow:Workflow")[0]
	assert.Equal(t, "etl", wf.String("name"))
	assert.Equal(t, "us-central1", wf.String("region"))
	assert.Equal(t, workflowMember, "serviceAccount:"+wf.String("serviceAccount"))
	// It is workflow.yaml as written, and reads the deployed functions'
	// URLs from its environment.
	written, err := os.ReadFile(filepath.Join(out, "workflow.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(written), wf.String("sourceContents"), "the workflow deployed is the file written")
	urlVars, waves := parseWorkflow(t, []byte(wf.String("sourceContents")))
	urls := map[string]string{}
	for _, v := range urlVars {
		var some map[string]string
		require.NoError(t, json.Unmarshal([]byte(wf.String("userEnvVars", v)), &some), "environment variable %s", v)
		maps.Copy(urls, some)
	}
	wantURLs := map[string]string{}
	for _, task := range pl.Tasks {
		wantURLs[task.Name] = "https://" + plan.CloudFunction.Name("etl", task.Name) + "-x7k2q9-uc.a.run.app"
	}
	assert.Equal(t, wantURLs, urls)
	require.Len(t, waves, len(pl.Waves))
	for i, wave := range waves {
		var names []string
		for _, c := range wave {
			names = append(names, c.Task)
			task, _ := pl.Task(c.Task)
			if task.Retries > 0 {
				assert.Equal(t, task.Retries, c.MaxRetries, c.Task)
				assert.Equal(t, "${task_failed}", c.Predicate, c.Task)
			} else {
				assert.Equal(t, "${http.default_retry_predicate_non_idempotent}", c.Predicate, c.Task)
			}
		}
		assert.Equal(t, pl.Waves[i], names, "wave %d", i+1)
	}
	for _, inv := range projecttest.Of(resources, "gcp:cloudrunv2/serviceIamMember:ServiceIamMember") {
		assert.Contains(t, wf.DependsOn, inv.Ref(), "the workflow waits for its invoker grants")
	}
}

// wantFunctionMemory is the function memory of examples/etl's tasks, by
// task memory: with the 96 MiB reserve, 256 MiB tasks fit the 512 MiB
// tier and 512 MiB ones need the 1 GiB tier.
var wantFunctionMemory = map[int]int{256: 512, 512: 1024}

func accountOf(task string) string { return serviceAccountRule.Name("etl", task) }

func memberOf(taskOfMember map[string]string, task string) string {
	for m, t := range taskOfMember {
		if t == task {
			return m
		}
	}
	return ""
}

func findByName(t *testing.T, resources []projecttest.Resource, typ, name string) projecttest.Resource {
	t.Helper()
	all := projecttest.Of(resources, typ)
	i := slices.IndexFunc(all, func(r projecttest.Resource) bool { return r.Name == name })
	require.GreaterOrEqual(t, i, 0, "no %s named %s", typ, name)
	return all[i]
}

func mustGet(t *testing.T, r projecttest.Resource, keys ...string) any {
	t.Helper()
	v, ok := r.Get(keys...)
	require.True(t, ok, "%s has no %s", r.Name, strings.Join(keys, "."))
	return v
}

// TestProjectMap compiles examples/logs, whose tasks map, and runs its
// program under Pulumi's mocks: the partitioned source's parts are
// uploaded where its part list says, the list last, and the map tasks'
// grants are exactly theirs, conditions included. Like TestProject, it
// runs only with GLACIER_PULUMI_TESTS=1.
func TestProjectMap(t *testing.T) {
	projecttest.Require(t)
	out := t.TempDir()
	compileLogs(t, out, Options{Project: "my-project"})
	compiletest.Project(t, &spec, out, func(t *testing.T, prog projecttest.Program) { checkMapProgram(t, out, prog) })
}

// checkMapProgram checks what examples/logs' program declares.
func checkMapProgram(t *testing.T, out string, prog projecttest.Program) {
	resources := prog.Resources
	bucketOf := map[string]string{} // dataset → bucket
	for _, b := range projecttest.Of(resources, "gcp:storage/bucket:Bucket") {
		if ds := b.String("labels", "glacier-dataset"); ds != "" {
			bucketOf[ds] = b.Name + mockSuffix
		}
	}
	datasetOf := map[string]string{}
	for ds, b := range bucketOf {
		datasetOf[b] = ds
	}

	// access_logs: every part of the list as its version, once however
	// many keys share it, then the list; the part list's version after
	// the parts.
	m := logs(t)
	dep, probs := designFor(t, m.Pipeline, Options{Dir: m.Dir, Project: "my-project"})
	require.NoError(t, probs.Err())
	source := dep.Datasets[slices.IndexFunc(dep.Datasets, func(d datasetDecl) bool { return d.Name == "access_logs" })]
	listData, err := os.ReadFile(filepath.Join(out, "sources", "access_logs.parts.json"))
	require.NoError(t, err)
	entries, err := fnspec.DecodeParts(listData)
	require.NoError(t, err)
	require.Len(t, entries, 5, "examples/logs has five days of logs")
	wantParts := map[string]string{} // object → asset
	for _, e := range entries {
		assert.Equal(t, store.ObjectName(e.SHA256), e.Object, e.Key)
		if _, ok := wantParts[e.Object]; !ok {
			wantParts[e.Object] = "sources/access_logs/" + e.Key
		}
		data, err := os.ReadFile(filepath.Join(out, "sources", "access_logs", filepath.FromSlash(e.Key)))
		require.NoError(t, err, "the project holds part %s", e.Key)
		assert.Equal(t, e.Size, int64(len(data)))
	}
	gotParts := map[string]string{}
	var partRefs []string
	var list, version projecttest.Resource
	for _, o := range projecttest.Of(resources, "gcp:storage/bucketObject:BucketObject") {
		if datasetOf[o.String("bucket")] != "access_logs" {
			continue
		}
		asset, _ := o.Get("source", "asset")
		switch o.String("name") {
		case "access_logs":
			list = o
			assert.Equal(t, "sources/access_logs.parts.json", asset)
		case source.SourceObject():
			version = o
			assert.Equal(t, source.VersionFile(), asset)
		default:
			gotParts[o.String("name")] = asset.(string)
			partRefs = append(partRefs, o.Ref())
		}
	}
	assert.Equal(t, wantParts, gotParts, "each part is uploaded to the object its list entry names")
	require.NotEmpty(t, list.Name, "the part list is the dataset's object")
	assert.Subset(t, list.DependsOn, partRefs, "the list is uploaded once every part is")
	require.NotEmpty(t, version.Name, "the part list's version is uploaded")
	assert.Subset(t, version.DependsOn, partRefs, "the part list's version is uploaded once every part is")

	// One custom role: the replacer. A map task's commit lists nothing.
	roles := map[string]any{}
	for _, r := range projecttest.Of(resources, "gcp:projects/iAMCustomRole:IAMCustomRole") {
		roles[r.String("roleId")] = mustGet(t, r, "permissions")
	}
	assert.Equal(t, map[string]any{"glacier_logs_objectReplacer": []any{"storage.objects.delete"}}, roles)

	// Every task binding is limited by a condition; the map task's on its
	// output cover its parts' staging folder.
	account := func(task string) string {
		return "serviceAccount:" + serviceAccountRule.Name("logs", task) + "@" + mockProject + ".iam.gserviceaccount.com"
	}
	staged := `resource.name.startsWith("projects/_/buckets/` + bucketOf["hits"] + `/objects/staging/parse/hits.parts/")`
	n := 0
	for _, g := range projecttest.Of(resources, "gcp:storage/bucketIAMMember:BucketIAMMember") {
		if g.Name == "logs-build-reads-bundles" {
			continue
		}
		cond := g.String("condition", "expression")
		assert.NotEmpty(t, cond, "%s is limited by a condition", g.Name)
		if g.String("member") == account("parse") && datasetOf[g.String("bucket")] == "hits" {
			assert.Contains(t, cond, staged, g.Name)
			n++
		}
	}
	assert.Equal(t, 3, n, "parse writes, reads and replaces its staged parts")

	// The workflow deployed is the one written.
	written, err := os.ReadFile(filepath.Join(out, "workflow.yaml"))
	require.NoError(t, err)
	wf := projecttest.Of(resources, "gcp:workflows/workflow:Workflow")[0]
	assert.Equal(t, string(written), wf.String("sourceContents"))
}
