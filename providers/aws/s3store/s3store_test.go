package s3store_test

import (
	"bytes"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"net/http"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/testutil/fakes3"
	"github.com/glacier-pipeline/glacier/internal/testutil/motos3"
	"github.com/glacier-pipeline/glacier/providers/aws/s3store"
	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/storage/drivertest"
	"github.com/glacier-pipeline/glacier/store"
	"github.com/glacier-pipeline/glacier/store/storetest"
)

const bucket = "glacier-test"

func start(t *testing.T) *fakes3.Server {
	t.Helper()
	srv := fakes3.Start(t)
	srv.CreateBucket(t, bucket)
	return srv
}

// backend is an S3 test server: fakes3's or motos3's.
type backend interface {
	GetObject(tb testing.TB, bucket, key string) ([]byte, bool)
	PutObject(tb testing.TB, bucket, key string, data []byte)
	MultipartUploads(tb testing.TB, bucket string) []string
}

func harness(srv backend, drv *s3store.Driver) drivertest.Harness {
	return drivertest.Harness{
		Driver: drv,
		URL: func(t *testing.T, name string) string {
			return "s3://" + bucket + "/" + t.Name() + "/" + name
		},
		Read: func(t *testing.T, u string) ([]byte, bool) {
			b, k, err := s3store.ParseURL(u)
			require.NoError(t, err)
			return srv.GetObject(t, b, k)
		},
		Large: 20 << 20, // three parts of the default 8 MiB
		Leftovers: func(t *testing.T, u string) []string {
			b, k, err := s3store.ParseURL(u)
			require.NoError(t, err)
			return slices.DeleteFunc(srv.MultipartUploads(t, b), func(key string) bool { return key != k })
		},
		Put: func(t *testing.T, u string, data []byte) {
			b, k, err := s3store.ParseURL(u)
			require.NoError(t, err)
			srv.PutObject(t, b, k, data)
		},
		MissingBucket: func(t *testing.T) (string, string) {
			return "s3://no-such-bucket/" + t.Name(), "no-such-bucket"
		},
	}
}

// mux serves drv alone, as storage.DefaultURLMux serves the registered
// driver.
func mux(drv *s3store.Driver) *storage.URLMux {
	m := new(storage.URLMux)
	m.RegisterScheme(s3store.Scheme, drv)
	return m
}

func TestConformance(t *testing.T) {
	srv := start(t)
	drv, err := s3store.New(srv.Client, nil)
	require.NoError(t, err)
	drivertest.RunConformanceTests(t, harness(srv, drv))
}

// TestConformanceMoto runs the suite against moto's S3 server, which
// enforces S3's multipart part sizes (every part but the last at least
// 5 MiB) where gofakes3 does not.
func TestConformanceMoto(t *testing.T) {
	srv := motos3.Start(t)
	srv.CreateBucket(t, bucket)
	// Objects over one part are copied part by part (UploadPartCopy),
	// which gofakes3 lacks. The smallest parts moto takes keep the suite
	// quick; the large output's last part is one byte, which S3 allows of
	// the last part only.
	drv, err := s3store.New(srv.Client, &s3store.Options{PartSize: s3store.MinPartSize, CopyLimit: s3store.MinPartSize})
	require.NoError(t, err)
	h := harness(srv, drv)
	h.Large = 2*s3store.MinPartSize + 1
	h.Gaps = motoGaps
	drivertest.RunConformanceTests(t, h)
	t.Run("CopyPartsIfAbsent", func(t *testing.T) { testCopyPartsIfAbsent(t, srv, drv) })
}

// testCopyPartsIfAbsent copies an object part by part onto one that
// exists, with moto's server, which checks If-None-Match on
// CompleteMultipartUpload: the copy loses and leaves no upload behind.
func testCopyPartsIfAbsent(t *testing.T, srv *motos3.Server, drv *s3store.Driver) {
	m := mux(drv)
	src, dst := "s3://"+bucket+"/"+t.Name()+"/src", "s3://"+bucket+"/"+t.Name()+"/dst"
	want := bytes.Repeat([]byte("0123456789abcdef"), (2*s3store.MinPartSize+100)/16)
	srv.PutObject(t, bucket, t.Name()+"/src", want)

	require.NoError(t, m.CopyIfAbsent(t.Context(), dst, src))
	got, ok := srv.GetObject(t, bucket, t.Name()+"/dst")
	require.True(t, ok)
	assert.True(t, bytes.Equal(want, got), "the copy differs from its source")

	err := m.CopyIfAbsent(t.Context(), dst, src)
	require.ErrorIs(t, err, storage.ErrPrecondition)
	assert.Empty(t, srv.MultipartUploads(t, bucket), "a lost copy left its upload")
	err = m.Copy(t.Context(), dst, "s3://"+bucket+"/missing")
	assert.ErrorIs(t, err, storage.ErrNotFound)
}

