// Package gcsstore reads and writes Glacier datasets in Google Cloud
// Storage, so a task running in Cloud Functions streams its inputs from
// Cloud Storage and its outputs to it through the same host ABI as a task
// run locally.
//
// Importing the package registers the "gs" scheme on
// storage.DefaultURLMux, so storage.URLs reads and writes gs:// URLs
// through a driver configured from the environment on first use
// (SetDefault replaces it):
//
//	import _ "github.com/glacier-pipeline/glacier/providers/gcp/gcsstore"
//
//	ds := storage.URLs{"orders": "gs://bucket/runs/42/orders"}
//
// New and NewFromEnv make a *Driver, a storage.Driver, to register on a
// storage.URLMux of one's own.
//
// # URLs
//
//	gs://bucket/object
//
// The host names the bucket; the path, without its leading slash and
// percent-decoded, is the object name. Query parameters, fragments, ports
// and user information are refused, so a typo never silently names another
// object.
//
// # Guarantees
//
// Open streams the current generation of the object. If there is none, its
// error matches storage.ErrNotFound; if the bucket does not exist, its error
// names the bucket and does not (Cloud Storage answers both with 404, so
// Open then asks for the bucket: a request only on that path).
//
// Stage writes through a storage.Writer: a resumable upload sent in chunks
// of Options.ChunkSize (16 MiB by default), so a staged output holds at most
// one chunk in memory whatever its size. Cloud Storage creates the object,
// or replaces the previous generation, only when the final chunk is
// accepted, which happens in Commit; until then readers see the previous
// generation or nothing. Discard cancels the upload; the unfinished session
// holds no visible data and expires on its own.
//
// The context given to Stage bounds the whole upload, Commit included:
// once it is done the output can only be discarded.
//
// # Conditional writes
//
// The driver is a storage.Conditional. An object's generation is Cloud
// Storage's generation number, new with every write. StageIf's upload
// carries the precondition (ifGenerationMatch, or DoesNotExist to create
// only), which Cloud Storage checks as it finalizes the object, in one
// step; a lost precondition (412) is storage.ErrPrecondition and leaves
// the object as it was. Copy is a rewrite (a Copier), under DoesNotExist
// for CopyIfAbsent. A missing bucket and 403 match storage.ErrPermanent.
//
// # Endpoints
//
// NewFromEnv uses storage.NewClient, which finds credentials the usual way
// (the function's service account in Cloud Functions) and talks to an
// emulator such as fake-gcs-server instead when STORAGE_EMULATOR_HOST is set.
package gcsstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"

	glstorage "github.com/glacier-pipeline/glacier/storage"
)

// Scheme is the URL scheme the driver serves.
const Scheme = "gs"

// DefaultChunkSize is the upload chunk size used when Options.ChunkSize is
// zero; it is the storage library's own default.
const DefaultChunkSize = 16 << 20

// Options are the optional settings of a Driver. A nil *Options means the
// defaults.
type Options struct {
	// ChunkSize is the size of each request of a resumable upload, and so
	// the most a staged output buffers. Zero means DefaultChunkSize. The
	// storage library rounds it up to a multiple of 256 KiB.
	ChunkSize int
}

// Driver reads and writes objects in Cloud Storage through one client. It
// is safe for concurrent use.
type Driver struct {
	client    *storage.Client
	chunkSize int
}

var (
	_ glstorage.Driver      = (*Driver)(nil)
	_ glstorage.Lister      = (*Driver)(nil)
	_ glstorage.Conditional = (*Driver)(nil)
)

// New returns a Driver that uses client. It fails only if its arguments are
// invalid.
func New(client *storage.Client, opts *Options) (*Driver, error) {
	if client == nil {
		return nil, errors.New("gcsstore: New: client is nil")
	}
	if opts == nil {
		opts = &Options{}
	}
	chunk := opts.ChunkSize
	switch {
	case chunk == 0:
		chunk = DefaultChunkSize
	case chunk < 0:
		// The library takes zero as "no chunking, no retries"; refuse
		// anything that is not a real chunk size rather than guess.
		return nil, fmt.Errorf("gcsstore: Options.ChunkSize %d is negative; use 0 for the default (%d) or a positive size", chunk, DefaultChunkSize)
	}
	return &Driver{client: client, chunkSize: chunk}, nil
}

// NewFromEnv returns a Driver whose client comes from storage.NewClient:
// Application Default Credentials, or the emulator named by
// STORAGE_EMULATOR_HOST.
func NewFromEnv(ctx context.Context, opts *Options) (*Driver, error) {
	client, err := storage.NewClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("gcsstore: create Cloud Storage client: %w", err)
	}
	d, err := New(client, opts)
	if err != nil {
		client.Close()
		return nil, err
	}
	return d, nil
}

// Client returns the Cloud Storage client the driver uses.
func (d *Driver) Client() *storage.Client { return d.client }

// SetDefault makes d serve the "gs" scheme of storage.DefaultURLMux. Until
// it is called, or after SetDefault(nil), the scheme is served by a driver
// configured from the environment with NewFromEnv on first use (and again
// on the next use if that fails).
//
// A process normally keeps one configuration for its life, as a Cloud
// Function does; tests that start their own server call SetDefault, and
// must not run in parallel with others that do.
func SetDefault(d *Driver) { registered.Set(d) }

// Open implements storage.Driver.Open. The object is streamed: it is read
// from the network as the caller reads.
func (d *Driver) Open(ctx context.Context, u *url.URL) (io.ReadCloser, error) {
	bucket, object, err := urls.Split(u)
	if err != nil {
		return nil, err
	}
	r, err := d.client.Bucket(bucket).Object(object).NewReader(ctx)
	if err != nil {
		return nil, d.notFound(ctx, bucket, err)
	}
	return r, nil
}

