package logcap

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWriterCaps(t *testing.T) {
	var dst bytes.Buffer
	w := New(&dst, 10)
	for _, s := range []string{"hello", " wor", "ld!", "more"} {
		n, err := w.Write([]byte(s))
		assert.NoError(t, err)
		assert.Equal(t, len(s), n, "a write always succeeds for the task")
	}
	w.Notef("task %q: fault", "t")
	w.Finish()
	assert.Equal(t, "hello worl\n"+"glacier: log limit of 10 bytes reached; the task's further output is dropped\n"+
		"glacier: task \"t\": fault\n"+
		"glacier: log limit reached: 6 bytes of task output dropped (the log keeps the first 10 bytes)\n", dst.String())
	assert.EqualValues(t, dst.Len(), w.Kept())
	assert.EqualValues(t, 6, w.Dropped())
}

func TestWriterNothingDropped(t *testing.T) {
	var dst bytes.Buffer
	w := New(&dst, 100)
	w.Write([]byte("ok\n"))
	w.Finish()
	assert.Equal(t, "ok\n", dst.String())
	assert.Zero(t, w.Dropped())
}

func TestWriterNotesAreBounded(t *testing.T) {
	var dst bytes.Buffer
	w := New(&dst, 0)
	line := strings.Repeat("x", 1000)
	for range 100 {
		w.Notef("%s", line)
	}
	assert.LessOrEqual(t, dst.Len(), NoteLimit)
	assert.Positive(t, w.Dropped())
}

type failing struct{ n int }

func (f *failing) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

func TestWriterDestinationFails(t *testing.T) {
	w := New(&failing{n: 1}, 100)
	w.Write([]byte("abc"))
	w.Write([]byte("defg"))
	w.Write([]byte("hi"))
	assert.EqualValues(t, 3, w.Kept())
	assert.EqualValues(t, 6, w.Dropped())
}

func TestWriterNilDestination(t *testing.T) {
	w := New(nil, 2)
	w.Write([]byte("abcd"))
	limitLine := "\nglacier: log limit of 2 bytes reached; the task's further output is dropped\n"
	assert.EqualValues(t, 2+len(limitLine), w.Kept(), "the task's 2 bytes and the limit line")
	assert.EqualValues(t, 2, w.Dropped())
}

// TestLimitSaidWhenReached: the limit line is written when output first
// overflows, so a task killed before Finish (at its timeout) still has it.
func TestLimitSaidWhenReached(t *testing.T) {
	var dst bytes.Buffer
	w := New(&dst, 4)
	w.Write([]byte("abcdef"))
	w.Write([]byte("ghi"))
	assert.Equal(t, "abcd\nglacier: log limit of 4 bytes reached; the task's further output is dropped\n", dst.String())
}

// TestHostLinesStartOnTheirOwnLine: a note or the limit line after task
// output cut mid-line starts a new line; after a full line it does not.
func TestHostLinesStartOnTheirOwnLine(t *testing.T) {
	var dst bytes.Buffer
	w := New(&dst, 100)
	w.Write([]byte("whole line\n"))
	w.Notef("first")
	w.Write([]byte("partial"))
	w.Notef("second")
	w.Finish()
	assert.Equal(t, "whole line\nglacier: first\npartial\nglacier: second\n", dst.String())
}
