package host

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/glacier-pipeline/glacier/abi"
)

// KeyRule says what a valid part key looks like (docs/abi.md,
// dataset_parts). It reads as the rule the glacier CLI prints.
const KeyRule = "a part key is UTF-8 text of 1 to 512 bytes: segments separated by '/', none of them empty, '.' or '..', " +
	"with no control characters and no '\\'"

// CheckKey reports whether key follows KeyRule, saying what is wrong and
// what the rule is. The SDK checks a key before passing it to the host so
// that the task learns which rule it broke, and the in-memory host checks
// with the same function so that tasktest refuses exactly what the runtime
// does. It is kept here rather than taken from package glacier because a
// task may depend on nothing but the standard library and abi.
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
	case len(key) > abi.MaxKeyLen:
		return fmt.Errorf("the part key is %d bytes long, over the limit of %d", len(key), abi.MaxKeyLen)
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
	if len(key) > abi.MaxKeyLen {
		return fmt.Sprintf("%.40q...", key)
	}
	return fmt.Sprintf("%q", key)
}
