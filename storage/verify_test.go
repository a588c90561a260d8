package storage_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/storage"
	"github.com/glacier-pipeline/glacier/storage/filestore"
)

// TestWithDigest reads an object through URLs with the digest it
// should have, after it was kept, changed in place, truncated and grown.
func TestWithDigest(t *testing.T) {
	const want = "the bytes the store wrote\n"
	for _, tt := range []struct {
		name, have string
		early      bool // read one byte, then close
		err        string
	}{
		{name: "intact", have: want},
		{name: "intact, closed early", have: want, early: true},
		{name: "same length, other bytes", have: strings.ToUpper(want), err: "but its bytes hash to"},
		{name: "other bytes, closed early", have: "T" + want[1:], early: true, err: "but its bytes hash to"},
		{name: "truncated", have: want[:5], err: "but holds 5"},
		{name: "grown", have: want + "more", err: "but holds more than 26"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "obj")
			require.NoError(t, os.WriteFile(p, []byte(tt.have), 0o400))
			st := storage.URLs{"in": storage.WithDigest(filestore.URL(p), sha(want), int64(len(want)))}
			r, err := st.Open(context.Background(), "in")
			require.NoError(t, err)
			if tt.early {
				_, err = r.Read(make([]byte, 1))
				require.NoError(t, err)
				err = r.Close()
			} else {
				var got []byte
				got, err = io.ReadAll(r)
				if err == nil {
					assert.Equal(t, want, string(got))
				}
				cerr := r.Close()
				assert.Equal(t, err, cerr, "Close repeats the verdict")
			}
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, storage.ErrCorrupt)
			assert.Contains(t, err.Error(), tt.err)
			assert.Contains(t, err.Error(), p)
		})
	}
}

func TestWithDigestRefusesBadFragments(t *testing.T) {
	p := filepath.Join(t.TempDir(), "obj")
	require.NoError(t, os.WriteFile(p, nil, 0o600))
	for _, frag := range []string{"#sha256=zz&size=1", "#size=1", "#sha256=" + sha("") + "&size=-1", "#x=1"} {
		_, err := storage.URLs{"in": filestore.URL(p) + frag}.Open(context.Background(), "in")
		require.Error(t, err, frag)
		assert.Contains(t, err.Error(), "bad digest fragment")
	}
	_, err := storage.URLs{"out": storage.WithDigest(filestore.URL(p), sha(""), 0)}.Stage(context.Background(), "out")
	require.Error(t, err)
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
