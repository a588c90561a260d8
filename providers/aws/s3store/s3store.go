// Package s3store reads and writes Glacier datasets in Amazon S3, so a task
// running in AWS Lambda streams its inputs from S3 and its outputs to S3
// through the same host ABI as a task run locally.
//
// Importing the package registers the "s3" scheme on
// storage.DefaultURLMux, so storage.URLs reads and writes s3:// URLs
// through a driver configured from the environment on first use
// (SetDefault replaces it):
//
//	import _ "github.com/glacier-pipeline/glacier/providers/aws/s3store"
//
//	ds := storage.URLs{"orders": "s3://bucket/runs/42/orders"}
//
// New and NewFromEnv make a *Driver, a storage.Driver, to register on a
// storage.URLMux of one's own.
//
// # URLs
//
//	s3://bucket/key
//
// The host names the bucket; the path, without its leading slash and
// percent-decoded, is the object key. Query parameters, fragments and user
// information are refused, so a typo never silently names another object.
//
// # Guarantees
//
// Open streams the current version of the object. If there is none, its error
// matches storage.ErrNotFound; if the bucket does not exist, its error names
// the bucket and does not.
//
// Stage never makes partial output visible. An output no larger than one part
// (Options.PartSize, 8 MiB by default) is sent with a single PutObject on
// Commit. A larger one becomes a multipart upload, started when the first part
// is full and completed on Commit; S3 shows no object, nor any change to an
// existing one, until CompleteMultipartUpload succeeds. Memory stays bounded
// whatever the output's size: at most two parts are held, one being uploaded
// while the next fills.
//
// Discard aborts the multipart upload, if one was started. This is
// best-effort: a role granted only s3:GetObject and s3:PutObject (as the
// generated IAM policies are) is denied s3:AbortMultipartUpload. The uploaded
// parts are invisible either way, but are kept (and billed) until removed, so
// buckets that receive outputs should carry a lifecycle rule with
// AbortIncompleteMultipartUpload.
//
// # Conditional writes
//
// The driver is a storage.Conditional. An object's generation is its ETag,
// which S3 derives from its bytes. StageIf sends the output as Stage does
// and makes its PutObject or CompleteMultipartUpload conditional
// (If-Match: the ETag, or If-None-Match: * to create only), so S3 checks
// and replaces in one step; a loser's multipart upload is aborted. S3
// answers a lost condition with 412 PreconditionFailed, with 409
// ConditionalRequestConflict when another conditional write of the key is
// in flight, and with 404 NoSuchKey when an If-Match object is gone: each
// is a storage.ErrPrecondition. Copy is CopyObject (UploadPartCopy, part by
// part, for an object over 5 GiB), with If-None-Match: * for CopyIfAbsent.
// A missing bucket and 403 AccessDenied match storage.ErrPermanent.
//
// # Endpoints
//
// NewFromEnv loads the standard AWS configuration (environment, shared files,
// the Lambda execution role) and honours AWS_ENDPOINT_URL_S3 and
// AWS_ENDPOINT_URL, switching to path-style addressing when either is set, as
// S3-compatible servers such as gofakes3 and MinIO expect.
package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/glacier-pipeline/glacier/storage"
)

// Scheme is the URL scheme the driver serves.
const Scheme = "s3"

// Part sizes, in bytes.
const (
	// DefaultPartSize is the part size used when Options.PartSize is zero.
	DefaultPartSize = 8 << 20
	// MinPartSize is the smallest part S3 accepts, except for the last one.
	MinPartSize = 5 << 20
	// MaxPartSize is the largest part S3 accepts.
	MaxPartSize = 5 << 30
	// MaxCopyObjectSize is the largest object one CopyObject copies.
	MaxCopyObjectSize = 5 << 30
)

// Options are the optional settings of a Driver. A nil *Options means the
// defaults.
type Options struct {
	// PartSize is the size of each part of a multipart upload, and so the
	// unit in which outputs are buffered: a staged output holds at most two
	// parts in memory. Zero means DefaultPartSize; otherwise it must be
	// between MinPartSize and MaxPartSize.
	PartSize int

	// CopyLimit is the largest object Copy copies with one CopyObject;
	// larger ones are copied part by part. Zero means MaxCopyObjectSize;
	// otherwise it must be between 1 and MaxCopyObjectSize.
	CopyLimit int64

	// UsePathStyle makes NewFromEnv address buckets as
	// https://endpoint/bucket/key rather than https://bucket.endpoint/key
	// even without an endpoint override. New ignores it: configure the
	// client instead.
	UsePathStyle bool
}

// Driver reads and writes objects in S3 through one client. It is safe for
// concurrent use.
type Driver struct {
	client    *s3.Client
	partSize  int
	copyLimit int64
}

var (
	_ storage.Driver      = (*Driver)(nil)
	_ storage.Lister      = (*Driver)(nil)
	_ storage.Conditional = (*Driver)(nil)
)

