package plan_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// diamond is a -> (b, c) -> d, with one source and a dataset read twice.
func diamond(t *testing.T) *glacier.Pipeline {
	t.Helper()
	p := glacier.New("diamond")
	obj := glacier.ObjectStorage{}
	for _, d := range []glacier.Dataset{
		{Name: "raw", Storage: obj, Source: "data/raw.csv"},
		{Name: "mid", Storage: obj},
		{Name: "left", Storage: obj},
		{Name: "right", Storage: obj},
		{Name: "out", Storage: obj},
	} {
		require.NoError(t, p.AddDataset(d))
	}
	sl := glacier.Serverless{Memory: 256}
	for _, task := range []glacier.Task{
		{Name: "a", Build: "./a", Inputs: []string{"raw"}, Outputs: []string{"mid"}, Compute: sl},
		{Name: "b", Build: "./b", Inputs: []string{"mid"}, Outputs: []string{"left"}, Compute: sl},
		{Name: "c", Build: "./c", Inputs: []string{"mid", "raw"}, Outputs: []string{"right"}, Compute: sl},
		{Name: "d", Build: "./d", Inputs: []string{"left", "right"}, Outputs: []string{"out"}, Compute: sl},
	} {
		require.NoError(t, p.AddTask(task))
	}
	require.NoError(t, p.Validate().Err())
	return p
}

func TestNew(t *testing.T) {
	pl, err := plan.New(diamond(t), nil)
	require.NoError(t, err)
	assert.Equal(t, "diamond", pl.Name)
	assert.Equal(t, [][]string{{"a"}, {"b", "c"}, {"d"}}, pl.Waves)

	tasks := []struct {
		name          string
		reads, writes []string
		wave          int
	}{
		{"a", []string{"raw"}, []string{"mid"}, 0},
		{"b", []string{"mid"}, []string{"left"}, 1},
		{"c", []string{"mid", "raw"}, []string{"right"}, 1},
		{"d", []string{"left", "right"}, []string{"out"}, 2},
	}
	require.Len(t, pl.Tasks, len(tasks))
	for i, want := range tasks {
		got := pl.Tasks[i]
		assert.Equal(t, want.name, got.Name)
		assert.Equal(t, want.reads, got.Reads, "reads of %s", want.name)
		assert.Equal(t, want.writes, got.Writes, "writes of %s", want.name)
		assert.Equal(t, want.wave, got.Wave, "wave of %s", want.name)
		assert.Equal(t, glacier.Limits{MemoryMiB: 256, TimeoutSecs: glacier.DefaultTimeout}, got.Limits)
	}

	datasets := []struct {
		name, producer string
		readers        []string
	}{
		{"raw", "", []string{"a", "c"}},
		{"mid", "a", []string{"b", "c"}},
		{"left", "b", []string{"d"}},
		{"right", "c", []string{"d"}},
		{"out", "d", nil},
	}
	require.Len(t, pl.Datasets, len(datasets))
	for i, want := range datasets {
		got := pl.Datasets[i]
		assert.Equal(t, want.name, got.Name)
		assert.Equal(t, want.producer, got.Producer, "producer of %s", want.name)
		assert.Equal(t, want.readers, got.Readers, "readers of %s", want.name)
	}
	src := pl.Sources()
	require.Len(t, src, 1)
	assert.Equal(t, "raw", src[0].Name)

	c, ok := pl.Task("c")
	require.True(t, ok)
	assert.Equal(t, []string{"mid", "raw", "right"}, c.Touches())
	_, ok = pl.Task("nope")
	assert.False(t, ok)
}

func TestNewModules(t *testing.T) {
	p := diamond(t)
	mods := []build.Module{
		{Task: "a", Path: "/m/a.wasm", SHA256: "aa"},
		{Task: "b", Path: "/m/b.wasm", SHA256: "bb"},
		{Task: "c", Path: "/m/c.wasm", SHA256: "cc"},
		{Task: "d", Path: "/m/d.wasm", SHA256: "dd"},
	}
	pl, err := plan.New(p, mods)
	require.NoError(t, err)
	for i, task := range pl.Tasks {
		assert.Equal(t, mods[i], task.Module)
	}

	_, err = plan.New(p, mods[:3])
	require.ErrorContains(t, err, `no module for task "d"`)
	_, err = plan.New(p, append(mods, mods[0]))
	require.ErrorContains(t, err, `two modules for task "a"`)
}