// motoGaps are the conditions moto 5.2.1 does not check, though S3 does
// (see moto/s3/responses.py).
var motoGaps = map[string]string{
	"Conditional/SwapLarge":    "moto 5.2.1 ignores If-Match on CompleteMultipartUpload",
	"Conditional/CopyIfAbsent": "moto 5.2.1 ignores If-None-Match on CopyObject",
}

func TestConformanceFromEnv(t *testing.T) {
	srv := start(t)
	for k, v := range srv.Env() {
		t.Setenv(k, v)
	}
	// The endpoint override alone must switch on path-style addressing:
	// fake buckets have no DNS names.
	drv, err := s3store.NewFromEnv(t.Context(), &s3store.Options{PartSize: s3store.MinPartSize})
	require.NoError(t, err)
	h := harness(srv, drv)
	h.Large = 2*s3store.MinPartSize + 1
	drivertest.RunConformanceTests(t, h)
}

// ops names the S3 operations in reqs, for the requests that write.
func ops(reqs []fakes3.Request) []string {
	var out []string
	for _, r := range reqs {
		switch {
		case r.Method == http.MethodPut && r.Query.Has("partNumber"):
			out = append(out, "UploadPart")
		case r.Method == http.MethodPut:
			out = append(out, "PutObject")
		case r.Method == http.MethodPost && r.Query.Has("uploads"):
			out = append(out, "CreateMultipartUpload")
		case r.Method == http.MethodPost && r.Query.Has("uploadId"):
			out = append(out, "CompleteMultipartUpload")
		case r.Method == http.MethodDelete && r.Query.Has("uploadId"):
			out = append(out, "AbortMultipartUpload")
		}
	}
	return out
}

func TestUploadShape(t *testing.T) {
	const part = s3store.MinPartSize
	mpu := func(parts int) []string {
		out := []string{"CreateMultipartUpload"}
		for range parts {
			out = append(out, "UploadPart")
		}
		return append(out, "CompleteMultipartUpload")
	}
	for _, tc := range []struct {
		name string
		size int
		want []string
	}{
		{"empty", 0, []string{"PutObject"}},
		{"small", 1000, []string{"PutObject"}},
		{"exactly one part", part, []string{"PutObject"}},
		{"one byte more", part + 1, mpu(2)},
		{"exactly two parts", 2 * part, mpu(2)},
		{"two parts and a bit", 2*part + 10, mpu(3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := start(t)
			drv, err := s3store.New(srv.Client, &s3store.Options{PartSize: part})
			require.NoError(t, err)
			before := len(srv.Requests())
			u := "s3://" + bucket + "/out"
			st, err := mux(drv).Stage(t.Context(), u)
			require.NoError(t, err)
			want := bytes.Repeat([]byte{'x'}, tc.size)
			_, err = st.Write(want)
			require.NoError(t, err)
			require.NoError(t, st.Commit(t.Context()))

			reqs := srv.Requests()[before:]
			assert.Equal(t, tc.want, ops(reqs))
			for _, r := range reqs {
				assert.LessOrEqual(t, r.ContentLength, int64(part), "%s %s", r.Method, r.Path)
			}
			got, ok := srv.GetObject(t, bucket, "out")
			require.True(t, ok)
			assert.True(t, bytes.Equal(want, got), "object differs from what was written")
		})
	}
}

