package wasmcheck

import (
	"fmt"
	"strings"
)

// reader reads b[pos:end], end being the end of the section or body being
// read; sec names that section in errors.
type reader struct {
	b        []byte
	pos, end int
	sec      string
}

func (r *reader) malformed(at int, format string, args ...any) error {
	return &Error{Kind: ErrMalformed, Section: r.sec, Offset: at, Msg: fmt.Sprintf(format, args...)}
}

func (r *reader) limit(at int, format string, args ...any) error {
	return &Error{Kind: ErrLimit, Section: r.sec, Offset: at, Msg: fmt.Sprintf(format, args...)}
}

func (r *reader) truncated(what ...string) error {
	return r.malformed(r.pos, "%s runs past the end of the section", strings.Join(what, " "))
}

// byte reads one byte; what, words joined only for an error, says what it
// is.
func (r *reader) byte(what ...string) (byte, error) {
	if r.pos >= r.end {
		return 0, r.truncated(what...)
	}
	b := r.b[r.pos]
	r.pos++
	return b, nil
}

func (r *reader) skip(n int, what string) error {
	if n > r.end-r.pos {
		return r.truncated(what)
	}
	r.pos += n
	return nil
}

// u32 reads an unsigned LEB128 number of at most 32 bits.
func (r *reader) u32(what ...string) (uint32, error) {
	var v uint64
	at := r.pos
	for i := 0; i < 5; i++ {
		if r.pos >= r.end {
			return 0, r.truncated(what...)
		}
		b := r.b[r.pos]
		r.pos++
		v |= uint64(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			if i == 4 && b&0x70 != 0 {
				return 0, r.malformed(at, "%s does not fit in 32 bits", strings.Join(what, " "))
			}
			return uint32(v), nil
		}
	}
	return 0, r.malformed(at, "%s is longer than 5 bytes", strings.Join(what, " "))
}

// sleb skips a signed LEB128 number of at most bits bits.
func (r *reader) sleb(bits int, what string) error {
	at := r.pos
	maxLen := (bits + 6) / 7
	for i := 0; i < maxLen; i++ {
		if r.pos >= r.end {
			return r.truncated(what)
		}
		b := r.b[r.pos]
		r.pos++
		if b&0x80 == 0 {
			if i == maxLen-1 {
				// The unused high bits of the last byte must all
				// extend the sign.
				used := bits - 7*i // bits this byte carries, sign included
				if used < 7 {
					rest := b >> (used - 1) & (0x7f >> (used - 1))
					if rest != 0 && rest != 0x7f>>(used-1) {
						return r.malformed(at, "%s does not fit in %d bits", what, bits)
					}
				}
			}
			return nil
		}
	}
	return r.malformed(at, "%s is longer than %d bytes", what, maxLen)
}
