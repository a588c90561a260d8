package aws

import (
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

var update = flag.Bool("update", false, "rewrite templates/go.mod.txt and templates/go.sum.txt with go mod tidy")

// The test's mock provider (testdata/mocks) names an auto-named resource
// after its logical name plus this suffix, as Pulumi adds a random one.
const mockSuffix = "-a1b2c3d"

const (
	mockAccount = "123456789012"
	mockRegion  = "us-east-1"
)

// goCommand runs the go command in a written project as its user would:
// in its own module, with go.mod and go.sum taken as they are.
func goCommand(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly -buildvcs=false")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s in %s:\n%s", strings.Join(args, " "), dir, out)
	return string(out)
}

// TestProgram compiles examples/etl, builds the written project in its own
// folder with go build (so its go.mod and go.sum are complete), then runs
// its own program under Pulumi's mock monitor and checks every resource it
// registers. Building the Pulumi AWS SDK takes minutes when the Go build
// cache is cold, so -short skips it.
func TestProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Pulumi AWS SDK, minutes on a cold build cache; run without -short")
	}
	shared, _ := sharedETL(t)
	out := t.TempDir()
	require.NoError(t, os.CopyFS(out, os.DirFS(shared)))
	goCommand(t, out, nil, "build", "-o", os.DevNull, ".")

	mocks, err := os.ReadFile(filepath.Join("testdata", "mocks", "main_test.go.txt"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(out, "main_test.go"), mocks, 0o644))
	record := filepath.Join(t.TempDir(), "resources.json")
	log := goCommand(t, out, []string{"GLACIER_MOCK_RECORD=" + record, "GLACIER_WANT_REGION=" + DefaultRegion},
		"test", "-count=1", "-v", "-run", "^(TestProgram|TestProjectFile)$", ".")
	assert.Contains(t, log, "--- PASS: TestProgram ")
	assert.Contains(t, log, "--- PASS: TestProjectFile ", "Pulumi loads Pulumi.yaml")
	data, err := os.ReadFile(record)
	require.NoError(t, err)
	var rs resources
	require.NoError(t, json.Unmarshal(data, &rs))

	m, _ := etl(t)
	pl, err := plan.New(m.Pipeline, nil)
	require.NoError(t, err)
	dep, probs := design(pl, Options{Dir: m.Dir}.resolve("etl"))
	require.NoError(t, probs.Err())

	counts := map[string]int{}
	for _, r := range rs {
		counts[r.Type]++
	}
	assert.Equal(t, map[string]int{
		"aws:s3/bucketV2:BucketV2":                                                                   7,
		"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":                                     7,
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": 7,
		"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":                       7,
		"aws:s3/bucketVersioningV2:BucketVersioningV2":                                               1,
		"aws:s3/bucketObjectv2:BucketObjectv2":                                                       2,
		"aws:cloudwatch/logGroup:LogGroup":                                                           5,
		"aws:iam/role:Role":                                                                          6,
		"aws:iam/rolePolicy:RolePolicy":                                                              6,
		"aws:lambda/function:Function":                                                               5,
		"aws:sfn/stateMachine:StateMachine":                                                          1,
	}, counts)

	bucket := map[string]string{} // dataset -> bucket name
	for _, d := range dep.Datasets {
		bucket[d.Name] = d.Logical + mockSuffix
		t.Run("dataset/"+d.Name, func(t *testing.T) { checkDataset(t, rs, d) })
	}
	var functionARNs []string
	for _, task := range dep.Tasks {
		functionARNs = append(functionARNs, "arn:aws:lambda:"+mockRegion+":"+mockAccount+":function:"+task.FunctionName)
		t.Run("task/"+task.Name, func(t *testing.T) { checkTask(t, rs, task, bucket) })
	}

	// The state machine runs the file next to main.go, with a role that
	// may invoke exactly the pipeline's functions.
	sm := rs.get(t, "aws:sfn/stateMachine:StateMachine", "etl")
	assert.Equal(t, "etl", sm.Inputs["name"])
	assert.Equal(t, read(t, out, "statemachine.asl.json"), sm.Inputs["definition"])
	assert.Equal(t, "arn:aws:iam::"+mockAccount+":role/etl-StateMachine"+mockSuffix, sm.Inputs["roleArn"])
	assert.Contains(t, sm.DependsOn, "aws:iam/rolePolicy:RolePolicy::etl-StateMachine")
	assert.Equal(t, [][]string{{"clean_orders", "clean_customers"}, {"enrich"}, {"daily_revenue", "customer_stats"}},
		waves(t, sm.Inputs["definition"].(string)))
	assertTrust(t, rs.get(t, "aws:iam/role:Role", "etl-StateMachine"), "states.amazonaws.com")
	smPolicy := rs.get(t, "aws:iam/rolePolicy:RolePolicy", "etl-StateMachine")
	assert.Equal(t, "etl-StateMachine"+mockSuffix, smPolicy.Inputs["role"])
	assert.Equal(t, []statement{{Sid: "InvokeTasks", Effect: "Allow", Action: []string{"lambda:InvokeFunction"}, Resource: functionARNs}},
		policy(t, smPolicy))
}

