package abi

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// KeyRule says what a valid part key looks like (docs/abi.md,
// dataset_parts).
const KeyRule = "a part key is UTF-8 text of 1 to 512 bytes: segments separated by '/', none of them empty, '.' or '..', " +
	"with no control characters and no '\\'"

// CheckKey reports whether key follows KeyRule, saying what is wrong and
// what the rule is. Keys name the parts of a partitioned dataset in every
// store (a directory, S3, Cloud Storage) and travel between host and guest
// separated by '\n', so the host checks a key wherever one is made, and
// the guest SDK (and its in-memory host) before asking, with this one
// function.
func CheckKey(key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("%w; %s", err, KeyRule)
	}
	return nil
}

func checkKey(key string) error {
	switch {
	case key == "":
		return errors.New("the part key is empty")
	case len(key) > MaxKeyLen:
		return fmt.Errorf("the part key is %d bytes long, over the limit of %d", len(key), MaxKeyLen)
	case !utf8.ValidString(key):
		return errors.New("the part key is not valid UTF-8")
	}
	for _, r := range key {
		switch {
		case r == '\\':
			return errors.New(`the part key holds '\'`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return fmt.Errorf("the part key holds the control character %U", r)
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return errors.New("the part key has an empty segment")
		case ".", "..":
			return fmt.Errorf("the part key has a segment %q", seg)
		}
	}
	return nil
}

// QuoteKey quotes a key for a message. A key too long to be valid may be
// any length, so only its start is shown: a failure message is cut at
// abi.MaxFailMessage bytes, and the rest of it should survive.
func QuoteKey(key string) string {
	if len(key) > MaxKeyLen {
		return fmt.Sprintf("%.40q...", key)
	}
	return fmt.Sprintf("%q", key)
}

// PartKeys is the set of keys written to one partitioned output. No key
// may be the folder of another ("a" beside "a/b"): parts are files in a
// folder under glacier run, and their keys are object names that listings
// split at '/'. The zero value is empty and ready to use.
type PartKeys struct {
	keys, folders map[string]bool
}

// Add adds key, which CheckKey accepts, or says why it clashes with a key
// added before.
func (s *PartKeys) Add(key string) error {
	if s.folders[key] {
		return fmt.Errorf("part %s is the folder of a part already written; a key may not be the folder of another key", QuoteKey(key))
	}
	for i := range len(key) {
		if key[i] == '/' && s.keys[key[:i]] {
			return fmt.Errorf("part %s would lie inside part %s, already written; a key may not be the folder of another key", QuoteKey(key), QuoteKey(key[:i]))
		}
	}
	if s.keys == nil {
		s.keys, s.folders = map[string]bool{}, map[string]bool{}
	}
	s.keys[key] = true
	for i := range len(key) {
		if key[i] == '/' {
			s.folders[key[:i]] = true
		}
	}
	return nil
}
