package etlgolden

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glacier-pipeline/glacier/build"
	"github.com/glacier-pipeline/glacier/manifest"
	"github.com/glacier-pipeline/glacier/providers/local"
)

// ChangedSource is the source Changed edits.
const ChangedSource = "customers_raw"

// IsSource reports whether dataset is one of examples/etl's sources,
// which have no golden output.
func IsSource(tb testing.TB, dataset string) bool {
	tb.Helper()
	m, err := manifest.Load(filepath.Join(Dir(), manifest.DefaultFile))
	if err != nil {
		tb.Fatal(err)
	}
	d, ok := m.Pipeline.Dataset(dataset)
	return ok && d.Source != ""
}

// Changed returns a copy of examples/etl whose customers.csv gives one
// customer another segment, loaded, and the outputs glacier run gives
// for it with mods (the tasks' modules, which the change leaves alone):
// what the cloud must produce after the changed source is deployed.
func Changed(tb testing.TB, mods map[string]build.Module) (*manifest.Manifest, func(dataset string) []byte) {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "etl")
	if err := os.CopyFS(dir, os.DirFS(Dir())); err != nil {
		tb.Fatal(err)
	}
	_ = os.RemoveAll(filepath.Join(dir, ".glacier"))
	csv := filepath.Join(dir, "data", "customers.csv")
	data, err := os.ReadFile(csv)
	if err != nil {
		tb.Fatal(err)
	}
	edited := strings.Replace(string(data), "IT,consumer,2024-04-03", "IT,enterprise,2024-04-03", 1)
	if edited == string(data) {
		tb.Fatal("etlgolden: customers.csv no longer has the line Changed edits")
	}
	if err := os.WriteFile(csv, []byte(edited), 0o644); err != nil {
		tb.Fatal(err)
	}
	m, err := manifest.Load(filepath.Join(dir, manifest.DefaultFile))
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	if _, err := m.Pipeline.Run(ctx, local.New(local.Options{Dir: dir, Modules: slices.Collect(maps.Values(mods)), Parallel: 2, Backoff: time.Millisecond})); err != nil {
		tb.Fatal(err)
	}
	st, err := local.OpenStore(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return m, func(dataset string) []byte {
		tb.Helper()
		b, err := st.Read(m.Pipeline, dataset)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
}
