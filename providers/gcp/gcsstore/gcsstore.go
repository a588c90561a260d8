// Package gcsstore reads and writes Glacier datasets in Google Cloud
// Storage, so a task running in Cloud Functions streams its inputs from
// Cloud Storage and its outputs to it through the same host ABI as a task
// run locally.
//
// Importing the package registers the "gs" scheme with wasmrt, so
// wasmrt.URLStorage reads and writes gs:// URLs through a driver
// configured from the environment on first use (SetDefault replaces it):
//
//	import _ "github.com/glacier-pipeline/glacier/providers/gcp/gcsstore"
//
//	st := wasmrt.URLStorage{"orders": "gs://bucket/runs/42/orders"}
//
// New and NewFromEnv make a *Driver, a wasmrt.URLDriver, for direct use.
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
// error matches wasmrt.ErrNotFound.
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

	"cloud.google.com/go/storage"

	"github.com/glacier-pipeline/glacier/providers/internal/objstore"
	"github.com/glacier-pipeline/glacier/wasmrt"
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

var _ wasmrt.URLDriver = (*Driver)(nil)

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

// Open implements wasmrt.URLDriver.Open. The object is streamed: it is read
// from the network as the caller reads.
func (d *Driver) Open(ctx context.Context, u string) (io.ReadCloser, error) {
	bucket, object, err := ParseURL(u)
	if err != nil {
		return nil, err
	}
	r, err := d.client.Bucket(bucket).Object(object).NewReader(ctx)
	if err != nil {
		if errors.Is(err, storage.ErrObjectNotExist) {
			return nil, fmt.Errorf("gcsstore: open %s: %w: %w", u, wasmrt.ErrNotFound, err)
		}
		return nil, fmt.Errorf("gcsstore: open %s: %w", u, err)
	}
	return r, nil
}

// Stage implements wasmrt.URLDriver.Stage; see the package documentation
// for what is visible when.
func (d *Driver) Stage(ctx context.Context, u string) (wasmrt.Staged, error) {
	bucket, object, err := ParseURL(u)
	if err != nil {
		return nil, err
	}
	// The writer lives as long as its context, and canceling that context
	// is the only way to stop an upload without finishing it.
	wctx, cancel := context.WithCancelCause(ctx)
	w := d.client.Bucket(bucket).Object(object).NewWriter(wctx)
	w.ChunkSize = d.chunkSize
	return &upload{url: u, w: w, ctx: wctx, cancel: cancel}, nil
}

// upload is a staged output: an open storage.Writer.
type upload struct {
	url    string
	w      *storage.Writer
	ctx    context.Context
	cancel context.CancelCauseFunc
	done   bool
}

var (
	errFinished  = errors.New("output already committed or discarded")
	errDiscarded = errors.New("output discarded")
)

// Write sends p to the upload, a chunk at a time.
func (u *upload) Write(p []byte) (int, error) {
	if u.done {
		return 0, fmt.Errorf("gcsstore: write %s: %w", u.url, errFinished)
	}
	n, err := u.w.Write(p)
	if err != nil {
		return n, fmt.Errorf("gcsstore: write %s: %w", u.url, err)
	}
	return n, nil
}

// Commit sends the last chunk and finishes the upload, which makes the
// object visible. On failure nothing becomes visible.
func (u *upload) Commit(ctx context.Context) error {
	if u.done {
		return fmt.Errorf("gcsstore: commit %s: %w", u.url, errFinished)
	}
	u.done = true
	defer u.cancel(errFinished)
	if err := context.Cause(u.ctx); err != nil {
		_ = u.w.Close()
		return fmt.Errorf("gcsstore: commit %s: the context given to Stage is done: %w", u.url, err)
	}
	if err := ctx.Err(); err != nil {
		// Cancel before Close, or Close could finish the upload.
		u.cancel(context.Cause(ctx))
		_ = u.w.Close()
		return fmt.Errorf("gcsstore: commit %s: %w", u.url, context.Cause(ctx))
	}
	stop := context.AfterFunc(ctx, func() { u.cancel(context.Cause(ctx)) })
	defer stop()
	if err := u.w.Close(); err != nil {
		return fmt.Errorf("gcsstore: commit %s: %w", u.url, err)
	}
	return nil
}

// Discard cancels the upload; nothing of it becomes visible.
func (u *upload) Discard(context.Context) error {
	if u.done {
		return fmt.Errorf("gcsstore: discard %s: %w", u.url, errFinished)
	}
	u.done = true
	u.cancel(errDiscarded)
	// Close reports the cancellation, which is what was asked for.
	_ = u.w.Close()
	return nil
}

// ParseURL splits a gs://bucket/object URL into its bucket and object name.
// The error names the URL and the expected form.
func ParseURL(u string) (bucket, object string, err error) {
	bucket, object, err = objstore.SplitURL(u, Scheme, "object name")
	if err != nil {
		return "", "", fmt.Errorf("gcsstore: bad URL %q: %w; want gs://bucket/object", u, err)
	}
	return bucket, object, nil
}
