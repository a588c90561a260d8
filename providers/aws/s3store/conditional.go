package s3store

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/glacier-pipeline/glacier/storage"
)

// condition is what a conditional write sends: If-Match with the ETag the
// writer saw, or If-None-Match: * when the object must not exist.
type condition struct {
	etag string // "": the object must not exist
}

func (c *condition) ifMatch() *string {
	if c == nil || c.etag == "" {
		return nil
	}
	return str(c.etag)
}

func (c *condition) ifNoneMatch() *string {
	if c == nil || c.etag != "" {
		return nil
	}
	return str("*")
}

// lost turns S3's answers to a conditional write that lost into errors
// matching storage.ErrPrecondition: 412 PreconditionFailed; 409
// ConditionalRequestConflict (a concurrent conditional write to the key
// was in flight; S3 lets at most one of them through); and, for If-Match,
// 404 NoSuchKey (the object is gone). Other errors go to bucketError.
func (c *condition) lost(bucket, key string, err error) error {
	if c == nil {
		return bucketError(bucket, err)
	}
	var api smithy.APIError
	var resp *smithyhttp.ResponseError
	code := ""
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	status := 0
	if errors.As(err, &resp) {
		status = resp.HTTPStatusCode()
	}
	switch {
	case code == "PreconditionFailed" || status == http.StatusPreconditionFailed,
		code == "ConditionalRequestConflict" || status == http.StatusConflict:
	case c.etag != "" && code == "NoSuchKey":
	default:
		return bucketError(bucket, err)
	}
	want := "not to exist"
	if c.etag != "" {
		want = "to have ETag " + c.etag
	}
	return fmt.Errorf("%w: s3://%s/%s was expected %s: %w", storage.ErrPrecondition, bucket, key, want, err)
}

// Stat implements storage.Conditional.Stat with HeadObject. The generation
// is the object's ETag, which S3 derives from its bytes: it changes
// whenever they do, and an If-Match on it fails once they have.
func (d *Driver) Stat(ctx context.Context, u *url.URL) (storage.Attrs, error) {
	bucket, key, err := urls.Split(u)
	if err != nil {
		return storage.Attrs{}, err
	}
	out, err := d.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return storage.Attrs{}, d.missing(ctx, bucket, err)
	}
	return storage.Attrs{Size: aws.ToInt64(out.ContentLength), Generation: aws.ToString(out.ETag)}, nil
}

// missing tells a missing object (storage.ErrNotFound) from a missing
// bucket in the 404 of a request whose answer has no body (HEAD), which
// carries no error code; other errors go to bucketError.
func (d *Driver) missing(ctx context.Context, bucket string, err error) error {
	var notFound *types.NotFound
	var noKey *types.NoSuchKey
	if !errors.As(err, &notFound) && !errors.As(err, &noKey) {
		return bucketError(bucket, err)
	}
	if _, berr := d.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket}); berr != nil {
		var nb *types.NotFound
		if errors.As(berr, &nb) {
			return fmt.Errorf("%w: bucket %q does not exist: %w", storage.ErrPermanent, bucket, berr)
		}
		// A role without s3:ListBucket is refused HeadBucket even if the
		// bucket exists; the object's 404 stands.
	}
	return fmt.Errorf("%w: %w", storage.ErrNotFound, err)
}

// StageIf implements storage.Conditional.StageIf: the output is sent as
// Stage sends it, and its PutObject or CompleteMultipartUpload carries
// If-Match: generation, or If-None-Match: * for "". S3 checks the
// condition and replaces the object in one step. A multipart upload that
// loses is aborted, as any failed one is.
func (d *Driver) StageIf(ctx context.Context, u *url.URL, generation string) (storage.Staged, error) {
	bucket, key, err := urls.Split(u)
	if err != nil {
		return nil, err
	}
	return newUpload(ctx, d, bucket, key, &condition{etag: generation}), nil
}

