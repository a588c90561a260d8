package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Conditional is a Driver that can write an object only if it is still the
// version the writer last saw, and stat, copy and delete objects: what a
// store needs to commit over a bucket that several executions write at
// once. A driver without it serves datasets but not such a store.
//
// Every method may be called concurrently, from several processes and
// machines. A missing bucket is an error that names it and does not match
// ErrNotFound, as for Open; a refusal a retry cannot fix (a missing bucket,
// access denied) matches ErrPermanent.
type Conditional interface {
	// Stat returns the size and generation of the object at u. If there
	// is none, the error matches ErrNotFound.
	Stat(ctx context.Context, u *url.URL) (Attrs, error)

	// StageIf is Stage, except that Commit makes the output the object's
	// new version only if the object's generation is still generation at
	// that moment; "" means the object must not exist. Otherwise Commit
	// returns an error matching ErrPrecondition, the object is untouched
	// and nothing staged stays visible. The check and the write are one
	// atomic step: of writers racing from the same generation, at most one
	// commits.
	StageIf(ctx context.Context, u *url.URL, generation string) (Staged, error)

	// Copy makes the object at dst a copy of the one at src, in the
	// backend, without the bytes passing through the caller. If ifAbsent,
	// it does so only if dst does not exist, and otherwise returns an
	// error matching ErrPrecondition with dst untouched. If src does not
	// exist, the error matches ErrNotFound. dst and src are in the same
	// bucket, or at least served by the same driver.
	Copy(ctx context.Context, dst, src *url.URL, ifAbsent bool) error

	// Delete removes the object at u. An object that does not exist is
	// not an error.
	Delete(ctx context.Context, u *url.URL) error
}

// Attrs is what Stat returns of an object.
type Attrs struct {
	// Size is the object's length in bytes.
	Size int64
	// Generation names the object's current version: any write that
	// changes its bytes gives it a new one, so a compare-and-swap from it
	// never replaces bytes its writer did not see. A write of the same
	// bytes may keep it (S3's ETag is a digest of them); Cloud Storage
	// and files give every write a new one. Its form is the driver's;
	// compare it only for equality, and pass it to StageIf.
	Generation string
}

// ErrPrecondition is matched (with errors.Is) by the error of a
// conditional write that lost: the object was not the version its writer
// expected, so nothing was written. It is not a failure of the backend:
// read the object again and decide.
var ErrPrecondition = errors.New("precondition failed: the object is not the version the writer expected")

// ErrPermanent is matched (with errors.Is) by an error a retry cannot fix:
// the bucket does not exist, or the caller is not allowed to do what it
// asked. Those are deployment faults; the error says which.
var ErrPermanent = errors.New("permanent storage error")

// conditional resolves rawURL to its driver's Conditional side.
func (m *URLMux) conditional(op, rawURL string) (*url.URL, Conditional, error) {
	if strings.Contains(rawURL, "#") {
		return nil, nil, fmt.Errorf("%s %s: the URL carries a digest; only inputs are read with one", op, rawURL)
	}
	u, d, _, err := m.resolve(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", op, rawURL, err)
	}
	c, ok := d.(Conditional)
	if !ok {
		return nil, nil, fmt.Errorf("%s %s: the %q storage driver has no conditional writes (storage.Conditional); a store cannot commit through it", op, u.Redacted(), u.Scheme)
	}
	return u, c, nil
}

// Stat returns the size and generation of the object at rawURL (see
// Conditional). If there is none, the error matches ErrNotFound.
func (m *URLMux) Stat(ctx context.Context, rawURL string) (Attrs, error) {
	u, c, err := m.conditional("stat", rawURL)
	if err != nil {
		return Attrs{}, err
	}
	a, err := c.Stat(ctx, u)
	if err != nil {
		return Attrs{}, fmt.Errorf("stat %s: %w", u.Redacted(), err)
	}
	return a, nil
}

// StageIf starts writing the object at rawURL, to be committed only if its
// generation is then still generation ("" for "only if it does not
// exist"); a Commit that loses returns an error matching ErrPrecondition.
// See Conditional.StageIf; the output's life is Stage's.
func (m *URLMux) StageIf(ctx context.Context, rawURL, generation string) (Staged, error) {
	u, c, err := m.conditional("stage", rawURL)
	if err != nil {
		return nil, err
	}
	name := u.Redacted()
	w, err := c.StageIf(ctx, u, generation)
	if err != nil {
		return nil, fmt.Errorf("stage %s: %w", name, err)
	}
	return &staged{w: w, url: name, ctx: ctx}, nil
}

// Copy makes the object at dst a copy of the one at src, server-side.
// Both URLs must have the same scheme.
func (m *URLMux) Copy(ctx context.Context, dst, src string) error {
	return m.copy(ctx, dst, src, false)
}

// CopyIfAbsent is Copy, done only if dst does not exist; otherwise the
// error matches ErrPrecondition and dst is untouched. A content-addressed
// object is written so: whoever copies it first, the bytes are the same.
func (m *URLMux) CopyIfAbsent(ctx context.Context, dst, src string) error {
	return m.copy(ctx, dst, src, true)
}

func (m *URLMux) copy(ctx context.Context, dst, src string, ifAbsent bool) error {
	du, c, err := m.conditional("copy to", dst)
	if err != nil {
		return err
	}
	su, _, err := m.conditional("copy from", src)
	if err != nil {
		return err
	}
	if !strings.EqualFold(su.Scheme, du.Scheme) {
		return fmt.Errorf("copy %s to %s: a server-side copy stays within one scheme; read the object and stage it instead", su.Redacted(), du.Redacted())
	}
	if err := c.Copy(ctx, du, su, ifAbsent); err != nil {
		return fmt.Errorf("copy %s to %s: %w", su.Redacted(), du.Redacted(), err)
	}
	return nil
}

// Delete removes the object at rawURL; one that does not exist is not an
// error.
func (m *URLMux) Delete(ctx context.Context, rawURL string) error {
	u, c, err := m.conditional("delete", rawURL)
	if err != nil {
		return err
	}
	if err := c.Delete(ctx, u); err != nil {
		return fmt.Errorf("delete %s: %w", u.Redacted(), err)
	}
	return nil
}

// conditional returns the Conditional side of the driver New makes.
func (l *LazyDriver[D]) conditional(ctx context.Context) (Conditional, error) {
	d, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := any(d).(Conditional)
	if !ok {
		return nil, errors.New("the driver has no conditional writes")
	}
	return c, nil
}

// Stat implements Conditional, if the driver New makes does.
func (l *LazyDriver[D]) Stat(ctx context.Context, u *url.URL) (Attrs, error) {
	c, err := l.conditional(ctx)
	if err != nil {
		return Attrs{}, err
	}
	return c.Stat(ctx, u)
}

// StageIf implements Conditional, if the driver New makes does.
func (l *LazyDriver[D]) StageIf(ctx context.Context, u *url.URL, generation string) (Staged, error) {
	c, err := l.conditional(ctx)
	if err != nil {
		return nil, err
	}
	return c.StageIf(ctx, u, generation)
}

// Copy implements Conditional, if the driver New makes does.
func (l *LazyDriver[D]) Copy(ctx context.Context, dst, src *url.URL, ifAbsent bool) error {
	c, err := l.conditional(ctx)
	if err != nil {
		return err
	}
	return c.Copy(ctx, dst, src, ifAbsent)
}

// Delete implements Conditional, if the driver New makes does.
func (l *LazyDriver[D]) Delete(ctx context.Context, u *url.URL) error {
	c, err := l.conditional(ctx)
	if err != nil {
		return err
	}
	return c.Delete(ctx, u)
}