func TestCheck(t *testing.T) {
	obj := glacier.ObjectStorage{}
	tests := []struct {
		name    string
		storage glacier.Storage
		compute glacier.Compute
		parted  bool
		want    []string // culprits as Problem.String prefixes
	}{
		{"partitioned", obj, glacier.Serverless{}, true, nil},
		{"serverless and object", obj, glacier.Serverless{}, false, nil},
		{"local", obj, glacier.Local{}, false, []string{`task "t": has local compute`}},
		{"default compute is local", obj, nil, false, []string{`task "t": has local compute`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := glacier.New("p")
			require.NoError(t, p.AddDataset(glacier.Dataset{Name: "in", Storage: obj, Source: "in.csv"}))
			require.NoError(t, p.AddDataset(glacier.Dataset{Name: "out", Storage: tt.storage, Partitioned: tt.parted}))
			require.NoError(t, p.AddTask(glacier.Task{Name: "t", Build: "./t", Inputs: []string{"in"}, Outputs: []string{"out"}, Compute: tt.compute}))
			pl, err := plan.New(p, nil)
			require.NoError(t, err)
			probs := pl.Check("AWS", "AWS Lambda")
			require.Len(t, probs, len(tt.want), "%v", probs)
			for i, w := range tt.want {
				assert.Equal(t, glacier.Error, probs[i].Severity)
				assert.True(t, strings.HasPrefix(probs[i].String(), w), "%q does not start with %q", probs[i], w)
				assert.Contains(t, probs[i].String(), "AWS")
			}
		})
	}
}

func TestRuleName(t *testing.T) {
	long := strings.Repeat("x", 40)
	tests := []struct {
		name         string
		rule         plan.Rule
		prefix, base string
		want         string
	}{
		{"bucket folds underscores", plan.S3Bucket, "prod", "raw_orders", "prod-raw-orders"},
		{"bucket lowercases", plan.S3Bucket, "Prod", "raw", "prod-raw"},
		{"function keeps underscores", plan.LambdaFunction, "prod", "clean_orders", "prod-clean_orders"},
		{"role keeps underscores", plan.IAMRole, "prod", "clean_orders", "prod-clean_orders"},
		{"no prefix", plan.LambdaFunction, "", "clean", "clean"},
		{"odd characters", plan.StateMachine, "a b", "c/d", "a-b-c-d"},
		{"gcs bucket keeps underscores", plan.GCSBucket, "prod", "raw_orders", "prod-raw_orders"},
		{"cloud function", plan.CloudFunction, "prod", "clean_orders", "prod-clean-orders"},
		{"long bucket is hashed", plan.S3Bucket, "team-" + long[:20], long, ""},
		{"reserved room", plan.S3Bucket.Reserve(plan.PulumiAutoNameSuffix), "p", long + "-" + long[:10], ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.rule.Name(tt.prefix, tt.base)
			assert.Equal(t, got, tt.rule.Name(tt.prefix, tt.base), "not deterministic")
			assert.LessOrEqual(t, len(got), tt.rule.MaxLen)
			if tt.want != "" {
				assert.Equal(t, tt.want, got)
			}
			for _, c := range got {
				ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune(tt.rule.Extra, c) ||
					!tt.rule.Lower && c >= 'A' && c <= 'Z'
				assert.True(t, ok, "%q has %q", got, c)
			}
			assert.NotEqual(t, byte('-'), got[0])
			assert.NotEqual(t, byte('-'), got[len(got)-1])
		})
	}

	// Distinct long names stay distinct once shortened.
	a := plan.S3Bucket.Name("p", long+long+"a")
	b := plan.S3Bucket.Name("p", long+long+"b")
	assert.Len(t, a, 63)
	assert.NotEqual(t, a, b)
	assert.Equal(t, a[:50], b[:50])
}

func TestCheckPrefix(t *testing.T) {
	tests := []struct {
		prefix string
		ok     bool
	}{
		{"prod", true},
		{"team-a1", true},
		{"a", true},
		{strings.Repeat("a", 32), true},
		{strings.Repeat("a", 33), false},
		{"", false},
		{"Prod", false},
		{"1prod", false},
		{"prod-", false},
		{"pro--d", false},
		{"pro_d", false},
		{"sthree-x", false},
		{"amzn-s3-demo-x", false},
		{"google", false},
	}
	for _, tt := range tests {
		err := plan.CheckPrefix(tt.prefix)
		if tt.ok {
			assert.NoError(t, err, tt.prefix)
		} else {
			assert.Error(t, err, tt.prefix)
		}
	}
}

