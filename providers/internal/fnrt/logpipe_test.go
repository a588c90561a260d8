package fnrt

import (
	"context"
	"fmt"
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

// TestLogTail: the tail keeps at most its limit, cut at a line's end, and
// counts every byte it dropped.
func TestLogTail(t *testing.T) {
	tail := &logTail{max: 100}
	var all strings.Builder
	for i := range 50 {
		line := fmt.Sprintf("line %d %s\n", i, strings.Repeat("x", i%7))
		all.WriteString(line)
		tail.add([]byte(line))
	}
	text, dropped := tail.text()
	assert.LessOrEqual(t, len(text), 100)
	assert.Equal(t, all.String(), all.String()[:dropped]+text, "dropped and kept make the whole log")
	assert.True(t, strings.HasPrefix(text, "line "), "the tail starts at a line: %q", text)
	assert.True(t, strings.HasSuffix(text, "line 49 \n"), "the tail ends with the last line: %q", text)

	// One line longer than the limit is cut mid-line rather than lost.
	long := &logTail{max: 10}
	long.add([]byte(strings.Repeat("y", 25) + "\n"))
	text, dropped = long.text()
	assert.Equal(t, strings.Repeat("y", 9)+"\n", text)
	assert.Equal(t, int64(16), dropped)
}
