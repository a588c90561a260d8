// Package s3test seeds and inspects buckets of an S3-compatible server
// through a client, for the test servers (fakes3, motos3) to share.
package s3test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// CreateBucket creates a bucket, failing the test on error.
func CreateBucket(tb testing.TB, c *s3.Client, bucket string) {
	tb.Helper()
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		tb.Fatalf("s3test: create bucket %q: %v", bucket, err)
	}
}

// PutObject stores data at bucket/key, failing the test on error.
func PutObject(tb testing.TB, c *s3.Client, bucket, key string, data []byte) {
	tb.Helper()
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: &bucket, Key: &key, Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		tb.Fatalf("s3test: put s3://%s/%s: %v", bucket, key, err)
	}
}

// GetObject returns the object at bucket/key and whether it exists,
// failing the test on any other error.
func GetObject(tb testing.TB, c *s3.Client, bucket, key string) ([]byte, bool) {
	tb.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	var noKey *types.NoSuchKey
	if errors.As(err, &noKey) {
		return nil, false
	}
	if err != nil {
		tb.Fatalf("s3test: get s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		tb.Fatalf("s3test: read s3://%s/%s: %v", bucket, key, err)
	}
	return data, true
}

// MultipartUploads returns the keys of the multipart uploads in progress
// in bucket (created, neither completed nor aborted).
func MultipartUploads(tb testing.TB, c *s3.Client, bucket string) []string {
	tb.Helper()
	out, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		tb.Fatalf("s3test: list multipart uploads in %q: %v", bucket, err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}