// notFound tells a missing object (glstorage.ErrNotFound) from a missing
// bucket in err, as Cloud Storage answers both with 404; other errors go
// to bucketError.
func (d *Driver) notFound(ctx context.Context, bucket string, err error) error {
	if !errors.Is(err, storage.ErrObjectNotExist) {
		return bucketError(bucket, err)
	}
	// Attrs tells them apart (a role without storage.buckets.get is
	// refused, with 403, only if the bucket exists).
	if _, berr := d.client.Bucket(bucket).Attrs(ctx); errors.Is(berr, storage.ErrBucketNotExist) {
		return fmt.Errorf("%w: bucket %q does not exist: %w", glstorage.ErrPermanent, bucket, berr)
	}
	return fmt.Errorf("%w: %w", glstorage.ErrNotFound, err)
}

// Stage implements storage.Driver.Stage; see the package documentation for
// what is visible when.
func (d *Driver) Stage(ctx context.Context, u *url.URL) (glstorage.Staged, error) {
	bucket, object, err := urls.Split(u)
	if err != nil {
		return nil, err
	}
	// The writer lives as long as its context, and canceling that context
	// is the only way to stop an upload without finishing it.
	wctx, cancel := context.WithCancelCause(ctx)
	w := d.client.Bucket(bucket).Object(object).NewWriter(wctx)
	w.ChunkSize = d.chunkSize
	return &upload{bucket: bucket, w: w, cancel: cancel}, nil
}

// stageIf is Stage with the writer's object under conds.
func (d *Driver) stageIf(ctx context.Context, bucket, object string, conds storage.Conditions) *upload {
	wctx, cancel := context.WithCancelCause(ctx)
	w := d.client.Bucket(bucket).Object(object).If(conds).NewWriter(wctx)
	w.ChunkSize = d.chunkSize
	return &upload{bucket: bucket, object: object, cond: true, w: w, cancel: cancel}
}

// upload is a staged output: an open storage.Writer.
type upload struct {
	bucket string
	object string // set with cond
	cond   bool   // the writer carries a generation precondition
	w      *storage.Writer
	cancel context.CancelCauseFunc
}

var (
	errCommitted = errors.New("output committed")
	errDiscarded = errors.New("output discarded")
)

// Write sends p to the upload, a chunk at a time.
func (u *upload) Write(p []byte) (int, error) {
	n, err := u.w.Write(p)
	return n, u.bucketError(err)
}

// Commit sends the last chunk and finishes the upload, which makes the
// object visible. On failure nothing becomes visible.
func (u *upload) Commit(ctx context.Context) error {
	defer u.cancel(errCommitted)
	stop := context.AfterFunc(ctx, func() { u.cancel(context.Cause(ctx)) })
	defer stop()
	return u.bucketError(u.w.Close())
}

// Discard cancels the upload; nothing of it becomes visible.
func (u *upload) Discard(context.Context) error {
	u.cancel(errDiscarded)
	// Close reports the cancellation, which is what was asked for.
	_ = u.w.Close()
	return nil
}

// bucketError names the bucket in err if Cloud Storage says it does not
// exist: an upload's only 404. A lost precondition (412) matches
// glstorage.ErrPrecondition.
func (u *upload) bucketError(err error) error {
	var api *googleapi.Error
	switch {
	case errors.As(err, &api) && api.Code == http.StatusNotFound:
		return fmt.Errorf("%w: bucket %q does not exist: %w", glstorage.ErrPermanent, u.bucket, err)
	case u.cond && errors.As(err, &api) && api.Code == http.StatusPreconditionFailed:
		return fmt.Errorf("%w: gs://%s/%s is not at the generation the write expected: %w", glstorage.ErrPrecondition, u.bucket, u.object, err)
	}
	return bucketError(u.bucket, err)
}

// bucketError marks the errors no retry can fix: a missing bucket, and a
// request the caller's IAM roles do not allow.
func bucketError(bucket string, err error) error {
	var api *googleapi.Error
	switch {
	case errors.Is(err, storage.ErrBucketNotExist):
		return fmt.Errorf("%w: bucket %q does not exist: %w", glstorage.ErrPermanent, bucket, err)
	case errors.As(err, &api) && api.Code == http.StatusForbidden:
		return fmt.Errorf("%w: Cloud Storage denied access in bucket %q; check that the caller's IAM roles allow this action on this object: %w",
			glstorage.ErrPermanent, bucket, err)
	}
	return err
}

// urls is the form of the driver's URLs.
var urls = glstorage.BucketURLs{Scheme: Scheme, Name: "object name"}

// ParseURL splits a gs://bucket/object URL into its bucket and object name.
// The error names the URL and the expected form.
func ParseURL(u string) (bucket, object string, err error) { return urls.Parse(u) }

// List implements storage.Lister. Cloud Storage shows an object only once
// its upload completed, so no staged output is ever listed.
func (d *Driver) List(ctx context.Context, u *url.URL) ([]glstorage.Object, error) {
	bucket, object, err := urls.Split(u)
	if err != nil {
		return nil, err
	}
	prefix := object + "/"
	q := &storage.Query{Prefix: prefix}
	if err := q.SetAttrSelection([]string{"Name", "Size"}); err != nil {
		return nil, err
	}
	var out []glstorage.Object
	it := d.client.Bucket(bucket).Objects(ctx, q)
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, bucketError(bucket, err)
		}
		out = append(out, glstorage.Object{Name: strings.TrimPrefix(attrs.Name, prefix), Size: attrs.Size})
	}
	slices.SortFunc(out, func(a, b glstorage.Object) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
