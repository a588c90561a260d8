package aws

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject/projecttest"
	"github.com/glacier-pipeline/glacier/store"
)

// Values of testdata/mocks/outputs.go.txt: the mock provider names an
// auto-named resource after its logical name plus mockSuffix, as Pulumi
// adds a random one.
const (
	mockSuffix  = "-a1b2c3d"
	mockAccount = "123456789012"
	mockRegion  = "us-east-1"
)

// TestProject compiles examples/etl, then builds the written project in
// its own directory with go build (so its go.mod and go.sum are complete)
// and runs its program under Pulumi's mocks, checking every resource it
// registers. Both compile the Pulumi AWS SDK, so it runs only with
// GLACIER_PULUMI_TESTS=1. With -update it rewrites the go.mod and go.sum
// templates instead.
func TestProject(t *testing.T) {
	projecttest.Require(t)
	shared, _ := sharedETL(t)
	out := t.TempDir()
	require.NoError(t, os.CopyFS(out, os.DirFS(shared)))
	compiletest.Project(t, &spec, out, func(t *testing.T, prog projecttest.Program) { checkProgram(t, out, prog) })
}

// TestProjectMap compiles examples/logs, whose tasks map over
// partitioned datasets, builds its program and runs it under Pulumi's
// mocks: a partitioned source's parts are uploaded where its part list
// says, the list after them; the definition's bucket placeholders become
// the buckets' names; the roles hold exactly the map's permissions, with
// real ARNs. GLACIER_PULUMI_TESTS=1 runs it.
func TestProjectMap(t *testing.T) {
	projecttest.Require(t)
	out := standInLogs(t)
	compiletest.Project(t, &spec, out, func(t *testing.T, prog projecttest.Program) { checkMapProgram(t, out, prog) })
}

