// Package logcap is the size-capped writer that a task's stdout and stderr go
// through. It never buffers: bytes within the limit go straight to the
// destination, the rest are counted and dropped.
package logcap

import (
	"fmt"
	"io"
	"sync"
)

// NoteLimit bounds the bytes of host notes (fault and access lines) kept per
// invocation, apart from the task's own output, so a task flooding its log
// cannot hide why it failed, and a task calling the host badly in a loop
// cannot flood the log either.
const NoteLimit = 64 << 10

// Writer caps what reaches its destination. It is safe for concurrent use.
type Writer struct {
	mu        sync.Mutex
	dst       io.Writer
	limit     int64
	kept      int64 // task bytes written to dst
	notes     int64 // note bytes written to dst
	dropped   int64
	dstFailed bool
	// capped: the limit line was written, when task output first
	// overflowed; it is there even if the task is then killed.
	capped bool
	// midLine: the last byte delivered was not a newline, so a host line
	// starts on a line of its own.
	midLine bool
}

// New returns a Writer passing at most limit bytes of task output to dst
// (nil means discard; the bytes are still counted).
func New(dst io.Writer, limit int64) *Writer {
	if dst == nil {
		dst = io.Discard
	}
	return &Writer{dst: dst, limit: limit}
}

// Write implements io.Writer for the task's stdout and stderr. It always
// reports success: the task is never failed for talking too much, and a
// failing destination only drops bytes.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	room := w.limit - w.kept
	if room < 0 {
		room = 0
	}
	keep := p
	if int64(len(keep)) > room {
		keep = keep[:room]
	}
	w.dropped += int64(len(p) - len(keep))
	if len(keep) > 0 {
		w.kept += w.emit(keep)
	}
	if len(keep) < len(p) && !w.capped {
		// Said now, not only by Finish: a task stopped at its timeout is
		// killed with its worker, and Finish never runs.
		w.capped = true
		w.notes += w.emit(w.hostLine(fmt.Sprintf("glacier: log limit of %d bytes reached; the task's further output is dropped\n", w.limit)))
	}
	return len(p), nil
}

// emit writes to dst and returns how many bytes were delivered; bytes the
// destination refused count as dropped.
func (w *Writer) emit(p []byte) int64 {
	if w.dstFailed {
		w.dropped += int64(len(p))
		return 0
	}
	n, err := w.dst.Write(p)
	if err != nil {
		w.dstFailed = true
		w.dropped += int64(len(p) - n)
	}
	if n > 0 {
		w.midLine = p[n-1] != '\n'
	}
	return int64(n)
}

// hostLine returns line, after a newline if the task's output stopped
// mid-line.
func (w *Writer) hostLine(line string) []byte {
	if w.midLine {
		return []byte("\n" + line)
	}
	return []byte(line)
}

// Notef writes one host line, prefixed "glacier: ", within NoteLimit.
func (w *Writer) Notef(format string, args ...any) {
	line := "glacier: " + fmt.Sprintf(format, args...) + "\n"
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.notes+int64(len(line))+1 > NoteLimit {
		w.dropped += int64(len(line))
		return
	}
	w.notes += w.emit(w.hostLine(line))
}

// Finish writes a last line saying how much was dropped, if anything was.
func (w *Writer) Finish() {
	w.mu.Lock()
	dropped, limit := w.dropped, w.limit
	w.mu.Unlock()
	if dropped == 0 {
		return
	}
	line := fmt.Sprintf("glacier: log limit reached: %d bytes of task output dropped (the log keeps the first %d bytes)\n", dropped, limit)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.notes += w.emit(w.hostLine(line))
}

// Kept returns the bytes delivered to the destination, notes included.
func (w *Writer) Kept() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.kept + w.notes
}

// Dropped returns the bytes counted but not delivered.
func (w *Writer) Dropped() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped
}
