// Package fakes3 runs an S3-compatible server (gofakes3, in memory) on
// loopback for tests, with a ready client and helpers to seed and inspect
// buckets.
//
// The server speaks plain HTTP on 127.0.0.1 with path-style addressing. That
// is deliberate: the AWS SDK sends aws-chunked bodies with trailing checksums
// over TLS, which gofakes3 stores corrupted, while over plain HTTP the SDK
// signs seekable bodies whole, which gofakes3 handles (it refuses unseekable
// ones).
//
// The server drops x-amz-checksum-* request headers before gofakes3 sees
// them. gofakes3 stores such headers as object metadata and carries an
// object's metadata over to the next version written at the same key, so a
// multipart upload (which sends no whole-object checksum) replacing a
// PutObject would be served with the old object's checksum, and the SDK
// would reject the read. S3 never does that; without the headers, reads are
// simply not checksummed.
package fakes3

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/glacier-pipeline/glacier/internal/testutil/s3test"
)

// Credentials and region the server accepts (it checks none of them, but the
// SDK must sign with something).
const (
	Region          = "us-east-1"
	AccessKeyID     = "AKIDFAKES3"
	SecretAccessKey = "fakes3-secret"
)

// Server is a running fake S3. It is stopped when the test that started it
// ends.
type Server struct {
	// URL is the endpoint, such as http://127.0.0.1:41234, for
	// AWS_ENDPOINT_URL_S3 or s3.Options.BaseEndpoint.
	URL string
	// Client is a client for the server: path-style, static credentials,
	// Region.
	Client *s3.Client

	mu       sync.Mutex
	requests []Request
	deny     func(Request) bool

	backend *s3mem.Backend
	writeMu sync.Mutex // held while an object is replaced or removed
}

// Request is one request the server received, in arrival order.
type Request struct {
	Method string
	Path   string // escaped: /bucket/key
	Query  url.Values
	// ContentLength is the request's declared body size, -1 if unknown.
	ContentLength int64
}

// Start starts a server on a random loopback port and registers its shutdown
// with tb.Cleanup.
func Start(tb testing.TB) *Server {
	tb.Helper()
	backend := s3mem.New()
	faker := gofakes3.New(backend)
	s := &Server{backend: backend}
	handler := faker.Server()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), ContentLength: r.ContentLength}
		s.mu.Lock()
		s.requests = append(s.requests, req)
		deny := s.deny
		s.mu.Unlock()
		for h := range r.Header {
			if strings.HasPrefix(h, "X-Amz-Checksum-") {
				r.Header.Del(h)
			}
		}
		if deny != nil && deny(req) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, accessDenied)
			return
		}
		if replacesObject(r) {
			s.writeMu.Lock()
			defer s.writeMu.Unlock()
			if !s.conditionsMet(r) {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusPreconditionFailed)
				_, _ = io.WriteString(w, preconditionFailed)
				return
			}
		}
		handler.ServeHTTP(w, r)
	}))
	tb.Cleanup(ts.Close)
	s.URL = ts.URL
	s.Client = s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(ts.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		HTTPClient:   ts.Client(),
		// The defaults config.LoadDefaultConfig gives a deployed client.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		// Reads from the server carry no checksum; don't log each one.
		DisableLogOutputChecksumValidationSkipped: true,
	})
	return s
}

// Env returns the environment variables that point the AWS SDK's default
// configuration (s3store.NewFromEnv, a Lambda bootstrap) at the server. It
// also turns off the EC2 metadata lookup, so nothing probes the network for
// credentials.
func (s *Server) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_S3":       s.URL,
		"AWS_REGION":                Region,
		"AWS_ACCESS_KEY_ID":         AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":     SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED": "true",
	}
}

// CreateBucket creates a bucket, failing the test on error.
func (s *Server) CreateBucket(tb testing.TB, bucket string) {
	tb.Helper()
	s3test.CreateBucket(tb, s.Client, bucket)
}

// PutObject stores data at bucket/key, failing the test on error.
func (s *Server) PutObject(tb testing.TB, bucket, key string, data []byte) {
	tb.Helper()
	s3test.PutObject(tb, s.Client, bucket, key, data)
}

// GetObject returns the object at bucket/key and whether it exists, failing
// the test on any other error.
func (s *Server) GetObject(tb testing.TB, bucket, key string) ([]byte, bool) {
	tb.Helper()
	return s3test.GetObject(tb, s.Client, bucket, key)
}

// MultipartUploads returns the keys of the multipart uploads in progress in
// bucket (created, neither completed nor aborted).
func (s *Server) MultipartUploads(tb testing.TB, bucket string) []string {
	tb.Helper()
	return s3test.MultipartUploads(tb, s.Client, bucket)
}

// Deny makes the server answer 403 AccessDenied, as S3 does for an action
// the caller's IAM policy does not allow, to every request for which f
// returns true. Deny(nil) allows everything again.
func (s *Server) Deny(f func(Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deny = f
}

// IsAbortMultipartUpload reports whether r is an AbortMultipartUpload call,
// the action a role granted only s3:PutObject is denied. For use with Deny.
func IsAbortMultipartUpload(r Request) bool {
	return r.Method == http.MethodDelete && r.Query.Has("uploadId")
}

// replacesObject reports whether r replaces or removes an object (rather
// than a part, a bucket, or nothing): PutObject, CopyObject,
// CompleteMultipartUpload, DeleteObject.
func replacesObject(r *http.Request) bool {
	q := r.URL.Query()
	objectPath := strings.Count(strings.Trim(r.URL.Path, "/"), "/") >= 1
	switch r.Method {
	case http.MethodPut:
		return objectPath && !q.Has("partNumber") && !q.Has("tagging") && !q.Has("acl")
	case http.MethodPost:
		return objectPath && q.Has("uploadId")
	case http.MethodDelete:
		return objectPath && !q.Has("uploadId")
	}
	return false
}

// conditionsMet checks r's If-Match and If-None-Match against the object
// it writes, for the requests gofakes3 does not check itself. The caller
// holds writeMu.
func (s *Server) conditionsMet(r *http.Request) bool {
	copying := r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != ""
	completing := r.Method == http.MethodPost
	ifMatch, ifNoneMatch := r.Header.Get("If-Match"), r.Header.Get("If-None-Match")
	if (!copying && !completing) || (ifMatch == "" && ifNoneMatch == "") {
		return true
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	obj, err := s.backend.HeadObject(bucket, key)
	if err != nil {
		// No such object (or bucket, which gofakes3 then reports).
		return ifMatch == ""
	}
	etag := gofakes3.FormatETag(obj.Hash)
	if ifNoneMatch == "*" {
		return false
	}
	return ifMatch == "" || strings.Trim(ifMatch, `"`) == strings.Trim(etag, `"`)
}

const preconditionFailed = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>`

const accessDenied = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`

// Requests returns a copy of the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}