func checkMapProgram(t *testing.T, out string, prog projecttest.Program) {
	m := logsExample(t)
	dep, probs := designFor(t, m.Pipeline, Options{Dir: m.Dir})
	require.NoError(t, probs.Err())
	bucket := map[string]string{} // dataset -> bucket name
	ds := map[string]datasetDecl{}
	for _, d := range dep.Datasets {
		bucket[d.Name] = d.Logical + mockSuffix
		ds[d.Name] = d
	}

	// A map's results expire as its task's logs do.
	for _, d := range []string{"hits", "daily"} {
		lc := get(t, prog, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", ds[d].Logical)
		var rule map[string]any
		for _, r := range lc.Inputs["rules"].([]any) {
			if r.(map[string]any)["id"] == "expire-map-results" {
				rule = r.(map[string]any)
			}
		}
		require.NotNil(t, rule, "%s: no rule expires the map's results", d)
		assert.Equal(t, map[string]any{"prefix": d + ".map-results/"}, rule["filter"], d)
		assert.Equal(t, map[string]any{"days": float64(DefaultLogRetentionDays)}, rule["expiration"], d)
	}

	// The source's parts, each as its version where the list says, once
	// however many keys share it, then the list; the part list's version
	// after the parts, and its record after that.
	logs := ds["access_logs"]
	var entries []fnspec.PartEntry
	require.NoError(t, json.Unmarshal([]byte(read(t, out, logs.PartListFile())), &entries))
	require.Len(t, entries, 5)
	var parts []string
	for _, e := range entries {
		assert.Equal(t, store.ObjectName(e.SHA256), e.Object, e.Key)
		name := logs.Logical + "/" + e.Object
		obj := get(t, prog, "aws:s3/bucketObjectv2:BucketObjectv2", name)
		assert.Equal(t, bucket["access_logs"], obj.Inputs["bucket"])
		assert.Equal(t, e.Object, obj.Inputs["key"])
		if !slices.Contains(parts, "aws:s3/bucketObjectv2:BucketObjectv2::"+name) {
			parts = append(parts, "aws:s3/bucketObjectv2:BucketObjectv2::"+name)
		}
	}
	list := get(t, prog, "aws:s3/bucketObjectv2:BucketObjectv2", logs.Logical)
	assert.Equal(t, "access_logs", list.Inputs["key"])
	assert.Equal(t, map[string]any{"asset": "sources/access_logs.parts.json"}, list.Inputs["source"])
	assert.Subset(t, list.DependsOn, parts, "the list goes up after its parts")
	version := get(t, prog, "aws:s3/bucketObjectv2:BucketObjectv2", logs.Logical+"/version")
	assert.Equal(t, logs.SourceObject(), version.Inputs["key"])
	assert.Equal(t, map[string]any{"asset": logs.VersionFile()}, version.Inputs["source"])
	assert.Subset(t, version.DependsOn, parts, "the part list's version goes up after its parts")
	record := get(t, prog, "aws:s3/bucketObjectv2:BucketObjectv2", logs.Logical+"/record")
	assert.Equal(t, dep.SourceRecordName("access_logs"), record.Inputs["key"])
	assert.Contains(t, record.DependsOn, "aws:s3/bucketObjectv2:BucketObjectv2::"+logs.Logical+"/version")

	// The definition, its placeholders filled in.
	sm := get(t, prog, "aws:sfn/stateMachine:StateMachine", "logs")
	def := read(t, out, "statemachine.asl.json")
	require.Contains(t, def, "${bucket:access_logs}")
	for _, d := range dep.DefinitionBuckets {
		def = strings.ReplaceAll(def, bucketPlaceholder(d), bucket[d])
	}
	assert.NotContains(t, def, "${")
	assert.Equal(t, def, sm.Inputs["definition"])

	// The state machine's role, with the ARNs the statements stand for.
	arn := func(d, key string) string { return "arn:aws:s3:::" + bucket[d] + "/" + key }
	var functions []string
	for _, task := range dep.Tasks {
		functions = append(functions, "arn:aws:lambda:"+mockRegion+":"+mockAccount+":function:"+task.FunctionName)
	}
	got := policy(t, get(t, prog, "aws:iam/rolePolicy:RolePolicy", "logs-StateMachine"))
	require.Len(t, got, 6)
	assert.Equal(t, []statement{
		{Sid: "InvokeTasks", Effect: "Allow", Action: []string{"lambda:InvokeFunction"}, Resource: functions},
		{Sid: "ReadMapItems", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{arn("access_logs", "access_logs"), arn("hits", "hits")}},
		{Sid: "WriteMapResults", Effect: "Allow", Action: []string{"s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"},
			Resource: []string{arn("hits", "hits.map-results/*"), arn("daily", "daily.map-results/*")}},
		{Sid: "StartMapRuns", Effect: "Allow", Action: []string{"states:StartExecution"},
			Resource: []string{"arn:aws:states:" + mockRegion + ":" + mockAccount + ":stateMachine:logs"}},
		{Sid: "ManageMapRuns", Effect: "Allow", Action: []string{"states:DescribeExecution", "states:StopExecution"},
			Resource: []string{"arn:aws:states:" + mockRegion + ":" + mockAccount + ":execution:logs/*"}},
	}, got[:5])

	// A map task's role is any task's over the store, its output's parts
	// staged in a folder of their own; it lists nothing but for absence.
	parse := policy(t, get(t, prog, "aws:iam/rolePolicy:RolePolicy", dep.Tasks[0].RoleLogical))
	require.Len(t, parse, 8)
	assert.Equal(t, statement{Sid: "StageOutputs", Effect: "Allow", Action: []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject"},
		Resource: []string{arn("hits", "staging/*/parse/hits"), arn("hits", "staging/parse/hits.parts/*")}}, parse[2])
	assert.Equal(t, statement{Sid: "ListStore", Effect: "Allow", Action: []string{"s3:ListBucket"},
		Resource: []string{"arn:aws:s3:::" + bucket["hits"], "arn:aws:s3:::" + dep.StateLogical + mockSuffix}}, parse[6])
}

// TestModuleFiles checks that the embedded go.mod pins the SDK versions
// the compiler names; TestProject -update rewrites it.
func TestModuleFiles(t *testing.T) { compiletest.ModuleFiles(t, &spec) }

// checkProgram checks what examples/etl's program, written to out,
// declares.
func checkProgram(t *testing.T, out string, prog projecttest.Program) {
	assert.Equal(t, projecttest.Project{Name: "etl", Runtime: "go", Config: map[string]any{"aws:region": DefaultRegion}},
		prog.Project, "Pulumi loads Pulumi.yaml")

	m, _ := etl(t)
	dep, probs := designFor(t, m.Pipeline, Options{Dir: m.Dir})
	require.NoError(t, probs.Err())

	counts := map[string]int{}
	for _, r := range prog.Resources {
		counts[r.Type]++
	}
	assert.Equal(t, map[string]int{
		"aws:s3/bucketV2:BucketV2":                               8, // 7 datasets and the state
		"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 8,
		"aws:s3/bucketPolicy:BucketPolicy":                       8,
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": 8,
		"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":                       8,
		"aws:s3/bucketVersioningV2:BucketVersioningV2":                                               1,
		"aws:s3/bucketObjectv2:BucketObjectv2":                                                       7, // each source's stable name, version and record; the layout
		"aws:cloudwatch/logGroup:LogGroup":                                                           6,
		"aws:iam/role:Role":                                                                          6,
		"aws:iam/rolePolicy:RolePolicy":                                                              6,
		"aws:lambda/function:Function":                                                               5,
		"aws:sfn/stateMachine:StateMachine":                                                          1,
	}, counts)

	// The state bucket: as private as a dataset's, and exported.
	state := get(t, prog, "aws:s3/bucketV2:BucketV2", dep.StateLogical)
	assert.Equal(t, map[string]any{"glacier:pipeline": "etl", "glacier:state": "true", "team": "data"}, state.Inputs["tags"])
	stateName := dep.StateLogical + mockSuffix
	pab := get(t, prog, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", dep.StateLogical)
	assert.Equal(t, map[string]any{"bucket": stateName, "blockPublicAcls": true, "blockPublicPolicy": true,
		"ignorePublicAcls": true, "restrictPublicBuckets": true}, pab.Inputs)

	bucket := map[string]string{} // dataset -> bucket name
	roots := map[string]string{}
	for _, d := range dep.Datasets {
		bucket[d.Name] = d.Logical + mockSuffix
		roots[d.Name] = "s3://" + bucket[d.Name]
		t.Run("dataset/"+d.Name, func(t *testing.T) { checkDataset(t, prog, d, stateName, dep.SourceRecordName(d.Name)) })
	}
	// The layout record: where every dataset lives, for glacier --remote.
	layout := get(t, prog, "aws:s3/bucketObjectv2:BucketObjectv2", "layout")
	assert.Equal(t, stateName, layout.Inputs["bucket"])
	assert.Equal(t, "pipelines/etl/layout.json", layout.Inputs["key"])
	var rec store.LayoutRecord
	require.NoError(t, json.Unmarshal([]byte(layout.Inputs["content"].(string)), &rec))
	_, comp := sharedETL(t)
	modules := map[string]string{}
	for _, a := range comp.Artifacts {
		modules[a.Task] = a.ModuleSHA256
	}
	assert.Equal(t, store.LayoutRecord{Pipeline: "etl", Datasets: roots, Modules: modules}, rec)
	var functionARNs []string
	for _, task := range dep.Tasks {
		functionARNs = append(functionARNs, "arn:aws:lambda:"+mockRegion+":"+mockAccount+":function:"+task.FunctionName)
		t.Run("task/"+task.Name, func(t *testing.T) { checkTask(t, prog, task, bucket, stateName) })
	}

	// The state machine runs the file next to main.go, with a role that
	// may invoke exactly the pipeline's functions.
	sm := get(t, prog, "aws:sfn/stateMachine:StateMachine", "etl")
	assert.Equal(t, "etl", sm.Inputs["name"])
	assert.Equal(t, read(t, out, "statemachine.asl.json"), sm.Inputs["definition"])
	assert.Equal(t, "arn:aws:iam::"+mockAccount+":role/etl-StateMachine"+mockSuffix, sm.Inputs["roleArn"])
	assert.Contains(t, sm.DependsOn, "aws:iam/rolePolicy:RolePolicy::etl-StateMachine")
	// Executions are logged, kept as long as the functions' logs.
	smLogs := get(t, prog, "aws:cloudwatch/logGroup:LogGroup", "etl")
	assert.Equal(t, "/aws/vendedlogs/states/etl", smLogs.Inputs["name"])
	assert.Equal(t, float64(dep.LogRetentionDays), smLogs.Inputs["retentionInDays"])
	assert.Equal(t, map[string]any{"level": "ALL", "includeExecutionData": true,
		"logDestination": "arn:aws:logs:" + mockRegion + ":" + mockAccount + ":log-group:/aws/vendedlogs/states/etl:*"},
		sm.Inputs["loggingConfiguration"])
	assert.Contains(t, sm.DependsOn, "aws:cloudwatch/logGroup:LogGroup::etl")
	assert.Equal(t, [][]string{{"clean_orders", "clean_customers"}, {"enrich"}, {"daily_revenue", "customer_stats"}},
		waves(t, sm.Inputs["definition"].(string)))
	assertTrust(t, get(t, prog, "aws:iam/role:Role", "etl-StateMachine"), "states.amazonaws.com")
	smPolicy := get(t, prog, "aws:iam/rolePolicy:RolePolicy", "etl-StateMachine")
	assert.Equal(t, "etl-StateMachine"+mockSuffix, smPolicy.Inputs["role"])
	assert.Equal(t, []statement{
		{Sid: "InvokeTasks", Effect: "Allow", Action: []string{"lambda:InvokeFunction"}, Resource: functionARNs},
		{Sid: "DeliverLogs", Effect: "Allow", Action: []string{"logs:CreateLogDelivery", "logs:GetLogDelivery",
			"logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
			"logs:DescribeResourcePolicies", "logs:DescribeLogGroups"}, Resource: []string{"*"}},
	}, policy(t, smPolicy))
}

func checkDataset(t *testing.T, prog projecttest.Program, d datasetDecl, state, record string) {
	b := get(t, prog, "aws:s3/bucketV2:BucketV2", d.Logical)
	assert.Nil(t, b.Inputs["bucket"], "buckets are auto-named")
	assert.Equal(t, map[string]any{"glacier:pipeline": "etl", "glacier:dataset": d.Name, "team": "data"}, b.Inputs["tags"])
	name := d.Logical + mockSuffix

	pab := get(t, prog, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", d.Logical)
	assert.Equal(t, map[string]any{"bucket": name, "blockPublicAcls": true, "blockPublicPolicy": true,
		"ignorePublicAcls": true, "restrictPublicBuckets": true}, pab.Inputs)

	// Plain HTTP is refused.
	bp := get(t, prog, "aws:s3/bucketPolicy:BucketPolicy", d.Logical)
	assert.Equal(t, name, bp.Inputs["bucket"])
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(bp.Inputs["policy"].(string)), &doc))
	assert.Equal(t, map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
		"Resource":  []any{"arn:aws:s3:::" + name, "arn:aws:s3:::" + name + "/*"},
		"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	}}}, doc)

	sse := get(t, prog, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", d.Logical)
	assert.Equal(t, []any{map[string]any{"applyServerSideEncryptionByDefault": map[string]any{"sseAlgorithm": "AES256"}}},
		sse.Inputs["rules"])

	v, versioned := prog.Get("aws:s3/bucketVersioningV2:BucketVersioningV2", d.Logical)
	assert.Equal(t, d.Bucket.Versioning, versioned)
	if versioned {
		assert.Equal(t, map[string]any{"status": "Enabled"}, v.Inputs["versioningConfiguration"])
	}

	lc := get(t, prog, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", d.Logical)
	assert.Equal(t, name, lc.Inputs["bucket"])
	rules := map[string]map[string]any{}
	for _, r := range lc.Inputs["rules"].([]any) {
		rule := r.(map[string]any)
		assert.Equal(t, "Enabled", rule["status"])
		rules[rule["id"].(string)] = rule
	}
	whole := map[string]any{}
	want := map[string]map[string]any{
		"abort-incomplete-multipart-uploads": {"abortIncompleteMultipartUpload": map[string]any{"daysAfterInitiation": 1.0}, "filter": whole},
	}
	if d.Producer != "" { // a failed run's staged outputs go after a day
		want["expire-staged-outputs"] = map[string]any{"expiration": map[string]any{"days": 1.0}, "filter": map[string]any{"prefix": "staging/"}}
	}
	switch {
	case d.Name == "daily_revenue": // retention_days: 365, access_pattern: infrequent
		// With a store, retention applies to the versions no ref names.
		want["expire-retired-versions"] = map[string]any{"expiration": map[string]any{"days": 365.0}, "filter": map[string]any{"prefix": "retired/"}}
		want["storage-class"] = map[string]any{"transitions": []any{map[string]any{"days": 30.0, "storageClass": "STANDARD_IA"}}, "filter": whole}
	case d.Name == "customer_stats": // retention_days: 90
		want["expire-retired-versions"] = map[string]any{"expiration": map[string]any{"days": 90.0}, "filter": map[string]any{"prefix": "retired/"}}
	case d.Bucket.RetentionDays != 0 || d.RetireDays != 0 || d.Bucket.TransitionTo != "":
		t.Fatalf("examples/etl changed: dataset %s has lifecycle settings this test does not expect", d.Name)
	}
	require.Len(t, rules, len(want))
	for id, fields := range want {
		for k, v := range fields {
			assert.Equal(t, v, rules[id][k], "%s: rule %s: %s", d.Name, id, k)
		}
	}

	obj, uploaded := prog.Get("aws:s3/bucketObjectv2:BucketObjectv2", d.Logical)
	assert.Equal(t, d.Source != "", uploaded)
	if uploaded {
		assert.Equal(t, name, obj.Inputs["bucket"])
		assert.Equal(t, d.Name, obj.Inputs["key"])
		assert.Equal(t, map[string]any{"asset": d.SourceFile()}, obj.Inputs["source"])
		assert.Equal(t, string(d.Bucket.SourceClass), stringOr(obj.Inputs["storageClass"]))
	}
	if d.Name == "orders_raw" {
		assert.Equal(t, "INTELLIGENT_TIERING", obj.Inputs["storageClass"])
	}
	// A source is also a version in the store, and the state bucket
	// records it, after it.
	version, ok := prog.Get("aws:s3/bucketObjectv2:BucketObjectv2", d.Logical+"/version")
	require.Equal(t, d.Source != "", ok)
	if !ok {
		return
	}
	assert.Equal(t, name, version.Inputs["bucket"])
	assert.Equal(t, d.SourceObject(), version.Inputs["key"])
	assert.Regexp(t, `^objects/[0-9a-f]{2}/[0-9a-f]{64}$`, version.Inputs["key"])
	assert.Equal(t, map[string]any{"asset": d.SourceFile()}, version.Inputs["source"])
	rec := get(t, prog, "aws:s3/bucketObjectv2:BucketObjectv2", d.Logical+"/record")
	assert.Equal(t, state, rec.Inputs["bucket"])
	assert.Equal(t, record, rec.Inputs["key"])
	assert.Equal(t, map[string]any{"asset": d.SourceRecordFile()}, rec.Inputs["source"])
	assert.Contains(t, rec.DependsOn, "aws:s3/bucketObjectv2:BucketObjectv2::"+d.Logical+"/version")
}

func checkTask(t *testing.T, prog projecttest.Program, task taskDecl, bucket map[string]string, state string) {
	fn := get(t, prog, "aws:lambda/function:Function", task.FunctionName)
	roleName := task.RoleLogical + mockSuffix
	in := fn.Inputs
	assert.Equal(t, task.FunctionName, in["name"])
	assert.Equal(t, "provided.al2023", in["runtime"])
	assert.Equal(t, "bootstrap", in["handler"])
	// The function has the task's memory, which caps its sandbox, and the
	// runtime's reserve beside it.
	assert.Equal(t, float64(task.Limits.MemoryMiB+plan.HostReserveMiB), in["memorySize"])
	assert.Equal(t, float64(task.Limits.TimeoutSecs), in["timeout"])
	assert.Equal(t, []any{"arm64"}, in["architectures"])
	assert.Equal(t, map[string]any{"archive": "artifacts/" + task.Name + ".zip"}, in["code"])
	assert.Equal(t, "arn:aws:iam::"+mockAccount+":role/"+roleName, in["role"])
	assert.Equal(t, map[string]any{"glacier:pipeline": "etl", "glacier:task": task.Name, "team": "data"}, in["tags"])

	// The environment names exactly the task's datasets.
	vars := in["environment"].(map[string]any)["variables"].(map[string]any)
	require.Len(t, vars, 2)
	assert.Equal(t, "s3://"+state, vars["GLACIER_STATE"])
	var datasets map[string]string
	require.NoError(t, json.Unmarshal([]byte(vars["GLACIER_DATASETS"].(string)), &datasets))
	want := map[string]string{}
	for _, d := range task.Touches() {
		want[d] = "s3://" + bucket[d] + "/" + d
	}
	assert.Equal(t, want, datasets)

	logs := get(t, prog, "aws:cloudwatch/logGroup:LogGroup", task.FunctionName)
	assert.Equal(t, "/aws/lambda/"+task.FunctionName, logs.Inputs["name"])
	assert.Equal(t, float64(task.LogRetentionDays), logs.Inputs["retentionInDays"])
	assert.Contains(t, fn.DependsOn, "aws:cloudwatch/logGroup:LogGroup::"+task.FunctionName, "logs exist before the function")
	assert.Contains(t, fn.DependsOn, "aws:iam/rolePolicy:RolePolicy::"+task.RoleLogical, "permissions exist before the function")

	assertTrust(t, get(t, prog, "aws:iam/role:Role", task.RoleLogical), "lambda.amazonaws.com")
	pol := get(t, prog, "aws:iam/rolePolicy:RolePolicy", task.RoleLogical)
	assert.Equal(t, roleName, pol.Inputs["role"])
	keys := func(datasets []string, key func(d string) string) []string {
		var arns []string
		for _, d := range datasets {
			arns = append(arns, "arn:aws:s3:::"+bucket[d]+"/"+key(d))
		}
		return arns
	}
	versions := func(string) string { return "objects/*" }
	var refs []string
	for _, d := range task.Reads {
		ref := "pipelines/etl/sources/" + d + ".json"
		if p, ok := task.Producers[d]; ok {
			ref = "pipelines/etl/tasks/" + p + ".json"
		}
		refs = append(refs, "arn:aws:s3:::"+state+"/"+ref)
	}
	var listed []string
	for _, d := range task.Writes {
		listed = append(listed, "arn:aws:s3:::"+bucket[d])
	}
	var wantPolicy []statement
	if len(task.Reads) > 0 {
		wantPolicy = append(wantPolicy,
			statement{Sid: "ReadInputs", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: keys(task.Reads, versions)},
			statement{Sid: "ReadInputRefs", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: refs})
	}
	wantPolicy = append(wantPolicy,
		statement{Sid: "StageOutputs", Effect: "Allow", Action: []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject"},
			Resource: keys(task.Writes, func(d string) string { return "staging/*/" + task.Name + "/" + d })},
		statement{Sid: "AddOutputVersions", Effect: "Allow", Action: []string{"s3:PutObject", "s3:GetObject"}, Resource: keys(task.Writes, versions)})
	if len(task.Retire) > 0 { // daily_revenue's and customer_stats' retention_days
		wantPolicy = append(wantPolicy,
			statement{Sid: "RetireReplacedVersions", Effect: "Allow", Action: []string{"s3:PutObject", "s3:GetObject"},
				Resource: keys(task.Retire, func(string) string { return "retired/*" })},
			statement{Sid: "DeleteReplacedVersions", Effect: "Allow", Action: []string{"s3:DeleteObject"}, Resource: keys(task.Retire, versions)})
	}
	wantPolicy = append(wantPolicy,
		statement{Sid: "PublishOutputs", Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: keys(task.Writes, func(d string) string { return d })},
		statement{Sid: "OwnMemoAndRef", Effect: "Allow", Action: []string{"s3:PutObject", "s3:GetObject"}, Resource: []string{
			"arn:aws:s3:::" + state + "/memo/" + task.Name + "/*",
			"arn:aws:s3:::" + state + "/pipelines/etl/tasks/" + task.Name + ".json",
			"arn:aws:s3:::" + state + "/runs/*/tasks/" + task.Name + ".json",
		}},
		statement{Sid: "ListStore", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: append(listed, "arn:aws:s3:::"+state)},
		statement{Sid: "WriteOwnLogs", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resource: []string{"arn:aws:logs:" + mockRegion + ":" + mockAccount + ":log-group:/aws/lambda/" + task.FunctionName + ":*"}},
	)
	assert.Equal(t, wantPolicy, policy(t, pol))
}

// get returns the resource of type typ named name, failing t if there is
// none.
func get(t *testing.T, prog projecttest.Program, typ, name string) projecttest.Resource {
	t.Helper()
	r, ok := prog.Get(typ, name)
	require.True(t, ok, "no %s named %s", typ, name)
	return r
}

type statement struct {
	Sid, Effect string
	Action      []string
	Resource    []string
	Condition   map[string]map[string][]string `json:",omitempty"`
}

// policy parses a RolePolicy's document, refusing fields the checks do not
// cover.
func policy(t *testing.T, r projecttest.Resource) []statement {
	t.Helper()
	var doc struct {
		Version   string
		Statement []map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(r.Inputs["policy"].(string)), &doc))
	assert.Equal(t, "2012-10-17", doc.Version)
	var out []statement
	for _, raw := range doc.Statement {
		fields := []string{"Action", "Effect", "Resource", "Sid"}
		if _, ok := raw["Condition"]; ok {
			fields = []string{"Action", "Condition", "Effect", "Resource", "Sid"}
		}
		assert.Equal(t, fields, slices.Sorted(maps.Keys(raw)), "statement fields")
		b, err := json.Marshal(raw)
		require.NoError(t, err)
		var s statement
		require.NoError(t, json.Unmarshal(b, &s))
		out = append(out, s)
	}
	return out
}

func assertTrust(t *testing.T, role projecttest.Resource, service string) {
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
