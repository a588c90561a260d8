package abi

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// KeyRule says what a valid part key looks like.
const KeyRule = "a part key is UTF-8 text of 1 to 512 bytes: segments separated by '/', none of them empty, '.' or '..', " +
	"with no control characters and no '\\'"

// CheckKey reports whether key follows KeyRule. Keys name the parts of a
// partitioned dataset in every store (a directory, S3, Cloud Storage) and
// travel between host and guest separated by '\n', so the host checks one
// wherever one is made, and the guest SDK before it asks.
func CheckKey(key string) error {
	switch {
	case key == "":
		return errors.New("part key is empty; " + KeyRule)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("part key %.40q... is %d bytes; %s", key, len(key), KeyRule)
	case !utf8.ValidString(key):
		return fmt.Errorf("part key %q is not UTF-8; %s", key, KeyRule)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\\' {
			return fmt.Errorf("part key %q holds %U; %s", key, r, KeyRule)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("part key %q has a segment %q; %s", key, seg, KeyRule)
		}
	}
	return nil
}