// Copy implements storage.Conditional.Copy. An object no larger than
// Options.CopyLimit (5 GiB, S3's limit for one CopyObject, by default) is
// copied with CopyObject; a larger one part by part (UploadPartCopy, each
// part conditional on the source's ETag, so a source replaced mid-copy
// fails the copy) into a multipart upload completed as a staged output is.
// Either way the last call carries If-None-Match: * when ifAbsent.
func (d *Driver) Copy(ctx context.Context, dst, src *url.URL, ifAbsent bool) error {
	dbucket, dkey, err := urls.Split(dst)
	if err != nil {
		return err
	}
	sbucket, skey, err := urls.Split(src)
	if err != nil {
		return err
	}
	var cond *condition
	if ifAbsent {
		cond = &condition{}
	}
	head, err := d.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &sbucket, Key: &skey})
	if err != nil {
		err = d.missing(ctx, sbucket, err)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("the source s3://%s/%s: %w", sbucket, skey, err)
		}
		return err
	}
	if size := aws.ToInt64(head.ContentLength); size > d.copyLimit {
		return d.copyParts(ctx, dbucket, dkey, sbucket, skey, aws.ToString(head.ETag), size, cond)
	}
	_, err = d.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket:     &dbucket,
		Key:        &dkey,
		CopySource: str(copySource(sbucket, skey)),
		// A checksum of the copy's own bytes, whole: a multipart source's
		// checksum is of its parts, which the copy does not have.
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		IfNoneMatch:       cond.ifNoneMatch(),
	})
	var api smithy.APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &api) && api.ErrorCode() == "NoSuchKey":
		return fmt.Errorf("%w: the source s3://%s/%s: %w", storage.ErrNotFound, sbucket, skey, err)
	}
	return cond.lost(dbucket, dkey, err)
}

// maxParts is the most parts S3 takes in one multipart upload.
const maxParts = 10000

// copyParts copies the size bytes of sbucket/skey, at ETag etag, to
// dbucket/dkey with UploadPartCopy, in parts of the driver's part size (or
// larger, to stay within maxParts), one after the other.
func (d *Driver) copyParts(ctx context.Context, dbucket, dkey, sbucket, skey, etag string, size int64, cond *condition) (err error) {
	part := max(int64(d.partSize), (size+maxParts-1)/maxParts)
	out, err := d.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &dbucket, Key: &dkey})
	if err != nil {
		return fmt.Errorf("create multipart upload: %w", bucketError(dbucket, err))
	}
	id := aws.ToString(out.UploadId)
	defer func() {
		if err != nil {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
			defer cancel()
			_, _ = d.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: &dbucket, Key: &dkey, UploadId: &id})
		}
	}()
	var parts []types.CompletedPart
	for off := int64(0); off < size; off += part {
		num := int32(len(parts) + 1)
		res, err := d.client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
			Bucket:            &dbucket,
			Key:               &dkey,
			UploadId:          &id,
			PartNumber:        &num,
			CopySource:        str(copySource(sbucket, skey)),
			CopySourceRange:   str(fmt.Sprintf("bytes=%d-%d", off, min(off+part, size)-1)),
			CopySourceIfMatch: str(etag),
		})
		if err != nil {
			return fmt.Errorf("copy part %d of s3://%s/%s: %w", num, sbucket, skey, bucketError(dbucket, err))
		}
		etag := ""
		if res.CopyPartResult != nil {
			etag = aws.ToString(res.CopyPartResult.ETag)
		}
		parts = append(parts, types.CompletedPart{PartNumber: &num, ETag: &etag})
	}
	_, err = d.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &dbucket,
		Key:             &dkey,
		UploadId:        &id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		IfNoneMatch:     cond.ifNoneMatch(),
	})
	if err != nil {
		return fmt.Errorf("complete multipart upload %s: %w", id, cond.lost(dbucket, dkey, err))
	}
	return nil
}

// copySource is CopyObject's x-amz-copy-source: bucket/key with every
// byte but the unreserved ones and "/" percent-encoded, which every S3
// decoder reads the same (a "+" left bare is a space to some).
func copySource(bucket, key string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for _, c := range []byte(bucket + "/" + key) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-._~/", c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// Delete implements storage.Conditional.Delete with DeleteObject, which S3
// answers with success for a key that does not exist.
func (d *Driver) Delete(ctx context.Context, u *url.URL) error {
	bucket, key, err := urls.Split(u)
	if err != nil {
		return err
	}
	if _, err := d.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key}); err != nil {
		return bucketError(bucket, err)
	}
	return nil
}
