package gcp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/providers/gcp/gcfbundle"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
	"github.com/glacier-pipeline/glacier/providers/internal/pulumiproject"
	"github.com/glacier-pipeline/glacier/store"
)

func TestCompile(t *testing.T) {
	out := t.TempDir()
	m := etl(t)
	mods := compiletest.Modules(t, m.Pipeline)
	comp := compileETL(t, out, Options{Project: "my-project", Modules: mods})

	assert.Equal(t, Target, comp.Target)
	assert.Equal(t, out, comp.Dir)
	// daily_revenue is infrequent (NEARLINE) and rewritten by every run.
	require.Len(t, comp.Warnings, 1)
	assert.Contains(t, comp.Warnings[0], `dataset "daily_revenue": task "daily_revenue" replaces the object on every run`)
	require.Len(t, comp.Artifacts, len(m.Pipeline.Tasks()))
	for i, task := range m.Pipeline.Tasks() {
		a := comp.Artifacts[i]
		assert.Equal(t, task.Name, a.Task)
		assert.Equal(t, "bundles/"+task.Name+".zip", a.Path)
		assert.Equal(t, mods[task.Name].SHA256, a.ModuleSHA256, "the bundle must hold the built module")
		fi, err := os.Stat(filepath.Join(out, a.Path))
		require.NoError(t, err)
		assert.Equal(t, fi.Size(), a.Size)
	}

	files := compiletest.Tree(t, out)
	written := []string{"Pulumi.yaml", "main.go", "go.mod", "go.sum", "workflow.yaml", "README.md",
		"sources/orders_raw/orders.csv", "sources/customers_raw/customers.csv",
		"sources/orders_raw.version.json", "sources/customers_raw.version.json", // the sources' records in the store
		"datasets.go", "tasks.go", "iam.go", "orchestration.go"} // the program's static files
	for _, name := range written {
		assert.Contains(t, files, name)
	}
	assert.Len(t, files, len(written)+len(comp.Artifacts))
	src, err := os.ReadFile(filepath.Join(m.Dir, "data", "orders.csv"))
	require.NoError(t, err)
	assert.Equal(t, string(src), strings.SplitN(files["sources/orders_raw/orders.csv"], "\n", 2)[1])
	var rec store.SourceRef
	require.NoError(t, json.Unmarshal([]byte(strings.SplitN(files["sources/orders_raw.version.json"], "\n", 2)[1]), &rec))
	srcSum := sha256.Sum256(src)
	assert.Equal(t, store.SourceRef{Dataset: "orders_raw", Version: store.Version{Digest: hex.EncodeToString(srcSum[:]), Size: int64(len(src))}}, rec,
		"the record names the source's version by its digest")

	goMod := files["go.mod"]
	assert.Contains(t, goMod, "module etl/gcp\n")
	assert.Contains(t, goMod, "github.com/pulumi/pulumi/sdk/v3 "+pulumiproject.PulumiSDKVersion+"\n")
	assert.Contains(t, goMod, "github.com/pulumi/pulumi-gcp/sdk/v9 "+PulumiGCPSDKVersion+"\n")
	pulumiYAML := files["Pulumi.yaml"]
	assert.Contains(t, pulumiYAML, spec.Marker())
	assert.Contains(t, pulumiYAML, "value: my-project")
	assert.Contains(t, pulumiYAML, "value: us-central1")

	mainGo := files["main.go"]
	for _, want := range []string{
		`Runtime:      "go127"`, `EntryPoint:   "` + gcfbundle.EntryPoint + `"`,
		`MemoryMiB:    1024`, `CPU:          "0.583"`, `TimeoutSecs:  120`, // enrich: 512 MiB and the reserve
		`Reads:        []*dataset{orders, customers}`,
		`Writes:       []*dataset{enrichedOrders}`,
		`const region = "us-central1"`,
		`"glacier-pipeline": "etl"`,
	} {
		assert.Contains(t, mainGo, want)
	}
	// The bundle object is named after the bundle's content.
	zb, err := os.ReadFile(filepath.Join(out, "bundles", "enrich.zip"))
	require.NoError(t, err)
	sum := sha256.Sum256(zb)
	assert.Contains(t, mainGo, `BundleObject: "enrich-`+hex.EncodeToString(sum[:])[:16]+`.zip"`)
}
