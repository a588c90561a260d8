package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Rule is a provider's naming rule for one kind of resource. Names are
// built from a prefix and a pipeline, dataset or task name; glacier's own
// name rule (lowercase letters, digits, '_' and '-', at most 40 characters)
// keeps most of them valid already, and Rule handles the rest.
type Rule struct {
	// Kind names the resource in messages ("S3 bucket").
	Kind string
	// MaxLen is the longest name the provider accepts.
	MaxLen int
	// Lower folds letters to lowercase.
	Lower bool
	// Extra lists the characters allowed besides ASCII letters and digits.
	Extra string
	// Sep joins prefix and name and replaces characters that are not
	// allowed.
	Sep byte
}

// Naming rules of the resources the compilers name.
var (
	// S3Bucket: lowercase letters, digits and hyphens, at most 63
	// characters (dots are allowed by S3 but break virtual-host TLS).
	S3Bucket = Rule{Kind: "S3 bucket", MaxLen: 63, Lower: true, Extra: "-", Sep: '-'}
	// LambdaFunction: letters, digits, hyphens and underscores, at most 64.
	LambdaFunction = Rule{Kind: "Lambda function", MaxLen: 64, Extra: "-_", Sep: '-'}
	// IAMRole: letters, digits and +=,.@_- , at most 64.
	IAMRole = Rule{Kind: "IAM role", MaxLen: 64, Extra: "+=,.@_-", Sep: '-'}
	// StateMachine (Step Functions): letters, digits, hyphens and
	// underscores, at most 80.
	StateMachine = Rule{Kind: "Step Functions state machine", MaxLen: 80, Extra: "-_", Sep: '-'}
	// GCSBucket: lowercase letters, digits, hyphens and underscores, at
	// most 63 (dots need domain verification, so none).
	GCSBucket = Rule{Kind: "Cloud Storage bucket", MaxLen: 63, Lower: true, Extra: "-_", Sep: '-'}
	// CloudFunction: lowercase letters, digits and hyphens, at most 63.
	CloudFunction = Rule{Kind: "Cloud Function", MaxLen: 63, Lower: true, Extra: "-", Sep: '-'}
)

// PulumiAutoNameSuffix is how many characters Pulumi's auto-naming appends
// to a resource's logical name: a hyphen and seven random characters.
const PulumiAutoNameSuffix = 8

// hashLen is how many hex digits of a name's hash replace what a too-long
// name loses.
const hashLen = 8

// Reserve returns the rule for a name that the provider will extend by n
// characters, such as a logical name Pulumi auto-names from.
func (r Rule) Reserve(n int) Rule {
	r.MaxLen -= n
	return r
}

// Name joins prefix (which may be empty) and name, replaces characters the
// rule does not allow with r.Sep, and folds case if the rule says so. A
// result longer than r.MaxLen keeps its beginning and ends with a hash of the
// whole name, so distinct long names stay distinct. The same inputs always
// give the same name.
func (r Rule) Name(prefix, name string) string {
	full := name
	if prefix != "" {
		full = prefix + string(r.Sep) + name
	}
	var b strings.Builder
	for _, c := range full {
		switch {
		case r.Lower && c >= 'A' && c <= 'Z':
			b.WriteRune(c + 'a' - 'A')
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case c < 0x80 && strings.ContainsRune(r.Extra, c):
			b.WriteRune(c)
		default:
			b.WriteByte(r.Sep)
		}
	}
	s := strings.Trim(b.String(), string(r.Sep))
	if len(s) <= r.MaxLen {
		return s
	}
	sum := sha256.Sum256([]byte(full))
	keep := strings.TrimRight(s[:r.MaxLen-hashLen-1], string(r.Sep))
	return keep + string(r.Sep) + hex.EncodeToString(sum[:])[:hashLen]
}

// PrefixRule says what a naming prefix looks like.
const PrefixRule = "a prefix is 1 to 32 lowercase letters, digits and single hyphens, starting with a letter and ending with a letter or digit"

var prefixRE = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$`)

// CheckPrefix reports whether prefix follows PrefixRule, so that it reads
// the same in every resource name on every cloud.
func CheckPrefix(prefix string) error {
	if !prefixRE.MatchString(prefix) || strings.Contains(prefix, "--") {
		return fmt.Errorf("invalid prefix %q: %s", prefix, PrefixRule)
	}
	for _, reserved := range []string{"sthree", "amzn-s3-demo", "goog"} {
		if strings.HasPrefix(prefix, reserved) {
			return fmt.Errorf("invalid prefix %q: bucket names may not start with %q; choose another prefix", prefix, reserved)
		}
	}
	return nil
}

// DefaultPrefix is the prefix of a pipeline's resource names when none is
// given: the pipeline's name with '_' as '-'.
func DefaultPrefix(pipeline string) string { return strings.ReplaceAll(pipeline, "_", "-") }
