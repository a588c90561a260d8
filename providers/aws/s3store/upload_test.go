package s3store

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/url"
	"testing"

	"github.com/glacier-pipeline/glacier/internal/testutil/fakes3"
)

func mustParse(tb testing.TB, raw string) *url.URL {
	tb.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// held is the part-buffer memory the upload holds, including the part being
// uploaded in the background.
func (w *upload) held() int {
	n := cap(w.buf) + cap(w.spare)
	if w.inflight != nil {
		n += w.d.partSize
	}
	return n
}

// TestUploadMemoryBounded streams an output many times the part size and
// checks that the upload never holds more than two parts, whatever it has
// written so far.
func TestUploadMemoryBounded(t *testing.T) {
	const (
		part  = MinPartSize
		total = 13*part + 12345
		chunk = 100 << 10
	)
	srv := fakes3.Start(t)
	srv.CreateBucket(t, "bkt")
	d, err := New(srv.Client, &Options{PartSize: part})
	if err != nil {
		t.Fatal(err)
	}
	st, err := d.Stage(t.Context(), mustParse(t, "s3://bkt/big"))
	if err != nil {
		t.Fatal(err)
	}
	w := st.(*upload)

	h := sha256.New()
	buf := make([]byte, chunk)
	peak := 0
	for written := 0; written < total; {
		n := min(chunk, total-written)
		for i := range buf[:n] {
			buf[i] = byte(written + i*7)
		}
		h.Write(buf[:n])
		if _, err := w.Write(buf[:n]); err != nil {
			t.Fatal(err)
		}
		written += n
		peak = max(peak, w.held())
		if w.held() > 2*part {
			t.Fatalf("after %d bytes the upload holds %d bytes of buffers, want at most two parts (%d)", written, w.held(), 2*part)
		}
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if w.held() != 0 {
		t.Errorf("after Commit the upload still holds %d bytes", w.held())
	}
	t.Logf("peak buffer memory for a %d-byte output: %d bytes (%.1f parts)", total, peak, float64(peak)/part)

	rc, err := d.Open(t.Context(), mustParse(t, "s3://bkt/big"))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got := sha256.New()
	n, err := io.Copy(got, rc)
	if err != nil {
		t.Fatal(err)
	}
	if n != total || !bytes.Equal(got.Sum(nil), h.Sum(nil)) {
		t.Fatalf("read back %d bytes (sha256 %x), want %d bytes (sha256 %x)", n, got.Sum(nil), total, h.Sum(nil))
	}
}

// BenchmarkStage measures staging and committing an output to the
// in-process fake (so mostly the driver's and the SDK's own costs): 64 MiB
// as it is, and 256 MiB with and without the SHA-256 the function runtime
// computes as an output streams to its staging name, which is what the
// store's digests cost on an upload path (an upper bound: real S3 is
// slower than the fake, so the digest is a smaller share of it).
func BenchmarkStage(b *testing.B) {
	srv := fakes3.Start(b)
	srv.CreateBucket(b, "bkt")
	d, err := New(srv.Client, nil)
	if err != nil {
		b.Fatal(err)
	}
	u := mustParse(b, "s3://bkt/bench")
	stage := func(b *testing.B, size int, digest bool) {
		data := bytes.Repeat([]byte("glacier!"), size/8)
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			st, err := d.Stage(b.Context(), u)
			if err != nil {
				b.Fatal(err)
			}
			var w io.Writer = st
			h := sha256.New()
			if digest {
				w = io.MultiWriter(st, h)
			}
			for p := data; len(p) > 0; p = p[min(len(p), 1<<20):] {
				if _, err := w.Write(p[:min(len(p), 1<<20)]); err != nil {
					b.Fatal(err)
				}
			}
			if err := st.Commit(b.Context()); err != nil {
				b.Fatal(err)
			}
			_ = h.Sum(nil)
		}
	}
	b.Run("64MiB", func(b *testing.B) { stage(b, 64<<20, false) })
	b.Run("256MiB", func(b *testing.B) { stage(b, 256<<20, false) })
	b.Run("256MiB-sha256", func(b *testing.B) { stage(b, 256<<20, true) })
}
