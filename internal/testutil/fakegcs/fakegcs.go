// Package fakegcs runs a Cloud Storage-compatible server (fake-gcs-server,
// in memory) on loopback for tests, with a ready client and helpers to seed
// and inspect buckets.
//
// The server speaks plain HTTP on 127.0.0.1, as the storage library expects
// of an emulator named by STORAGE_EMULATOR_HOST, and serves both the JSON API
// (uploads) and the XML API (the library's reads) on the same host. It
// checks the generation precondition of a rewrite (a copy), which
// fake-gcs-server ignores.
package fakegcs

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"
)

// Server is a running fake Cloud Storage. It is stopped when the test that
// started it ends.
type Server struct {
	// Host is the server's host:port, the value for STORAGE_EMULATOR_HOST.
	Host string
	// URL is the server's base URL, http://Host.
	URL string
	// Client is a client for the server, unauthenticated, that does not
	// depend on STORAGE_EMULATOR_HOST being set.
	Client *storage.Client

	fake *fakestorage.Server

	mu       sync.Mutex
	requests []Request
}

// Request is one request the server received, in arrival order.
type Request struct {
	Method string
	Path   string // escaped
	Query  url.Values
	// ContentLength is the request's declared body size, -1 if unknown.
	ContentLength int64
}

// Requests returns a copy of the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Start starts a server on a random loopback port and registers its shutdown
// with tb.Cleanup.
func Start(tb testing.TB) *Server {
	tb.Helper()
	// Listen first: the fake must know its own address to route the XML
	// API (http://host/bucket/object) and to hand out resumable-upload
	// URLs that point back at it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("fakegcs: listen on loopback: %v", err)
	}
	host := ln.Addr().String()
	base := "http://" + host
	fake, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		NoListener:  true,
		Scheme:      "http",
		PublicHost:  host,
		ExternalURL: base,
	})
	if err != nil {
		ln.Close()
		tb.Fatalf("fakegcs: start fake-gcs-server: %v", err)
	}
	s := &Server{Host: host, URL: base, fake: fake}
	handler := fake.HTTPHandler()
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, Request{
			Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), ContentLength: r.ContentLength,
		})
		s.mu.Unlock()
		if !s.rewriteConditionsMet(r) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusPreconditionFailed)
			_, _ = io.WriteString(w, `{"error":{"code":412,"message":"At least one of the pre-conditions you specified did not hold.","errors":[{"reason":"conditionNotMet"}]}}`)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	tb.Cleanup(func() {
		ts.Close()
		fake.Stop()
	})

	client, err := storage.NewClient(context.Background(),
		option.WithEndpoint(base+"/storage/v1/"),
		option.WithoutAuthentication(),
		option.WithHTTPClient(ts.Client()),
		storage.WithDisabledClientMetrics(),
	)
	if err != nil {
		tb.Fatalf("fakegcs: client: %v", err)
	}
	tb.Cleanup(func() { client.Close() })
	s.Client = client
	return s
}

// rewriteConditionsMet checks the ifGenerationMatch of a rewrite (an
// object copy), which fake-gcs-server ignores. Unlike Cloud Storage's, the
// check is not atomic with the copy: a test may rely on it to see a copy
// refused, not to race two copies.
func (s *Server) rewriteConditionsMet(r *http.Request) bool {
	// POST /storage/v1/b/{bucket}/o/{object}/rewriteTo/b/{bucket}/o/{object}
	_, dst, ok := strings.Cut(r.URL.Path, "/rewriteTo/b/")
	want := r.URL.Query().Get("ifGenerationMatch")
	if r.Method != http.MethodPost || !ok || want == "" {
		return true
	}
	bucket, object, ok := strings.Cut(dst, "/o/")
	if !ok {
		return true
	}
	obj, err := s.fake.GetObject(bucket, object)
	if err != nil {
		return want == "0"
	}
	return want == strconv.FormatInt(obj.Generation, 10)
}

// Env returns the environment variables that point the storage library's
// default client (gcsstore.NewFromEnv, a Cloud Functions runtime) at the
// server.
func (s *Server) Env() map[string]string {
	return map[string]string{"STORAGE_EMULATOR_HOST": s.Host}
}

// CreateBucket creates a bucket.
func (s *Server) CreateBucket(tb testing.TB, bucket string) {
	tb.Helper()
	s.fake.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
}

// PutObject stores data at bucket/object through the client, failing the
// test on error.
func (s *Server) PutObject(tb testing.TB, bucket, object string, data []byte) {
	tb.Helper()
	w := s.Client.Bucket(bucket).Object(object).NewWriter(context.Background())
	if _, err := w.Write(data); err != nil {
		tb.Fatalf("fakegcs: write gs://%s/%s: %v", bucket, object, err)
	}
	if err := w.Close(); err != nil {
		tb.Fatalf("fakegcs: write gs://%s/%s: %v", bucket, object, err)
	}
}

// GetObject returns the object at bucket/object, read through the client,
// and whether it exists, failing the test on any other error.
func (s *Server) GetObject(tb testing.TB, bucket, object string) ([]byte, bool) {
	tb.Helper()
	r, err := s.Client.Bucket(bucket).Object(object).NewReader(context.Background())
	if errors.Is(err, storage.ErrObjectNotExist) {
		return nil, false
	}
	if err != nil {
		tb.Fatalf("fakegcs: read gs://%s/%s: %v", bucket, object, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		tb.Fatalf("fakegcs: read gs://%s/%s: %v", bucket, object, err)
	}
	return data, true
}