func TestFunctionMemory(t *testing.T) {
	// The figures assume fnrt's reserve; a new reserve is a new contract,
	// and the clouds' docs state it too.
	require.Equal(t, 96, plan.HostReserveMiB)
	exact := plan.Sizes{Platform: "Exact", Min: 128, Max: 1024}
	tiers := plan.Sizes{Platform: "Tiered", Min: 128, Max: 1024, Tiers: []int{128, 256, 512, 1024}}
	tests := []struct {
		sizes    plan.Sizes
		task     int
		function int
		err      string
	}{
		{exact, 1, 128, ""},
		{exact, 32, 128, ""},
		{exact, 33, 129, ""},
		{exact, 512, 608, ""},
		{exact, 928, 1024, ""},
		{exact, 929, 0, "memory 929 MiB needs a function of 1025 MiB, since the runtime that hosts the sandbox needs 96 MiB " +
			"beside the task's own, and Exact gives a function at most 1024 MiB; set compute memory to 928 or less"},
		{tiers, 1, 128, ""},
		{tiers, 33, 256, ""},
		{tiers, 160, 256, ""},
		{tiers, 161, 512, ""},
		{tiers, 512, 1024, ""},
		{tiers, 928, 1024, ""},
		{tiers, 929, 0, "Tiered gives a function at most 1024 MiB; set compute memory to 928 or less"},
	}
	for _, tt := range tests {
		got, err := tt.sizes.Function(tt.task)
		if tt.err != "" {
			assert.ErrorContains(t, err, tt.err, "%s, %d MiB", tt.sizes.Platform, tt.task)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tt.function, got, "%s, %d MiB", tt.sizes.Platform, tt.task)
	}
	assert.Equal(t, 928, tiers.MaxTask())

	task := plan.Task{Limits: glacier.Limits{MemoryMiB: 256}}
	got, err := task.FunctionMemory(tiers)
	require.NoError(t, err)
	assert.Equal(t, 512, got)
}

func TestDefaultPrefix(t *testing.T) {
	assert.Equal(t, "orders-etl", plan.DefaultPrefix("orders_etl"))
	assert.NoError(t, plan.CheckPrefix(plan.DefaultPrefix("orders_etl")))
}

func TestPartitionedTask(t *testing.T) {
	p := glacier.New("p")
	obj := glacier.ObjectStorage{}
	require.NoError(t, p.AddDataset(glacier.Dataset{Name: "logs", Storage: obj, Source: "logs", Partitioned: true}))
	require.NoError(t, p.AddDataset(glacier.Dataset{Name: "days", Storage: obj, Partitioned: true}))
	require.NoError(t, p.AddDataset(glacier.Dataset{Name: "total", Storage: obj}))
	require.NoError(t, p.AddTask(glacier.Task{Name: "parse", Build: "./t", Inputs: []string{"logs"}, Outputs: []string{"days"}, Map: "logs", Compute: glacier.Serverless{}}))
	require.NoError(t, p.AddTask(glacier.Task{Name: "sum", Build: "./t", Inputs: []string{"days"}, Outputs: []string{"total"}, Compute: glacier.Serverless{}, MapBatch: 0}))
	pl, err := plan.New(p, nil)
	require.NoError(t, err)
	parse, _ := pl.Task("parse")
	sum, _ := pl.Task("sum")
	assert.Equal(t, []string{"logs", "days"}, parse.Partitioned)
	assert.Equal(t, []string{"days"}, sum.Partitioned)
	assert.Nil(t, parse.Producers, "parse reads a source")
	assert.Equal(t, map[string]string{"days": "parse"}, sum.Producers)
	assert.Equal(t, glacier.DefaultMapBatch, parse.Batch(), "a map task without map_batch runs the default")
	assert.Zero(t, sum.Batch(), "a task that maps over nothing runs no batches")
	parse.MapBatch = 7
	assert.Equal(t, 7, parse.Batch())
	logs, _ := pl.Dataset("logs")
	assert.Equal(t, "sources/logs", logs.SourceFile())
	assert.Equal(t, "sources/logs.parts.json", logs.PartListFile())
	total, _ := pl.Dataset("total")
	assert.Empty(t, total.PartListFile())
}
