package aws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/internal/testutil/etlgolden"
	"github.com/glacier-pipeline/glacier/internal/testutil/motos3"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/store"
)

// TestStoreUnderIAM runs examples/etl's functions, each under the Lambda
// emulator, against moto's S3 with IAM enforced, each signing as a user
// whose only policy is the one the compiler derived for its task's role
// (taskPolicy, rendered as the program renders it): the first
// execution runs every task and its outputs are golden, the second is all
// cached, and after a source changes the third reruns what it affects and
// retires a replaced version, so every request the runtime makes on those
// paths is one the policy allows. Then a task's key tries what its policy
// must refuse.
//
// moto answers a missing object 404 whether or not the user may list the
// bucket (motos3 TestEnforceIAM), where S3 answers 403 without
// s3:ListBucket, so the 403 case itself is covered by the policy's
// ListStore statement and docs/aws.md, not by this test.
func TestStoreUnderIAM(t *testing.T) {
	if testing.Short() {
		t.Skip("runs five functions under the Lambda emulator; run without -short")
	}
	out, _ := x86ETL(t)
	m, mods := etl(t)
	opts := x86Opts
	opts.Dir = m.Dir
	dep, probs := designFor(t, m.Pipeline, opts)
	require.NoError(t, probs.Err())

	srv := motos3.Start(t)
	bucket := map[string]string{}
	for _, d := range dep.Datasets {
		bucket[d.Name] = d.Logical + "-iam"
		srv.CreateBucket(t, bucket[d.Name])
	}
	state := dep.StateLogical + "-iam"
	srv.CreateBucket(t, state)
	compiletest.Upload(t, srv, dep.Deployment, out, "s3", state, func(d string) string { return bucket[d] }, mods)

	srv.EnforceIAM(t)
	keys := map[string]awssdk.Credentials{}
	for _, task := range dep.Tasks {
		keys[task.Name] = srv.User(t, task.FunctionName, policyJSON(t, task.Policy, bucket, state, task.FunctionName))
	}

	functions := startFunctions(t, dep, out, bucket, state, func(task string) map[string]string { return srv.EnvAs(keys[task]) })

	// execute invokes every function once, in the order the state
	// machine's waves would, checks every output against want, and
	// returns each task's status.
	execute := func(run string, want func(dataset string) []byte) map[string]string {
		statuses := map[string]string{}
		payload, err := json.Marshal(fnspec.Request{RunID: run})
		require.NoError(t, err)
		for _, task := range dep.Tasks {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			body, err := functions[task.Name].Invoke(ctx, payload)
			cancel()
			require.NoError(t, err, "%s: task %s under its own policy", run, task.Name)
			var resp fnspec.Response
			require.NoError(t, json.Unmarshal(body, &resp))
			statuses[task.Name] = resp.Status
			for _, ds := range task.Writes {
				got, ok := srv.GetObject(t, bucket[ds], ds)
				require.True(t, ok, "%s: %s wrote no %s", run, task.Name, ds)
				assert.True(t, bytes.Equal(want(ds), got), "%s: %s differs from glacier run's", run, ds)
			}
		}
		return statuses
	}
	all := func(status string) map[string]string { return everyTask(dep, status) }
	golden := func(ds string) []byte { return etlgolden.Output(t, ds) }
	assert.Equal(t, all("succeeded"), execute("iam-run", golden), "the first execution runs every task")
	assert.Equal(t, all("cached"), execute("iam-again", golden), "the second runs no guest")

	// A changed source, deployed again: what it affects runs, and the
	// version of customer_stats (retention_days) that the change replaced
	// is retired, all under the same policies.
	m2, want := etlgolden.Changed(t, mods)
	out2, _, dep2 := recompile(t, m2, mods)
	compiletest.Upload(t, srv, dep2.Deployment, out2, "s3", state, func(d string) string { return bucket[d] }, mods)
	changed := execute("iam-changed", want)
	assert.Equal(t, "cached", changed["clean_orders"])
	assert.Equal(t, "succeeded", changed["customer_stats"])
	compiletest.Retired(t, srv, bucket["customer_stats"], golden("customer_stats"))

	// What a task's key must not do: another task's ref, memo and run
	// records, an input's versions or stable name, an input's bucket's
	// listing. clean_orders reads orders_raw and writes orders.
	ctx := context.Background()
	c := srv.ClientAs(keys["clean_orders"])
	denied := func(what string, err error) {
		t.Helper()
		var ae smithy.APIError
		if assert.True(t, errors.As(err, &ae), "%s: %v", what, err) {
			assert.Equal(t, "AccessDenied", ae.ErrorCode(), what)
		}
	}
	put := func(b, key string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: &key, Body: bytes.NewReader([]byte("x"))})
		return err
	}
	get := func(b, key string) error {
		_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: &key})
		return err
	}
	p := dep.Pipeline
	denied("write another task's ref", put(state, store.RefName(p, "enrich")))
	denied("write another task's memo", put(state, store.MemoPrefix("enrich")+"0000.json"))
	denied("read another task's memo", get(state, store.MemoPrefix("enrich")+"0000.json"))
	denied("write another task's run record", put(state, store.RunTaskName("iam-run", "enrich")))
	denied("write an input's version", put(bucket["orders_raw"], store.ObjectsPrefix+"00/00"))
	denied("write an input's stable name", put(bucket["orders_raw"], "orders_raw"))
	denied("write another task's output", put(bucket["customers"], "customers"))
	denied("stage another task's output", put(bucket["orders"], store.StagingName("iam-x", "enrich", "orders")))
	_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: awssdk.String(bucket["orders_raw"])})
	denied("list an input's bucket", err)
	// What it may: its own ref, and its output's versions.
	assert.NoError(t, get(state, store.RefName(p, "clean_orders")))
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: awssdk.String(bucket["orders"])})
	assert.NoError(t, err)
}

// policyJSON renders statements as the compiled program's policyDocument
// does (program/iam.go), with the buckets' names for ARNs; the Pulumi
// tests check that rendering against the program itself.
func policyJSON(t *testing.T, statements []iamStatement, bucket map[string]string, state, function string) string {
	t.Helper()
	arn := func(b string) string { return "arn:aws:s3:::" + b }
	var doc []map[string]any
	for _, s := range statements {
		var res []string
		for _, d := range s.Objects {
			res = append(res, arn(bucket[d])+"/"+d)
		}
		for _, k := range s.Keys {
			res = append(res, arn(bucket[k.Dataset])+"/"+k.Key)
		}
		for _, d := range s.Buckets {
			res = append(res, arn(bucket[d]))
		}
		for _, k := range s.State {
			res = append(res, arn(state)+"/"+k)
		}
		if s.StateBucket {
			res = append(res, arn(state))
		}
		if s.OwnLogs {
			res = append(res, "arn:aws:logs:"+motos3.Region+":123456789012:log-group:/aws/lambda/"+function+":*")
		}
		require.Empty(t, s.Functions, "a task's policy names no function")
		st := map[string]any{"Sid": s.Sid, "Effect": "Allow", "Action": s.Actions, "Resource": res}
		doc = append(doc, st)
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": doc})
	require.NoError(t, err)
	return string(b)
}
