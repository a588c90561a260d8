package fnrt

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/glacier-pipeline/glacier/internal/testutil/syncbuf"
)

func TestLogPipe(t *testing.T) {
	out := &syncbuf.Buffer{}
	p, err := newLogPipe(t.TempDir(), out, "[t] ")
	require.NoError(t, err)
	defer func() { assert.NoError(t, p.close()) }()

	long := strings.Repeat("x", maxLine+10)
	for i, tc := range []struct{ write, want string }{
		{"one\ntwo\n", "[t] one\n[t] two\n"},
		{"", ""},
		{"partial", "[t] partial\n"},
		{"\n", "[t] \n"},
		{long + "\n", "[t] " + long[:maxLine] + "\n[t] " + long[maxLine:] + "\n"},
	} {
		before := len(out.String())
		// A writer opens the pipe the way a worker opens its log.
		w, err := os.OpenFile(p.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		require.NoError(t, err)
		_, err = w.WriteString(tc.write)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		require.NoError(t, p.flush(context.Background()))
		got := out.String()[before:]
		if got != tc.want {
			t.Errorf("case %d: got %d bytes %q...%q, want %d bytes", i, len(got), got[:min(len(got), 20)], got[max(0, len(got)-20):], len(tc.want))
		}
	}
}