// New returns a Driver that uses client. It fails only if opts is invalid.
func New(client *s3.Client, opts *Options) (*Driver, error) {
	if client == nil {
		return nil, errors.New("s3store: New: client is nil")
	}
	if opts == nil {
		opts = &Options{}
	}
	partSize := opts.PartSize
	switch {
	case partSize == 0:
		partSize = DefaultPartSize
	case partSize < MinPartSize || partSize > MaxPartSize:
		return nil, fmt.Errorf("s3store: Options.PartSize %d is out of range: S3 parts are %d to %d bytes (0 means the default, %d)",
			partSize, MinPartSize, MaxPartSize, DefaultPartSize)
	}
	copyLimit := opts.CopyLimit
	switch {
	case copyLimit == 0:
		copyLimit = MaxCopyObjectSize
	case copyLimit < 0 || copyLimit > MaxCopyObjectSize:
		return nil, fmt.Errorf("s3store: Options.CopyLimit %d is out of range: one CopyObject copies 1 to %d bytes (0 means that)",
			copyLimit, int64(MaxCopyObjectSize))
	}
	return &Driver{client: client, partSize: partSize, copyLimit: copyLimit}, nil
}

// NewFromEnv returns a Driver whose client is configured from the environment
// with config.LoadDefaultConfig: region, credentials and, from
// AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, an endpoint override. Buckets are
// addressed path-style when an endpoint override is set or
// opts.UsePathStyle is true.
func NewFromEnv(ctx context.Context, opts *Options) (*Driver, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("s3store: load AWS configuration: %w", err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		// By now BaseEndpoint holds any override from the environment.
		if o.BaseEndpoint != nil || (opts != nil && opts.UsePathStyle) {
			o.UsePathStyle = true
		}
		// Objects uploaded without a checksum are common; one log line
		// per read of them would drown a task's logs.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return New(client, opts)
}

// SetDefault makes d serve the "s3" scheme of storage.DefaultURLMux. Until
// it is called, or after SetDefault(nil), the scheme is served by a driver
// configured from the environment with NewFromEnv on first use (and again
// on the next use if that fails).
//
// A process normally keeps one configuration for its life, as a Lambda
// function does; tests that start their own server call SetDefault, and
// must not run in parallel with others that do.
func SetDefault(d *Driver) { registered.Set(d) }

// Client returns the S3 client the driver uses.
func (d *Driver) Client() *s3.Client { return d.client }

// Open implements storage.Driver.Open with GetObject. The object is
// streamed: the body is read from the network as the caller reads.
func (d *Driver) Open(ctx context.Context, u *url.URL) (io.ReadCloser, error) {
	bucket, key, err := urls.Split(u)
	if err != nil {
		return nil, err
	}
	out, err := d.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		var noKey *types.NoSuchKey
		if errors.As(err, &noKey) {
			return nil, fmt.Errorf("%w: %w", storage.ErrNotFound, err)
		}
		return nil, bucketError(bucket, err)
	}
	return out.Body, nil
}

// Stage implements storage.Driver.Stage. Nothing is sent until a full part
// is written; see the package documentation for what is visible when.
func (d *Driver) Stage(ctx context.Context, u *url.URL) (storage.Staged, error) {
	bucket, key, err := urls.Split(u)
	if err != nil {
		return nil, err
	}
	return newUpload(ctx, d, bucket, key, nil), nil
}

// urls is the form of the driver's URLs.
var urls = storage.BucketURLs{Scheme: Scheme, Name: "key"}

// ParseURL splits an s3://bucket/key URL into its bucket and key. The error
// names the URL and the expected form.
func ParseURL(u string) (bucket, key string, err error) { return urls.Parse(u) }

// bucketError names the bucket in err if S3 says it does not exist: that
// is a deployment fault, which the error must not hide behind the call
// that met it. A missing bucket and a denied request match
// storage.ErrPermanent: no retry can fix them.
func bucketError(bucket string, err error) error {
	var api smithy.APIError
	var resp *smithyhttp.ResponseError
	switch {
	case errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket":
		return fmt.Errorf("%w: bucket %q does not exist: %w", storage.ErrPermanent, bucket, err)
	case errors.As(err, &api) && api.ErrorCode() == "AccessDenied",
		errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusForbidden:
		return fmt.Errorf("%w: S3 denied access in bucket %q; check that the caller's IAM policy allows this action on this key: %w",
			storage.ErrPermanent, bucket, err)
	}
	return err
}

// str returns a pointer to a copy of s, for SDK inputs.
func str(s string) *string { return aws.String(s) }

// List implements storage.Lister with ListObjectsV2, page by page. S3
// shows an object only once its upload completed, so no staged output is
// ever listed.
func (d *Driver) List(ctx context.Context, u *url.URL) ([]storage.Object, error) {
	bucket, key, err := urls.Split(u)
	if err != nil {
		return nil, err
	}
	prefix := key + "/"
	var out []storage.Object
	pages := s3.NewListObjectsV2Paginator(d.client, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, bucketError(bucket, err)
		}
		for _, o := range page.Contents {
			out = append(out, storage.Object{Name: strings.TrimPrefix(aws.ToString(o.Key), prefix), Size: aws.ToInt64(o.Size)})
		}
	}
	slices.SortFunc(out, func(a, b storage.Object) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
