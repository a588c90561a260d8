package storage_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/storage"
)

// TestConditionalUnsupported: a driver without storage.Conditional is
// named, with what it lacks, by every conditional operation.
func TestConditionalUnsupported(t *testing.T) {
	m, _ := newMux(t)
	ctx := t.Context()
	u := "rec://bucket/key"
	_, err := m.Stat(ctx, u)
	assert.ErrorContains(t, err, `stat rec://bucket/key: the "rec" storage driver has no conditional writes`)
	_, err = m.StageIf(ctx, u, "")
	assert.ErrorContains(t, err, `stage rec://bucket/key: the "rec" storage driver has no conditional writes`)
	assert.ErrorContains(t, m.Copy(ctx, u, u+"2"), `copy to rec://bucket/key: the "rec" storage driver has no conditional writes`)
	assert.ErrorContains(t, m.CopyIfAbsent(ctx, u, u+"2"), "no conditional writes")
	assert.ErrorContains(t, m.Delete(ctx, u), `delete rec://bucket/key: the "rec" storage driver has no conditional writes`)
}

// conditional is a recorder that also has conditional writes.
type conditional struct{ recorder }

func (c *conditional) Stat(_ context.Context, u *url.URL) (storage.Attrs, error) {
	c.calls, c.urls = append(c.calls, "stat"), append(c.urls, u.String())
	return storage.Attrs{Size: 4, Generation: "g1"}, c.err
}

func (c *conditional) StageIf(ctx context.Context, u *url.URL, gen string) (storage.Staged, error) {
	c.calls = append(c.calls, "stageif "+gen)
	return c.Stage(ctx, u)
}

func (c *conditional) Copy(_ context.Context, dst, src *url.URL, ifAbsent bool) error {
	c.calls, c.urls = append(c.calls, "copy"), append(c.urls, dst.String(), src.String())
	if ifAbsent {
		c.calls[len(c.calls)-1] += " if absent"
	}
	return c.err
}

func (c *conditional) Delete(_ context.Context, u *url.URL) error {
	c.calls, c.urls = append(c.calls, "delete"), append(c.urls, u.String())
	return c.err
}

// TestConditionalDispatch: the URLMux hands each conditional operation to
// the driver of its scheme, keeps a conditional output to Stage's life,
// and refuses what no driver could do.
func TestConditionalDispatch(t *testing.T) {
	c := new(conditional)
	m := new(storage.URLMux)
	m.RegisterScheme("mem", c)
	m.RegisterScheme("other", new(conditional))
	ctx := t.Context()

	a, err := m.Stat(ctx, "mem://b/k")
	require.NoError(t, err)
	assert.Equal(t, storage.Attrs{Size: 4, Generation: "g1"}, a)
	st, err := m.StageIf(ctx, "mem://b/k", "g1")
	require.NoError(t, err)
	require.NoError(t, st.Commit(ctx))
	assert.Error(t, st.Commit(ctx), "a conditional output is committed once")
	require.NoError(t, m.Copy(ctx, "mem://b/dst", "mem://b/src"))
	require.NoError(t, m.CopyIfAbsent(ctx, "mem://b/dst", "mem://b/src"))
	require.NoError(t, m.Delete(ctx, "mem://b/k"))
	assert.Equal(t, []string{"stat", "stageif g1", "stage", "commit", "copy", "copy if absent", "delete"}, c.calls)
	assert.Equal(t, []string{"mem://b/k", "mem://b/k", "mem://b/dst", "mem://b/src", "mem://b/dst", "mem://b/src", "mem://b/k"}, c.urls)

	assert.ErrorContains(t, m.Copy(ctx, "mem://b/dst", "other://b/src"), "a server-side copy stays within one scheme")
	_, err = m.StageIf(ctx, "mem://b/k#sha256=00", "")
	assert.ErrorContains(t, err, "carries a digest")

	c.err = storage.ErrPrecondition
	err = m.Delete(ctx, "mem://b/k")
	assert.ErrorIs(t, err, storage.ErrPrecondition)
	assert.ErrorContains(t, err, "delete mem://b/k: ")
}
