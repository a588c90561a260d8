package gcsstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"

	glstorage "github.com/glacier-pipeline/glacier/storage"
)

// Stat implements glstorage.Conditional.Stat. The generation is Cloud
// Storage's generation number, in decimal.
func (d *Driver) Stat(ctx context.Context, u *url.URL) (glstorage.Attrs, error) {
	bucket, object, err := urls.Split(u)
	if err != nil {
		return glstorage.Attrs{}, err
	}
	a, err := d.client.Bucket(bucket).Object(object).Attrs(ctx)
	if err != nil {
		return glstorage.Attrs{}, d.notFound(ctx, bucket, err)
	}
	return glstorage.Attrs{Size: a.Size, Generation: strconv.FormatInt(a.Generation, 10)}, nil
}

// StageIf implements glstorage.Conditional.StageIf; see the package
// documentation.
func (d *Driver) StageIf(ctx context.Context, u *url.URL, generation string) (glstorage.Staged, error) {
	bucket, object, err := urls.Split(u)
	if err != nil {
		return nil, err
	}
	conds := storage.Conditions{DoesNotExist: true}
	if generation != "" {
		gen, err := strconv.ParseInt(generation, 10, 64)
		if err != nil || gen <= 0 {
			return nil, fmt.Errorf("generation %q is not a Cloud Storage generation number; pass what Stat returned, or \"\" to create only", generation)
		}
		conds = storage.Conditions{GenerationMatch: gen}
	}
	return d.stageIf(ctx, bucket, object, conds), nil
}

// Copy implements glstorage.Conditional.Copy with a rewrite, which Cloud
// Storage may take several calls to finish for a large object in another
// location or storage class; the Copier makes them.
func (d *Driver) Copy(ctx context.Context, dst, src *url.URL, ifAbsent bool) error {
	dbucket, dobject, err := urls.Split(dst)
	if err != nil {
		return err
	}
	sbucket, sobject, err := urls.Split(src)
	if err != nil {
		return err
	}
	to := d.client.Bucket(dbucket).Object(dobject)
	if ifAbsent {
		to = to.If(storage.Conditions{DoesNotExist: true})
	}
	_, err = to.CopierFrom(d.client.Bucket(sbucket).Object(sobject)).Run(ctx)
	var api *googleapi.Error
	switch {
	case err == nil:
		return nil
	case ifAbsent && errors.As(err, &api) && api.Code == http.StatusPreconditionFailed:
		return fmt.Errorf("%w: gs://%s/%s exists: %w", glstorage.ErrPrecondition, dbucket, dobject, err)
	case errors.Is(err, storage.ErrObjectNotExist), errors.As(err, &api) && api.Code == http.StatusNotFound:
		// The source, or either bucket.
		for _, b := range []string{dbucket, sbucket} {
			if _, berr := d.client.Bucket(b).Attrs(ctx); errors.Is(berr, storage.ErrBucketNotExist) {
				return fmt.Errorf("%w: bucket %q does not exist: %w", glstorage.ErrPermanent, b, berr)
			}
		}
		return fmt.Errorf("%w: the source gs://%s/%s: %w", glstorage.ErrNotFound, sbucket, sobject, err)
	}
	return bucketError(dbucket, err)
}

// Delete implements glstorage.Conditional.Delete. Cloud Storage answers
// a missing object and a missing bucket alike (404); only the bucket is
// an error.
func (d *Driver) Delete(ctx context.Context, u *url.URL) error {
	bucket, object, err := urls.Split(u)
	if err != nil {
		return err
	}
	err = d.client.Bucket(bucket).Object(object).Delete(ctx)
	if err == nil {
		return nil
	}
	if err = d.notFound(ctx, bucket, err); errors.Is(err, glstorage.ErrNotFound) {
		return nil
	}
	return err
}
