package motos3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/testutil/motos3"
)

// TestServer starts moto's server and round-trips an object, checking
// that it enforces S3's multipart part sizes, which is why it is used.
func TestServer(t *testing.T) {
	const b, key = "motos3-test", "small-parts"
	srv := motos3.Start(t)
	srv.CreateBucket(t, b)
	srv.PutObject(t, b, "k", []byte("hello"))
	got, ok := srv.GetObject(t, b, "k")
	require.True(t, ok)
	assert.Equal(t, "hello", string(got))
	_, ok = srv.GetObject(t, b, "missing")
	assert.False(t, ok)

	// Two parts of 1 KiB: the first is under 5 MiB, so completing fails.
	ctx := context.Background()
	up, err := srv.Client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: new(b), Key: new(key)})
	require.NoError(t, err)
	var parts []types.CompletedPart
	for i := range int32(2) {
		out, err := srv.Client.UploadPart(ctx, &s3.UploadPartInput{Bucket: new(b), Key: new(key), UploadId: up.UploadId,
			PartNumber: new(i + 1), Body: bytes.NewReader(make([]byte, 1024))})
		require.NoError(t, err)
		parts = append(parts, types.CompletedPart{PartNumber: new(i + 1), ETag: out.ETag})
	}
	_, err = srv.Client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: new(b), Key: new(key),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	require.Error(t, err, "moto accepted a multipart upload whose first part is 1 KiB")
	assert.ErrorContains(t, err, "EntityTooSmall")
	assert.Equal(t, []string{key}, srv.MultipartUploads(t, b))
}

func TestMissingServerSkips(t *testing.T) {
	t.Setenv("GLACIER_REQUIRE_TOOLS", "0")
	t.Setenv("GLACIER_MOTO_SERVER", filepath.Join(t.TempDir(), "no-such-moto"))
	reached := false
	t.Run("start", func(t *testing.T) {
		motos3.Start(t)
		reached = true
	})
	assert.False(t, reached, "Start should skip the test when moto_server is missing")
}

// TestEnforceIAM: with IAM enforced, a user may do what its policy allows
// and nothing else, and an unknown key is refused.
func TestEnforceIAM(t *testing.T) {
	const b = "motos3-iam"
	srv := motos3.Start(t)
	srv.CreateBucket(t, b)
	srv.PutObject(t, b, "a/1", []byte("one"))
	srv.PutObject(t, b, "b/1", []byte("two"))
	before := srv.Client
	srv.EnforceIAM(t)
	reader := srv.ClientAs(srv.User(t, "reader", `{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::`+b+`/a/*"]}]}`))

	ctx := context.Background()
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return fmt.Sprint(err)
	}
	_, err := reader.GetObject(ctx, &s3.GetObjectInput{Bucket: new(b), Key: new("a/1")})
	assert.NoError(t, err)
	_, err = reader.GetObject(ctx, &s3.GetObjectInput{Bucket: new(b), Key: new("b/1")})
	assert.Equal(t, "AccessDenied", code(err))
	_, err = reader.PutObject(ctx, &s3.PutObjectInput{Bucket: new(b), Key: new("a/2"), Body: bytes.NewReader(nil)})
	assert.Equal(t, "AccessDenied", code(err))
	_, err = reader.GetObject(ctx, &s3.GetObjectInput{Bucket: new(b), Key: new("a/missing")})
	// S3 answers 403 here, as the user may not list the bucket; moto
	// answers 404 whatever the policy, so it cannot show that difference.
	assert.Equal(t, "NoSuchKey", code(err), "a missing object the user may read, without s3:ListBucket")
	_, err = before.GetObject(ctx, &s3.GetObjectInput{Bucket: new(b), Key: new("a/1")})
	assert.Equal(t, "InvalidAccessKeyId", code(err), "the key from before is no user's")
	got, ok := srv.GetObject(t, b, "b/1")
	assert.True(t, ok && string(got) == "two", "the administrator reads everything")
}
