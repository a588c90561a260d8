package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// upload is a staged output: a single PutObject on Commit while it fits in
// one part, a multipart upload once it does not.
//
// Write is not safe for concurrent use (nor is any io.Writer by default);
// the one background goroutine only uploads a full part, and its result is
// collected by wait before the buffer is reused.
type upload struct {
	d           *Driver
	bucket, key string
	cond        *condition // nil: commit unconditionally

	// partCtx bounds the background part uploads; Discard cancels it.
	partCtx    context.Context
	cancelPart context.CancelFunc

	buf   []byte // the part being filled; never longer than d.partSize
	spare []byte // a part buffer free for reuse, or nil

	uploadID string // set once the multipart upload is created
	parts    []types.CompletedPart
	inflight chan partResult // non-nil while a part is being uploaded

	err error // the first failure; every later call returns it
}

type partResult struct {
	part types.CompletedPart
	buf  []byte // the uploaded buffer, free again
	err  error
}

func newUpload(ctx context.Context, d *Driver, bucket, key string, cond *condition) *upload {
	// A part upload started by Write must not outlive the Stage's context,
	// but must be stoppable on its own by Discard.
	partCtx, cancel := context.WithCancel(ctx)
	return &upload{d: d, bucket: bucket, key: key, cond: cond, partCtx: partCtx, cancelPart: cancel}
}

// Write buffers p, uploading each part once it is full and more bytes follow
// (so an output of exactly one part still goes up as a single PutObject).
func (w *upload) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		if len(w.buf) == w.d.partSize {
			if err := w.sendPart(); err != nil {
				w.err = err
				return n, err
			}
		}
		k := min(len(p), w.d.partSize-len(w.buf))
		w.grow(k)
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		n += k
	}
	return n, nil
}

// grow makes room for k more bytes in w.buf without letting its capacity
// exceed the part size, which plain append would (it may over-allocate).
func (w *upload) grow(k int) {
	need := len(w.buf) + k
	if need <= cap(w.buf) {
		return
	}
	if w.spare != nil {
		// A full-size buffer that finished uploading.
		w.buf, w.spare = append(w.spare[:0], w.buf...), nil
		return
	}
	c := w.d.partSize
	if w.uploadID == "" {
		// Possibly a small output: grow geometrically, up to one part.
		c = min(max(need, 2*cap(w.buf), 64<<10), c)
	}
	nb := make([]byte, len(w.buf), c)
	copy(nb, w.buf)
	w.buf = nb
}

// sendPart starts uploading w.buf as the next part, in the background, after
// the previous part has finished. It creates the multipart upload first if
// needed.
func (w *upload) sendPart() error {
	if w.uploadID == "" {
		out, err := w.d.client.CreateMultipartUpload(w.partCtx, &s3.CreateMultipartUploadInput{
			Bucket:            str(w.bucket),
			Key:               str(w.key),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			return fmt.Errorf("create multipart upload: %w", bucketError(w.bucket, err))
		}
		if out.UploadId == nil || *out.UploadId == "" {
			return errors.New("create multipart upload: the server returned no upload ID")
		}
		w.uploadID = *out.UploadId
	}
	if err := w.wait(); err != nil {
		return err
	}
	num := int32(len(w.parts) + 1)
	body := w.buf
	w.buf = nil
	w.inflight = make(chan partResult, 1)
	go func(ch chan<- partResult) {
		ch <- w.uploadPart(w.partCtx, num, body)
	}(w.inflight)
	return nil
}

// uploadPart uploads body as part num. It touches no mutable field of w, so
// it may run while Write fills the next buffer.
func (w *upload) uploadPart(ctx context.Context, num int32, body []byte) partResult {
	out, err := w.d.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket:            str(w.bucket),
		Key:               str(w.key),
		UploadId:          str(w.uploadID),
		PartNumber:        &num,
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		// A seekable body lets the SDK sign and retry it; gofakes3 refuses
		// unseekable ones over plain HTTP.
		Body:          bytes.NewReader(body),
		ContentLength: new(int64(len(body))),
	})
	if err != nil {
		return partResult{buf: body, err: fmt.Errorf("upload part %d: %w", num, err)}
	}
	return partResult{buf: body, part: types.CompletedPart{
		PartNumber:    &num,
		ETag:          out.ETag,
		ChecksumCRC32: out.ChecksumCRC32,
	}}
}

