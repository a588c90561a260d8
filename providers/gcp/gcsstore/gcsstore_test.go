package gcsstore_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/testutil/fakegcs"
	"github.com/glacier-pipeline/glacier/providers/gcp/gcsstore"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/storage/drivertest"
	"github.com/glacier-pipeline/glacier/store"
	"github.com/glacier-pipeline/glacier/store/storetest"
)

const bucket = "glacier-test"

func start(t *testing.T) *fakegcs.Server {
	t.Helper()
	srv := fakegcs.Start(t)
	srv.CreateBucket(t, bucket)
	return srv
}

func harness(srv *fakegcs.Server, drv *gcsstore.Driver, large int) drivertest.Harness {
	return drivertest.Harness{
		Driver: drv,
		URL: func(t *testing.T, name string) string {
			return "gs://" + bucket + "/" + t.Name() + "/" + name
		},
		Read: func(t *testing.T, u string) ([]byte, bool) {
			b, o, err := gcsstore.ParseURL(u)
			require.NoError(t, err)
			return srv.GetObject(t, b, o)
		},
		Large: large,
		Put: func(t *testing.T, u string, data []byte) {
			b, o, err := gcsstore.ParseURL(u)
			require.NoError(t, err)
			srv.PutObject(t, b, o, data)
		},
		MissingBucket: func(t *testing.T) (string, string) {
			return "gs://no-such-bucket/" + t.Name(), "no-such-bucket"
		},
	}
}

func TestConformance(t *testing.T) {
	srv := start(t)
	// Small chunks, so the large outputs are sent in several requests.
	drv, err := gcsstore.New(srv.Client, &gcsstore.Options{ChunkSize: 256 << 10})
	require.NoError(t, err)
	drivertest.RunConformanceTests(t, harness(srv, drv, 3<<20+12345))
}

func TestConformanceFromEnv(t *testing.T) {
	srv := start(t)
	for k, v := range srv.Env() {
		t.Setenv(k, v)
	}
	drv, err := gcsstore.NewFromEnv(t.Context(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { drv.Client().Close() })
	drivertest.RunConformanceTests(t, harness(srv, drv, gcsstore.DefaultChunkSize+1<<20))
}

func TestNewOptions(t *testing.T) {
	srv := start(t)
	_, err := gcsstore.New(srv.Client, &gcsstore.Options{ChunkSize: -1})
	assert.ErrorContains(t, err, "Options.ChunkSize")
	_, err = gcsstore.New(srv.Client, &gcsstore.Options{ChunkSize: 1 << 20})
	assert.NoError(t, err)
	_, err = gcsstore.New(nil, nil)
	assert.ErrorContains(t, err, "client is nil")
}

// TestParseURL checks the form the driver gives storage.BucketURLs, whose
// own test covers each rule.
func TestParseURL(t *testing.T) {
	b, n, err := gcsstore.ParseURL("gs://my_bucket.example.com/runs/2024/out%20a.csv")
	require.NoError(t, err)
	assert.Equal(t, []string{"my_bucket.example.com", "runs/2024/out a.csv"}, []string{b, n})
	_, _, err = gcsstore.ParseURL("gs://b/")
	assert.ErrorContains(t, err, "the object name is missing; want gs://bucket/object")
	_, _, err = gcsstore.ParseURL("s3://b/n")
	assert.ErrorContains(t, err, `scheme is "s3"`)
}

// TestChunkedUpload checks that a large output really is sent in chunks
// before Commit (so the conformance suite's invisibility checks are
// meaningful) and that no request carries more than one chunk.
func TestChunkedUpload(t *testing.T) {
	const chunk = 256 << 10
	srv := start(t)
	drv, err := gcsstore.New(srv.Client, &gcsstore.Options{ChunkSize: chunk})
	require.NoError(t, err)
	u := "gs://" + bucket + "/chunked"
	mux := new(storage.URLMux)
	mux.RegisterScheme(gcsstore.Scheme, drv)
	before := len(srv.Requests())
	st, err := mux.Stage(t.Context(), u)
	require.NoError(t, err)
	want := make([]byte, 4*chunk+1)
	for i := range want {
		want[i] = byte(i * 31)
	}
	for p := want; len(p) > 0; p = p[min(len(p), 10000):] {
		_, err := st.Write(p[:min(len(p), 10000)])
		require.NoError(t, err)
	}

	uploads := func() (n int) {
		for _, r := range srv.Requests()[before:] {
			if strings.HasPrefix(r.Path, "/upload/") {
				n++
				assert.LessOrEqual(t, r.ContentLength, int64(chunk), "%s %s", r.Method, r.Path)
			}
		}
		return n
	}
	// Write returns only once the writer's upload goroutine has taken the
	// bytes, and it takes a chunk only after sending the one before, so the
	// session request and at least three chunks have reached the server.
	_, err = mux.Open(t.Context(), u)
	require.ErrorIs(t, err, storage.ErrNotFound)
	sent := uploads()
	assert.GreaterOrEqual(t, sent, 3, "want the session and chunks sent before Commit")

	require.NoError(t, st.Commit(t.Context()))
	assert.Greater(t, uploads(), sent, "Commit should send the last chunk")
	got, ok := srv.GetObject(t, bucket, "chunked")
	require.True(t, ok)
	assert.Equal(t, len(want), len(got))
	assert.True(t, string(want) == string(got), "object differs from what was written")
}

// TestURLs reaches the driver through the "gs" scheme the package
// registers on storage.DefaultURLMux: first configured from the
// environment, then set explicitly.
func TestURLs(t *testing.T) {
	t.Cleanup(func() { gcsstore.SetDefault(nil) })
	fromEnv := start(t)
	for k, v := range fromEnv.Env() {
		t.Setenv(k, v)
	}
	gcsstore.SetDefault(nil)
	drivertest.CheckScheme(t, harness(fromEnv, nil, 1), "configured from the environment")

	explicit := start(t)
	drv, err := gcsstore.New(explicit.Client, nil)
	require.NoError(t, err)
	gcsstore.SetDefault(drv)
	drivertest.CheckScheme(t, harness(explicit, drv, 1), "set explicitly")
}

// TestStore runs the store's conformance suite on Cloud Storage: its state
// in one bucket, dataset "a" in a bucket of its own, as a deployment lays
// them out.
func TestStore(t *testing.T) {
	srv := fakegcs.Start(t)
	srv.CreateBucket(t, "state")
	srv.CreateBucket(t, "dataset-a")
	drv, err := gcsstore.New(srv.Client, nil)
	require.NoError(t, err)
	m := new(storage.URLMux)
	m.RegisterScheme(gcsstore.Scheme, drv)
	n := 0
	storetest.Run(t, storetest.Harness{
		Mux: m,
		Layout: func(t *testing.T) store.Layout {
			n++
			return store.Layout{
				State:    fmt.Sprintf("gs://state/t%d", n),
				Datasets: map[string]string{"a": fmt.Sprintf("gs://dataset-a/t%d", n)},
			}
		},
	})
}
