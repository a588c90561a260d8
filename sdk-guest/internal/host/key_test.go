package host

import (
	"strconv"
	"strings"
	"testing"

	"github.com/glacier-pipeline/glacier/abi"
)

func TestCheckKey(t *testing.T) {
	for _, key := range []string{
		"a", "2026-12-01.log", "eu/2026/12.csv", "a b/c d", "é/日本", ".hidden", "a..b", "...",
		strings.Repeat("k", abi.MaxKeyLen),
		strings.Repeat("é", abi.MaxKeyLen/2),
	} {
		if err := CheckKey(key); err != nil {
			t.Errorf("CheckKey(%q) = %v, want nil", key, err)
		}
	}
	for key, says := range map[string]string{
		"":                                   "the part key is empty",
		strings.Repeat("k", abi.MaxKeyLen+1): "the part key is 513 bytes long, over the limit of 512",
		"a\xffb":                             "the part key is not valid UTF-8",
		"a\nb":                               "the part key holds the control character U+000A",
		"a\x00":                              "the part key holds the control character U+0000",
		"a\x7f":                              "the part key holds the control character U+007F",
		"a\u0085":                            "the part key holds the control character U+0085",
		`a\b`:                                `the part key holds '\'`,
		"/a":                                 "the part key has an empty segment",
		"a/":                                 "the part key has an empty segment",
		"a//b":                               "the part key has an empty segment",
		".":                                  `the part key has a segment "."`,
		"a/./b":                              `the part key has a segment "."`,
		"../a":                               `the part key has a segment ".."`,
	} {
		err := CheckKey(key)
		if err == nil || err.Error() != says+"; "+KeyRule {
			t.Errorf("CheckKey(%q) = %v, want %q and the rule", key, err, says)
		}
	}
}

func TestKeyRuleStatesTheLimit(t *testing.T) {
	if !strings.Contains(KeyRule, " 1 to "+strconv.Itoa(abi.MaxKeyLen)+" bytes") {
		t.Errorf("KeyRule does not state abi.MaxKeyLen (%d): %s", abi.MaxKeyLen, KeyRule)
	}
}

func TestQuoteKey(t *testing.T) {
	if got := QuoteKey("a\"b"); got != `"a\"b"` {
		t.Errorf("QuoteKey = %s", got)
	}
	long := strings.Repeat("k", abi.MaxKeyLen+1)
	if got, want := QuoteKey(long), strconv.Quote(long[:40])+"..."; got != want {
		t.Errorf("QuoteKey(a long key) = %s, want %s", got, want)
	}
}