func TestDiscardAbortDenied(t *testing.T) {
	srv := start(t)
	// What a role with only s3:GetObject and s3:PutObject gets.
	srv.Deny(fakes3.IsAbortMultipartUpload)
	drv, err := s3store.New(srv.Client, &s3store.Options{PartSize: s3store.MinPartSize})
	require.NoError(t, err)
	u := "s3://" + bucket + "/denied"
	st, err := mux(drv).Stage(t.Context(), u)
	require.NoError(t, err)
	_, err = st.Write(make([]byte, 2*s3store.MinPartSize+1))
	require.NoError(t, err)

	err = st.Discard(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AbortIncompleteMultipartUpload", "the error should say how the parts get removed")
	assert.Contains(t, err.Error(), u)
	_, err = mux(drv).Open(t.Context(), u)
	assert.ErrorIs(t, err, storage.ErrNotFound, "a discarded output must stay invisible even when the abort is denied")
	assert.Equal(t, []string{"denied"}, srv.MultipartUploads(t, bucket))
}

func TestNewOptions(t *testing.T) {
	srv := start(t)
	for _, tc := range []struct {
		partSize int
		wantErr  string
	}{
		{0, ""},
		{s3store.MinPartSize, ""},
		{s3store.MaxPartSize, ""},
		{s3store.MinPartSize - 1, "Options.PartSize"},
		{s3store.MaxPartSize + 1, "Options.PartSize"},
		{-1, "Options.PartSize"},
	} {
		_, err := s3store.New(srv.Client, &s3store.Options{PartSize: tc.partSize})
		if tc.wantErr == "" {
			assert.NoError(t, err, "PartSize %d", tc.partSize)
		} else {
			assert.ErrorContains(t, err, tc.wantErr, "PartSize %d", tc.partSize)
		}
	}
	for _, limit := range []int64{-1, s3store.MaxCopyObjectSize + 1} {
		_, err := s3store.New(srv.Client, &s3store.Options{CopyLimit: limit})
		assert.ErrorContains(t, err, "Options.CopyLimit", "CopyLimit %d", limit)
	}
	_, err := s3store.New(srv.Client, &s3store.Options{CopyLimit: 1})
	assert.NoError(t, err)
	_, err = s3store.New(nil, nil)
	assert.ErrorContains(t, err, "client is nil")
}

// TestParseURL checks the form the driver gives storage.BucketURLs, whose
// own test covers each rule.
func TestParseURL(t *testing.T) {
	b, n, err := s3store.ParseURL("s3://my-bucket/runs/2024/out%20a.csv")
	require.NoError(t, err)
	assert.Equal(t, []string{"my-bucket", "runs/2024/out a.csv"}, []string{b, n})
	_, _, err = s3store.ParseURL("s3://b/")
	assert.ErrorContains(t, err, "the key is missing; want s3://bucket/key")
	_, _, err = s3store.ParseURL("gs://b/n")
	assert.ErrorContains(t, err, `scheme is "gs"`)
}

// TestURLs reaches the driver through the "s3" scheme the package
// registers on storage.DefaultURLMux: first configured from the
// environment, then set explicitly.
func TestURLs(t *testing.T) {
	t.Cleanup(func() { s3store.SetDefault(nil) })
	fromEnv := start(t)
	for k, v := range fromEnv.Env() {
		t.Setenv(k, v)
	}
	s3store.SetDefault(nil)
	drivertest.CheckScheme(t, harness(fromEnv, nil), "configured from the environment")

	explicit := start(t)
	drv, err := s3store.New(explicit.Client, nil)
	require.NoError(t, err)
	s3store.SetDefault(drv)
	drivertest.CheckScheme(t, harness(explicit, drv), "set explicitly")
	got, _ := fromEnv.GetObject(t, bucket, t.Name()+"/out")
	assert.Equal(t, "configured from the environment", string(got), "the explicit driver must not write to the first server")
}

// TestStore runs the store's conformance suite on S3: its state in one
// bucket, dataset "a" in a bucket of its own, as a deployment lays them
// out.
func TestStore(t *testing.T) {
	srv := fakes3.Start(t)
	runStore(t, srv.Client, srv.CreateBucket)
}

// TestStoreMoto runs it against moto's S3 server too.
func TestStoreMoto(t *testing.T) {
	srv := motos3.Start(t)
	runStore(t, srv.Client, srv.CreateBucket)
}

func runStore(t *testing.T, client *s3.Client, create func(testing.TB, string)) {
	create(t, "state")
	create(t, "dataset-a")
	drv, err := s3store.New(client, &s3store.Options{PartSize: s3store.MinPartSize})
	require.NoError(t, err)
	n := 0
	storetest.Run(t, storetest.Harness{
		Mux: mux(drv),
		Layout: func(t *testing.T) store.Layout {
			n++
			return store.Layout{
				State:    fmt.Sprintf("s3://state/t%d", n),
				Datasets: map[string]string{"a": fmt.Sprintf("s3://dataset-a/t%d", n)},
			}
		},
	})
}