// wait collects the part being uploaded, if any, and keeps its buffer.
func (w *upload) wait() error {
	if w.inflight == nil {
		return nil
	}
	r := <-w.inflight
	w.inflight = nil
	w.spare = r.buf
	if r.err != nil {
		return r.err
	}
	w.parts = append(w.parts, r.part)
	return nil
}

// Commit makes the output the object's new version: one PutObject for a
// single part, else the last part and CompleteMultipartUpload. On failure
// the multipart upload is aborted (best-effort) and nothing becomes visible.
func (w *upload) Commit(ctx context.Context) error {
	defer w.release()
	// A part still uploading in the background must stop with ctx too.
	stop := context.AfterFunc(ctx, w.cancelPart)
	defer stop()
	err := w.err
	if err == nil {
		err = w.commit(ctx)
	}
	if err != nil && w.uploadID != "" {
		// Clean up even when ctx is what failed. Keep the first error: the
		// abort's own failure leaves only invisible parts behind, which a
		// lifecycle rule removes.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
		defer cancel()
		_ = w.abort(actx)
	}
	return err
}

// abortTimeout bounds the clean-up of a failed commit.
const abortTimeout = 30 * time.Second

func (w *upload) commit(ctx context.Context) error {
	if w.uploadID == "" {
		_, err := w.d.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        str(w.bucket),
			Key:           str(w.key),
			Body:          bytes.NewReader(w.buf),
			ContentLength: new(int64(len(w.buf))),
			IfMatch:       w.cond.ifMatch(),
			IfNoneMatch:   w.cond.ifNoneMatch(),
		})
		if err != nil {
			return fmt.Errorf("put object: %w", w.cond.lost(w.bucket, w.key, err))
		}
		return nil
	}
	if err := w.wait(); err != nil {
		return err
	}
	if len(w.buf) > 0 {
		r := w.uploadPart(ctx, int32(len(w.parts)+1), w.buf)
		if r.err != nil {
			return r.err
		}
		w.parts = append(w.parts, r.part)
	}
	_, err := w.d.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          str(w.bucket),
		Key:             str(w.key),
		UploadId:        str(w.uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
		IfMatch:         w.cond.ifMatch(),
		IfNoneMatch:     w.cond.ifNoneMatch(),
	})
	if err != nil {
		return fmt.Errorf("complete multipart upload %s: %w", w.uploadID, w.cond.lost(w.bucket, w.key, err))
	}
	return nil
}

// Discard drops the output. Nothing of it was visible; if a multipart upload
// was started it is aborted, which may be denied (see the package doc).
func (w *upload) Discard(ctx context.Context) error {
	defer w.release()
	w.cancelPart()
	_ = w.wait() // the part's error, most likely "canceled", no longer matters
	if w.uploadID == "" {
		return nil
	}
	return w.abort(ctx)
}

func (w *upload) abort(ctx context.Context) error {
	_, err := w.d.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   str(w.bucket),
		Key:      str(w.key),
		UploadId: str(w.uploadID),
	})
	if err != nil {
		return fmt.Errorf("abort multipart upload %s (its parts are invisible; "+
			"a bucket lifecycle rule with AbortIncompleteMultipartUpload removes them): %w", w.uploadID, err)
	}
	return nil
}

// release stops the background context and drops the buffers.
func (w *upload) release() {
	w.cancelPart()
	if w.inflight != nil {
		<-w.inflight
		w.inflight = nil
	}
	w.buf, w.spare = nil, nil
}
