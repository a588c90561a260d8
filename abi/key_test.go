package abi_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/glacier-pipeline/glacier/abi"
)

func TestCheckKey(t *testing.T) {
	for _, key := range []string{
		"a", "2026-12-01.log", "eu/2026/12.csv", "a b/c d", "é/日本", ".hidden", "a..b", "...",
		strings.Repeat("k", abi.MaxKeyLen),
		strings.Repeat("é", abi.MaxKeyLen/2),
	} {
		if err := abi.CheckKey(key); err != nil {
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
		err := abi.CheckKey(key)
		if err == nil || err.Error() != says+"; "+abi.KeyRule {
			t.Errorf("CheckKey(%q) = %v, want %q and the rule", key, err, says)
		}
	}
}

func TestKeyRuleStatesTheLimit(t *testing.T) {
	if !strings.Contains(abi.KeyRule, " 1 to "+strconv.Itoa(abi.MaxKeyLen)+" bytes") {
		t.Errorf("KeyRule does not state MaxKeyLen (%d): %s", abi.MaxKeyLen, abi.KeyRule)
	}
}

func TestQuoteKey(t *testing.T) {
	if got := abi.QuoteKey("a\"b"); got != `"a\"b"` {
		t.Errorf("QuoteKey = %s", got)
	}
	long := strings.Repeat("k", abi.MaxKeyLen+1)
	if got, want := abi.QuoteKey(long), strconv.Quote(long[:40])+"..."; got != want {
		t.Errorf("QuoteKey(a long key) = %s, want %s", got, want)
	}
}

// FuzzCheckKey checks that a key CheckKey accepts is safe as a
// relative path and an object name: UTF-8, bounded, no control character,
// and no segment that is empty, "." or "..".
func FuzzCheckKey(f *testing.F) {
	for _, s := range []string{"a", "a/b", "../x", "a//b", "a\x00", "é", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if abi.CheckKey(key) != nil {
			return
		}
		if key == "" || len(key) > abi.MaxKeyLen || !utf8.ValidString(key) {
			t.Fatalf("accepted %q", key)
		}
		for _, r := range key {
			if r < 0x20 || r == 0x7f || r == '\\' {
				t.Fatalf("accepted %q with %U", key, r)
			}
		}
		for _, seg := range strings.Split(key, "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("accepted %q with segment %q", key, seg)
			}
		}
		if filepath.IsAbs(key) || !filepath.IsLocal(filepath.FromSlash(key)) {
			t.Fatalf("accepted %q, which is not a local relative path", key)
		}
	})
}

// TestPartKeys: no key of one output may be the folder of another, in
// either order; siblings and a folder's own name elsewhere are fine.
func TestPartKeys(t *testing.T) {
	var s abi.PartKeys
	for _, k := range []string{"2026-01-01.csv", "b/c/d", "b/e", "bc", "b.c"} {
		if err := s.Add(k); err != nil {
			t.Errorf("Add(%q): %v", k, err)
		}
	}
	for k, want := range map[string]string{
		"2026-01-01.csv/x": `would lie inside part "2026-01-01.csv"`,
		"b":                `part "b" is the folder of a part already written`,
		"b/c":              `part "b/c" is the folder of a part already written`,
		"b/e/f":            `would lie inside part "b/e"`,
	} {
		err := s.Add(k)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Add(%q) = %v, want an error saying %s", k, err, want)
		}
	}
}