func checkDataset(t *testing.T, rs resources, d datasetDecl) {
	b := rs.get(t, "aws:s3/bucketV2:BucketV2", d.Logical)
	assert.Nil(t, b.Inputs["bucket"], "buckets are auto-named")
	assert.Equal(t, map[string]any{"glacier:pipeline": "etl", "glacier:dataset": d.Name, "team": "data"}, b.Inputs["tags"])
	name := d.Logical + mockSuffix

	pab := rs.get(t, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", d.Logical)
	assert.Equal(t, map[string]any{"bucket": name, "blockPublicAcls": true, "blockPublicPolicy": true,
		"ignorePublicAcls": true, "restrictPublicBuckets": true}, pab.Inputs)

	sse := rs.get(t, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", d.Logical)
	assert.Equal(t, []any{map[string]any{"applyServerSideEncryptionByDefault": map[string]any{"sseAlgorithm": "AES256"}}},
		sse.Inputs["rules"])

	v, versioned := rs.find("aws:s3/bucketVersioningV2:BucketVersioningV2", d.Logical)
	assert.Equal(t, d.Bucket.Versioning, versioned)
	if versioned {
		assert.Equal(t, map[string]any{"status": "Enabled"}, v.Inputs["versioningConfiguration"])
	}

	lc := rs.get(t, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", d.Logical)
	assert.Equal(t, name, lc.Inputs["bucket"])
	rules := map[string]map[string]any{}
	for _, r := range lc.Inputs["rules"].([]any) {
		rule := r.(map[string]any)
		assert.Equal(t, "Enabled", rule["status"])
		assert.Equal(t, map[string]any{}, rule["filter"], "every rule covers the whole bucket")
		rules[rule["id"].(string)] = rule
	}
	want := map[string]map[string]any{
		"abort-incomplete-multipart-uploads": {"abortIncompleteMultipartUpload": map[string]any{"daysAfterInitiation": 1.0}},
	}
	switch {
	case d.Name == "daily_revenue": // retention_days: 365, access_pattern: infrequent
		want["expire"] = map[string]any{"expiration": map[string]any{"days": 365.0}}
		want["storage-class"] = map[string]any{"transitions": []any{map[string]any{"days": 30.0, "storageClass": "STANDARD_IA"}}}
	case d.Bucket.RetentionDays != 0 || d.Bucket.TransitionTo != "":
		t.Fatalf("examples/etl changed: dataset %s has lifecycle settings this test does not expect", d.Name)
	}
	require.Len(t, rules, len(want))
	for id, fields := range want {
		for k, v := range fields {
			assert.Equal(t, v, rules[id][k], "%s: rule %s: %s", d.Name, id, k)
		}
	}

	obj, uploaded := rs.find("aws:s3/bucketObjectv2:BucketObjectv2", d.Logical)
	assert.Equal(t, d.Source != "", uploaded)
	if uploaded {
		assert.Equal(t, name, obj.Inputs["bucket"])
		assert.Equal(t, d.Name, obj.Inputs["key"])
		assert.Equal(t, d.SourceFile, obj.Inputs["source"].(map[string]any)["path"])
		assert.Equal(t, d.Bucket.SourceClass, stringOr(obj.Inputs["storageClass"]))
	}
	if d.Name == "orders_raw" {
		assert.Equal(t, "INTELLIGENT_TIERING", obj.Inputs["storageClass"])
	}
}

func checkTask(t *testing.T, rs resources, task taskDecl, bucket map[string]string) {
	fn := rs.get(t, "aws:lambda/function:Function", task.FunctionName)
	roleName := task.RoleLogical + mockSuffix
	in := fn.Inputs
	assert.Equal(t, task.FunctionName, in["name"])
	assert.Equal(t, "provided.al2023", in["runtime"])
	assert.Equal(t, "bootstrap", in["handler"])
	assert.Equal(t, float64(task.MemoryMB), in["memorySize"])
	assert.Equal(t, float64(task.TimeoutSecs), in["timeout"])
	assert.Equal(t, []any{"arm64"}, in["architectures"])
	assert.Equal(t, "artifacts/"+task.Name+".zip", in["code"].(map[string]any)["path"])
	assert.Equal(t, "arn:aws:iam::"+mockAccount+":role/"+roleName, in["role"])
	assert.Equal(t, map[string]any{"glacier:pipeline": "etl", "glacier:task": task.Name, "team": "data"}, in["tags"])

	// The environment names exactly the task's datasets.
	vars := in["environment"].(map[string]any)["variables"].(map[string]any)
	require.Len(t, vars, 1)
	var datasets map[string]string
	require.NoError(t, json.Unmarshal([]byte(vars["GLACIER_DATASETS"].(string)), &datasets))
	want := map[string]string{}
	for _, d := range task.Touches() {
		want[d] = "s3://" + bucket[d] + "/" + d
	}
	assert.Equal(t, want, datasets)

	logs := rs.get(t, "aws:cloudwatch/logGroup:LogGroup", task.FunctionName)
	assert.Equal(t, "/aws/lambda/"+task.FunctionName, logs.Inputs["name"])
	assert.Equal(t, float64(task.LogRetentionDays), logs.Inputs["retentionInDays"])
	assert.Contains(t, fn.DependsOn, "aws:cloudwatch/logGroup:LogGroup::"+task.FunctionName, "logs exist before the function")
	assert.Contains(t, fn.DependsOn, "aws:iam/rolePolicy:RolePolicy::"+task.RoleLogical, "permissions exist before the function")

	assertTrust(t, rs.get(t, "aws:iam/role:Role", task.RoleLogical), "lambda.amazonaws.com")
	pol := rs.get(t, "aws:iam/rolePolicy:RolePolicy", task.RoleLogical)
	assert.Equal(t, roleName, pol.Inputs["role"])
	objects := func(datasets []string) []string {
		var arns []string
		for _, d := range datasets {
			arns = append(arns, "arn:aws:s3:::"+bucket[d]+"/"+d)
		}
		return arns
	}
	var wantPolicy []statement
	if len(task.Reads) > 0 {
		wantPolicy = append(wantPolicy, statement{Sid: "ReadInputs", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: objects(task.Reads)})
	}
	wantPolicy = append(wantPolicy,
		statement{Sid: "WriteOutputs", Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: objects(task.Writes)},
		statement{Sid: "WriteOwnLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resource: []string{"arn:aws:logs:" + mockRegion + ":" + mockAccount + ":log-group:/aws/lambda/" + task.FunctionName + ":*"}},
	)
	assert.Equal(t, wantPolicy, policy(t, pol))
}

// resource is one resource the program registered.
type resource struct {
	Type   string
	Name   string
	Inputs map[string]any
	// DependsOn are "type::name" of the resources it waits for.
	DependsOn []string
}

// resources are what the program registered, sorted by type and name.
type resources []resource

func (rs resources) find(typ, name string) (r resource, ok bool) {
	for _, r := range rs {
		if r.Type == typ && r.Name == name {
			return r, true
		}
	}
	return r, false
}

func (rs resources) get(t *testing.T, typ, name string) resource {
	t.Helper()
	r, ok := rs.find(typ, name)
	require.True(t, ok, "no %s named %s", typ, name)
	return r
}

type statement struct {
	Sid, Effect string
	Action      []string
	Resource    []string
}

// policy parses a RolePolicy's document, refusing fields the checks do not
// cover.
func policy(t *testing.T, r resource) []statement {
	t.Helper()
	var doc struct {
		Version   string
		Statement []map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(r.Inputs["policy"].(string)), &doc))
	assert.Equal(t, "2012-10-17", doc.Version)
	var out []statement
	for _, raw := range doc.Statement {
		keys := make([]string, 0, len(raw))
		for k := range raw {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		assert.Equal(t, []string{"Action", "Effect", "Resource", "Sid"}, keys, "statement fields")
		b, err := json.Marshal(raw)
		require.NoError(t, err)
		var s statement
		require.NoError(t, json.Unmarshal(b, &s))
		out = append(out, s)
	}
	return out
}

func assertTrust(t *testing.T, role resource, service string) {
	t.Helper()
	assert.Nil(t, role.Inputs["name"], "roles are auto-named")
	var doc struct {
		Statement []struct {
			Effect, Action string
			Principal      map[string]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(role.Inputs["assumeRolePolicy"].(string)), &doc))
	require.Len(t, doc.Statement, 1)
	assert.Equal(t, "Allow", doc.Statement[0].Effect)
	assert.Equal(t, "sts:AssumeRole", doc.Statement[0].Action)
	assert.Equal(t, map[string]string{"Service": service}, doc.Statement[0].Principal)
}

// waves follows a definition from StartAt and returns the tasks each state
// runs, in order.
func waves(t *testing.T, def string) [][]string {
	t.Helper()
	var sm struct {
		StartAt string
		States  map[string]state
	}
	require.NoError(t, json.Unmarshal([]byte(def), &sm))
	var out [][]string
	for name := sm.StartAt; ; {
		st, ok := sm.States[name]
		require.True(t, ok, "state %q", name)
		switch st.Type {
		case "Task":
			out = append(out, []string{name})
		case "Parallel":
			var wave []string
			for _, br := range st.Branches {
				wave = append(wave, br.StartAt)
			}
			out = append(out, wave)
		default:
			t.Fatalf("state %q has type %s", name, st.Type)
		}
		if st.End {
			return out
		}
		name = st.Next
		require.Less(t, len(out), len(sm.States)+1, "the states loop")
	}
}

func stringOr(v any) string {
	s, _ := v.(string)
	return s
}

// TestModuleFiles rewrites the embedded go.mod and go.sum with -update:
// it writes a project, lets go mod tidy (with the test file TestProgram
// adds) resolve its requirements, and keeps the result. Without -update it
// checks that the templates pin the SDK versions the compiler says.
func TestModuleFiles(t *testing.T) {
	mod, err := templates.ReadFile("templates/go.mod.txt")
	require.NoError(t, err)
	if !*update {
		assert.Contains(t, string(mod), "github.com/pulumi/pulumi-aws/sdk/v6 "+PulumiAWSSDKVersion+"\n")
		assert.Contains(t, string(mod), "github.com/pulumi/pulumi/sdk/v3 "+PulumiSDKVersion+"\n")
		return
	}
	out := t.TempDir()
	compileETL(t, out, Options{})
	mocks, err := os.ReadFile(filepath.Join("testdata", "mocks", "main_test.go.txt"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(out, "main_test.go"), mocks, 0o644))
	goMod := "module " + modulePath("etl") + "\n\ngo 1.26\n\nrequire (\n" +
		"\tgithub.com/pulumi/pulumi-aws/sdk/v6 " + PulumiAWSSDKVersion + "\n" +
		"\tgithub.com/pulumi/pulumi/sdk/v3 " + PulumiSDKVersion + "\n)\n"
	require.NoError(t, os.WriteFile(filepath.Join(out, "go.mod"), []byte(goMod), 0o644))
	require.NoError(t, os.Remove(filepath.Join(out, "go.sum")))
	cmd := exec.Command("go", "mod", "tidy")
	cmd.Dir = out
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "go mod tidy:\n%s", b)
	for _, f := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(out, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join("templates", f+".txt"), data, 0o644))
	}
	t.Log("rewrote templates/go.mod.txt and templates/go.sum.txt")
}
