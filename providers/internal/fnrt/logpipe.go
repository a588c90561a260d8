package fnrt

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// logPipe forwards a task's log to the function's log as it is written.
// The worker appends to a named pipe (its Job.LogPath); a goroutine reads it
// and writes each line, prefixed, to out. The read end is opened read-write,
// so the pipe never reports end of file between tasks and opening it for
// writing never blocks.
type logPipe struct {
	path   string
	f      *os.File
	out    io.Writer
	prefix []byte
	token  string // marks flush lines: "\x00glacier-flush-<token>-<n>\n"
	// keep, if set, also gets each line, unprefixed: the end of the log
	// that an invocation's run record keeps.
	keep *logTail

	mu      sync.Mutex
	n       int
	waiting map[int]chan struct{}
	done    chan struct{}
}

// maxLine is the longest line forwarded whole; longer ones are split.
const maxLine = 64 << 10

func newLogPipe(dir string, out io.Writer, prefix string) (*logPipe, error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	path := filepath.Join(dir, "task-log-"+hex.EncodeToString(b[:])+".fifo")
	f, err := openFIFO(path)
	if err != nil {
		return nil, fmt.Errorf("task log pipe: %w", err)
	}
	p := &logPipe{
		path: path, f: f, out: out, prefix: []byte(prefix),
		token:   hex.EncodeToString(b[:]),
		waiting: map[int]chan struct{}{},
		done:    make(chan struct{}),
	}
	go p.forward()
	return p, nil
}

func (p *logPipe) forward() {
	defer close(p.done)
	r := bufio.NewReaderSize(p.f, maxLine)
	mark := []byte("\x00glacier-flush-" + p.token + "-")
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			p.emit(chunk)
			continue
		}
		if err != nil {
			if len(chunk) > 0 {
				p.emit(chunk)
			}
			return
		}
		line = chunk[:len(chunk)-1]
		if i := bytes.Index(line, mark); i >= 0 {
			if i > 0 {
				p.emit(line[:i])
			}
			n, _ := strconv.Atoi(string(line[i+len(mark):]))
			p.mu.Lock()
			if ch, ok := p.waiting[n]; ok {
				close(ch)
				delete(p.waiting, n)
			}
			p.mu.Unlock()
			continue
		}
		p.emit(line)
	}
}

// emit writes one line to out with the prefix and a newline.
func (p *logPipe) emit(line []byte) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	buf := make([]byte, 0, len(p.prefix)+len(line)+1)
	buf = append(append(append(buf, p.prefix...), line...), '\n')
	_, _ = p.out.Write(buf)
	if p.keep != nil {
		p.keep.add(buf[len(p.prefix):])
	}
}

// logTail keeps the last max bytes of a log, whole lines where it can.
type logTail struct {
	max     int
	buf     []byte
	dropped int64
}

func (t *logTail) add(line []byte) {
	t.buf = append(t.buf, line...)
	// Trim only once twice the limit is held, so a long log costs one
	// copy every max bytes rather than one a line.
	if len(t.buf) > 2*t.max {
		t.trim()
	}
}

func (t *logTail) trim() {
	if over := len(t.buf) - t.max; over > 0 {
		// Start at a line if one starts in the first half of what is kept.
		if i := bytes.IndexByte(t.buf[over:], '\n'); i >= 0 && i < t.max/2 {
			over += i + 1
		}
		t.dropped += int64(over)
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
}

// text returns the lines kept and how many bytes before them were dropped.
func (t *logTail) text() (string, int64) {
	t.trim()
	return string(t.buf), t.dropped
}

// flush returns once every byte written to the pipe before the call has
// been forwarded, or when ctx ends. A partial last line is forwarded as a
// line.
func (p *logPipe) flush(ctx context.Context) error {
	p.mu.Lock()
	p.n++
	n := p.n
	ch := make(chan struct{})
	p.waiting[n] = ch
	p.mu.Unlock()
	// Pipe writes of up to PIPE_BUF bytes are atomic, so the mark arrives
	// whole, after everything written before it.
	if _, err := fmt.Fprintf(p.f, "\x00glacier-flush-%s-%d\n", p.token, n); err != nil {
		return err
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *logPipe) close() error {
	err := p.f.Close()
	<-p.done
	if rerr := os.Remove(p.path); err == nil {
		err = rerr
	}
	return err
}
