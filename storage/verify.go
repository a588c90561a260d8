package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// ErrCorrupt is matched (with errors.Is) by a read of a dataset whose bytes
// are not the ones its URL promises (see WithDigest): the object was
// changed, truncated, replaced or removed after it was written.
var ErrCorrupt = errors.New("dataset corrupt")

// WithDigest returns u with the SHA-256 and size its object must have, as
// the fragment "#sha256=<hex>&size=<n>". URLMux then checks every read of
// it, whatever its scheme: the bytes are hashed as they stream, reading past
// size fails at once, and the end of the stream, or closing it early, fails
// with ErrCorrupt unless every byte matched. An object that is not there at
// all fails to open with ErrCorrupt too, not ErrNotFound: the URL promised
// it. A task that read a corrupt input therefore fails, and commits nothing.
func WithDigest(u, sha256Hex string, size int64) string {
	return u + "#" + url.Values{"sha256": {sha256Hex}, "size": {strconv.FormatInt(size, 10)}}.Encode()
}

// splitDigest removes a WithDigest fragment from raw.
func splitDigest(raw string) (u string, want *digest, err error) {
	base, frag, ok := strings.Cut(raw, "#")
	if !ok {
		return raw, nil, nil
	}
	q, err := url.ParseQuery(frag)
	if err != nil || len(q) != 2 || len(q["sha256"]) != 1 || len(q["size"]) != 1 {
		return "", nil, errors.New("bad digest fragment: want #sha256=<hex>&size=<bytes>")
	}
	sum, err := hex.DecodeString(q.Get("sha256"))
	if err != nil || len(sum) != sha256.Size {
		return "", nil, errors.New("bad digest fragment: sha256 must be 64 hex digits")
	}
	size, err := strconv.ParseInt(q.Get("size"), 10, 64)
	if err != nil || size < 0 {
		return "", nil, errors.New("bad digest fragment: size must be a byte count")
	}
	return base, &digest{sum: q.Get("sha256"), size: size}, nil
}

// digest is what a WithDigest fragment promises.
type digest struct {
	sum  string
	size int64
}

// missing is the error for an object the URL promised that is not there;
// it does not match ErrNotFound, since the dataset has a version.
func (d *digest) missing(err error) error {
	return fmt.Errorf("%w: it should hold %d bytes with SHA-256 %s, but there is no such object (%v)",
		ErrCorrupt, d.size, d.sum, err)
}

// verifier hashes what it reads and checks it against want.
type verifier struct {
	r    io.ReadCloser
	url  string
	want *digest
	h    hash.Hash
	n    int64
	err  error // the verdict, once known
}

func (d *digest) reader(u string, r io.ReadCloser) *verifier {
	return &verifier{r: r, url: u, want: d, h: sha256.New()}
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.n += int64(n)
	v.h.Write(p[:n])
	if v.n > v.want.size {
		v.err = v.corrupt()
		return 0, v.err
	}
	if err == io.EOF {
		if v.n != v.want.size || hex.EncodeToString(v.h.Sum(nil)) != v.want.sum {
			v.err = v.corrupt()
			return n, v.err
		}
		v.err = io.EOF
	}
	return n, err
}

func (v *verifier) corrupt() error {
	if v.n != v.want.size {
		return fmt.Errorf("%w: %s should hold %d bytes with SHA-256 %s, but holds %s",
			ErrCorrupt, v.url, v.want.size, v.want.sum, sizeSeen(v.n, v.want.size))
	}
	return fmt.Errorf("%w: %s should hold %d bytes with SHA-256 %s, but its bytes hash to %s",
		ErrCorrupt, v.url, v.want.size, v.want.sum, hex.EncodeToString(v.h.Sum(nil)))
}

func sizeSeen(n, want int64) string {
	if n > want {
		return fmt.Sprintf("more than %d", want)
	}
	return strconv.FormatInt(n, 10)
}

// Close reads and checks what the reader left unread, so a task that
// stopped early cannot have used a corrupt prefix unnoticed, then closes
// the stream.
func (v *verifier) Close() error {
	if v.err == nil {
		buf := make([]byte, 64<<10)
		for v.err == nil {
			_, _ = v.Read(buf)
		}
	}
	cerr := v.r.Close()
	if v.err != io.EOF {
		return v.err
	}
	return cerr
}
