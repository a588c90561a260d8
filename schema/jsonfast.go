package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The fast path validates JSON straight from its bytes for the subset of
// JSON Schema that flat records use: type, properties, required,
// additionalProperties (true or false), items, enum of strings, pattern,
// minLength, maxLength, minimum, maximum, exclusiveMinimum and
// exclusiveMaximum, and annotations. A schema using anything else is
// validated by the JSON Schema library alone, at its (slower) speed. The
// fuzz targets check that the two agree.

// kinds is a set of JSON kinds; integer is a number with no fraction.
type kinds uint8

const (
	kNull kinds = 1 << iota
	kBool
	kInt
	kNum
	kStr
	kObj
	kArr
)

var kindNames = []struct {
	k    kinds
	name string
}{{kNull, "null"}, {kBool, "boolean"}, {kInt, "integer"}, {kNum, "number"}, {kStr, "string"}, {kObj, "object"}, {kArr, "array"}}

func (k kinds) String() string {
	var names []string
	for _, kn := range kindNames {
		if k&kn.k != 0 {
			names = append(names, kn.name)
		}
	}
	return strings.Join(names, " or ")
}

// jnode is a compiled schema of the subset; nil accepts any value.
type jnode struct {
	kinds   kinds // 0: any kind
	enum    map[string]bool
	enumSrc []string
	re      *regexp.Regexp
	minLen  int // -1: none
	maxLen  int
	bounds  []bound
	props   map[string]int // property -> index in children
	names   []string
	child   []*jnode
	req     uint64 // required properties, by index
	noExtra bool
	items   *jnode
	hasItem bool
}

// bound is a minimum, maximum or exclusive one.
type bound struct {
	rat       *big.Rat
	f         float64 // exact when simple
	simple    bool    // the bound's text is short and has no exponent
	max, excl bool
	text      string
}

var annotations = []string{"$schema", "$comment", "title", "description", "examples", "default", "deprecated", "readOnly", "writeOnly"}

// fastSubset compiles doc into the subset, or returns nil if it uses
// anything beyond it.
func fastSubset(doc any) *jnode {
	if m, ok := doc.(map[string]any); ok {
		if s, ok := m["$schema"]; ok && s != "https://json-schema.org/draft/2020-12/schema" {
			return nil
		}
	}
	n, ok := compileNode(doc)
	if !ok {
		return nil
	}
	if n == nil {
		n = &jnode{minLen: -1, maxLen: -1}
	}
	return n
}

func compileNode(doc any) (*jnode, bool) {
	switch d := doc.(type) {
	case bool:
		return nil, d // false: rejects everything; left to the library
	case map[string]any:
		n := &jnode{minLen: -1, maxLen: -1}
		for k, v := range d {
			switch k {
			case "type":
				switch t := v.(type) {
				case string:
					k, ok := kindOf(t)
					if !ok {
						return nil, false
					}
					n.kinds |= k
				case []any:
					if len(t) == 0 {
						return nil, false
					}
					for _, e := range t {
						s, _ := e.(string)
						k, ok := kindOf(s)
						if !ok {
							return nil, false
						}
						n.kinds |= k
					}
				default:
					return nil, false
				}
			case "enum":
				list, ok := v.([]any)
				if !ok || len(list) == 0 {
					return nil, false
				}
				n.enum = map[string]bool{}
				for _, e := range list {
					s, ok := e.(string)
					if !ok {
						return nil, false
					}
					n.enum[s] = true
					n.enumSrc = append(n.enumSrc, s)
				}
			case "pattern":
				s, ok := v.(string)
				re, err := regexp.Compile(s)
				if !ok || err != nil {
					return nil, false
				}
				n.re = re
			case "minLength", "maxLength":
				num, ok := v.(json.Number)
				l, err := strconv.Atoi(string(num))
				if !ok || err != nil || l < 0 {
					return nil, false
				}
				if k == "minLength" {
					n.minLen = l
				} else {
					n.maxLen = l
				}
			case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
				num, ok := v.(json.Number)
				if !ok {
					return nil, false
				}
				r, ok := new(big.Rat).SetString(string(num))
				if !ok {
					return nil, false
				}
				b := bound{rat: r, max: strings.Contains(k, "aximum"), excl: strings.HasPrefix(k, "exclusive"), text: string(num)}
				if simpleNumber(num) {
					b.f, _ = strconv.ParseFloat(string(num), 64)
					b.simple = true
				}
				n.bounds = append(n.bounds, b)
			case "properties":
				props, ok := v.(map[string]any)
				if !ok {
					return nil, false
				}
				for _, name := range sortedKeys(props) {
					c, ok := compileNode(props[name])
					if !ok {
						return nil, false
					}
					n.addProp(name, c)
				}
			case "required":
				list, ok := v.([]any)
				if !ok {
					return nil, false
				}
				for _, e := range list {
					s, ok := e.(string)
					if !ok {
						return nil, false
					}
					i, known := n.props[s]
					if !known {
						i = n.addProp(s, nil)
					}
					if i >= 0 {
						n.req |= 1 << i
					}
				}
			case "additionalProperties":
				b, ok := v.(bool)
				if !ok {
					return nil, false
				}
				n.noExtra = !b
			case "items":
				c, ok := compileNode(v)
				if !ok {
					return nil, false
				}
				n.items, n.hasItem = c, true
			default:
				if !slices.Contains(annotations, k) {
					return nil, false
				}
			}
		}
		// Keys are read in map order, so a property named in required
		// before properties may have been added without its schema.
		if len(n.names) > 64 {
			return nil, false
		}
		return n, true
	}
	return nil, false
}

// addProp adds a property and returns its index, or -1 past 64.
func (n *jnode) addProp(name string, c *jnode) int {
	if n.props == nil {
		n.props = map[string]int{}
	}
	if i, ok := n.props[name]; ok {
		if c != nil {
			n.child[i] = c
		}
		return i
	}
	n.props[name] = len(n.names)
	n.names = append(n.names, name)
	n.child = append(n.child, c)
	if len(n.names) > 64 {
		return -1
	}
	return len(n.names) - 1
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func kindOf(t string) (kinds, bool) {
	for _, kn := range kindNames {
		if kn.name == t {
			return kn.k, true
		}
	}
	return 0, false
}

// simpleNumber reports whether a number's text is short and has no
// exponent: such numbers convert to distinct float64s in the same order.
func simpleNumber[T ~string | ~[]byte](s T) bool {
	if len(s) > 15 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 'e' || s[i] == 'E' {
			return false
		}
	}
	return true
}

// jscan validates one JSON value against a jnode.
type jscan struct {
	b    []byte
	i    int
	sbuf []byte // a string value with escapes, decoded
	kbuf []byte // a key with escapes, decoded
}

// jerr is a violation inside a JSON value; path is built innermost first.
type jerr struct {
	path []string
	rule string
}

// check validates b, one whole JSON value, and returns the JSON Pointer of
// the field at fault and the rule it breaks, or "" and "".
func (s *jscan) check(n *jnode, b []byte) (string, string) {
	if !utf8.Valid(b) {
		return "", "the record is not UTF-8 text"
	}
	s.b, s.i = b, 0
	s.ws()
	e := s.value(n)
	if e == nil {
		s.ws()
		if s.i < len(s.b) {
			e = s.syntax("data after the JSON value")
		}
	}
	s.b = nil
	if e == nil {
		return "", ""
	}
	var path strings.Builder
	for i := len(e.path) - 1; i >= 0; i-- {
		path.WriteByte('/')
		path.WriteString(strings.ReplaceAll(strings.ReplaceAll(e.path[i], "~", "~0"), "/", "~1"))
	}
	return path.String(), e.rule
}

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jscan) syntax(what string) *jerr {
	if s.i >= len(s.b) {
		return &jerr{rule: "the record is not valid JSON: it ends in the middle of a value"}
	}
	return &jerr{rule: fmt.Sprintf("the record is not valid JSON: %s at byte %d", what, s.i+1)}
}

func wrong(n *jnode, got string) *jerr {
	return &jerr{rule: fmt.Sprintf("got %s, want %s", got, n.kinds)}
}

func (s *jscan) value(n *jnode) *jerr {
	if s.i >= len(s.b) {
		return s.syntax("")
	}
	switch c := s.b[s.i]; {
	case c == '{':
		if n != nil && n.kinds != 0 && n.kinds&kObj == 0 {
			return wrong(n, "object")
		}
		if n != nil && n.enum != nil {
			return notEnum(n)
		}
		return s.object(n)
	case c == '[':
		if n != nil && n.kinds != 0 && n.kinds&kArr == 0 {
			return wrong(n, "array")
		}
		if n != nil && n.enum != nil {
			return notEnum(n)
		}
		return s.array(n)
	case c == '"':
		v, e := s.str(&s.sbuf)
		if e != nil {
			return e
		}
		return n.checkString(v)
	case c == 't' || c == 'f' || c == 'n':
		k, e := s.literal()
		if e != nil {
			return e
		}
		if n != nil && n.kinds != 0 && n.kinds&k == 0 {
			return wrong(n, k.String())
		}
		if n != nil && n.enum != nil {
			return notEnum(n)
		}
		return nil
	case c == '-' || c >= '0' && c <= '9':
		num, e := s.number()
		if e != nil {
			return e
		}
		return n.checkNumber(num)
	}
	return s.syntax(fmt.Sprintf("unexpected %s", quote(s.b[s.i:s.i+1])))
}

func notEnum(n *jnode) *jerr {
	return &jerr{rule: fmt.Sprintf("the value is not one of the enum values %s", enumList(n.enumSrc))}
}

func enumList(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = strconv.Quote(v)
	}
	if len(q) > 8 {
		q = append(q[:8], "...")
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func (s *jscan) literal() (kinds, *jerr) {
	for _, lit := range []struct {
		text string
		k    kinds
	}{{"true", kBool}, {"false", kBool}, {"null", kNull}} {
		if bytes.HasPrefix(s.b[s.i:], []byte(lit.text)) {
			s.i += len(lit.text)
			if !s.delimited() {
				return 0, s.syntax("an unknown literal")
			}
			return lit.k, nil
		}
	}
	return 0, s.syntax(fmt.Sprintf("unexpected %s", quote(s.b[s.i:s.i+1])))
}

func (s *jscan) object(n *jnode) *jerr {
	s.i++ // {
	s.ws()
	var seen uint64
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return n.missing(seen)
	}
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.syntax("expected a quoted field name")
		}
		kstart := s.i
		key, e := s.str(&s.kbuf)
		if e != nil {
			return e
		}
		kend := s.i
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.syntax("expected ':' after a field name")
		}
		s.i++
		s.ws()
		var child *jnode
		if n != nil && n.props != nil {
			if k, ok := n.props[string(key)]; ok {
				if k < 64 {
					if seen&(1<<k) != 0 {
						return &jerr{rule: fmt.Sprintf("field %s is given twice", quote(key))}
					}
					seen |= 1 << k
				}
				child = n.child[k]
			} else if n.noExtra {
				return &jerr{rule: fmt.Sprintf("field %s is not allowed: the schema sets additionalProperties to false and lists %s", quote(key), enumList(n.names))}
			}
		} else if n != nil && n.noExtra {
			return &jerr{rule: fmt.Sprintf("field %s is not allowed: the schema sets additionalProperties to false and lists none", quote(key))}
		}
		if e := s.value(child); e != nil {
			if !strings.HasPrefix(e.rule, "the record is not valid JSON") {
				e.path = append(e.path, s.keyAt(kstart, kend))
			}
			return e
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.syntax("")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			return n.missing(seen)
		default:
			return s.syntax("expected ',' or '}' in an object")
		}
	}
}

// keyAt decodes the key at b[a:b] again, for a violation's path.
func (s *jscan) keyAt(a, b int) string {
	var k string
	if err := json.Unmarshal(s.b[a:b], &k); err != nil {
		return string(s.b[a+1 : b-1])
	}
	return k
}

// missing reports the first required property not seen.
func (n *jnode) missing(seen uint64) *jerr {
	if n == nil || n.req&^seen == 0 {
		return nil
	}
	for i, name := range n.names {
		if n.req&(1<<i) != 0 && seen&(1<<i) == 0 {
			return &jerr{rule: fmt.Sprintf("required field %q is missing", name)}
		}
	}
	return nil
}

func (s *jscan) array(n *jnode) *jerr {
	s.i++ // [
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	var item *jnode
	if n != nil {
		item = n.items
	}
	for k := 0; ; k++ {
		if e := s.value(item); e != nil {
			if !strings.HasPrefix(e.rule, "the record is not valid JSON") {
				e.path = append(e.path, strconv.Itoa(k))
			}
			return e
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.syntax("")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.ws()
		case ']':
			s.i++
			return nil
		default:
			return s.syntax("expected ',' or ']' in an array")
		}
	}
}

// str reads a string, decoding escapes into *buf when there are any, as
// encoding/json does (a lone surrogate becomes U+FFFD).
func (s *jscan) str(buf *[]byte) ([]byte, *jerr) {
	s.i++ // "
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			v := s.b[start:s.i]
			s.i++
			return v, nil
		}
		if c == '\\' {
			return s.strEscaped(start, buf)
		}
		if c < 0x20 {
			return nil, s.syntax("a control character inside a string")
		}
		s.i++
	}
	return nil, s.syntax("")
}

func (s *jscan) strEscaped(start int, buf *[]byte) ([]byte, *jerr) {
	out := append((*buf)[:0], s.b[start:s.i]...)
	defer func() { *buf = out[:0] }()
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return out, nil
		case c < 0x20:
			return nil, s.syntax("a control character inside a string")
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return nil, s.syntax("")
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, s.syntax("a bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				// A pair, or a lone surrogate read as U+FFFD.
				if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					save := s.i
					s.i += 2
					r2, ok := s.hex4()
					if !ok {
						return nil, s.syntax("a bad \\u escape")
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
					} else {
						s.i = save
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			s.i -= 1
			return nil, s.syntax(fmt.Sprintf("a bad escape \\%s", quote([]byte{e})[1:len(quote([]byte{e}))-1]))
		}
	}
	return nil, s.syntax("")
}

func (s *jscan) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		s.i = len(s.b)
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	s.i += 4
	return r, true
}

// number reads a number as JSON's grammar has it and returns its text.
func (s *jscan) number() ([]byte, *jerr) {
	start := s.i
	if s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
	default:
		return nil, s.syntax("a malformed number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		d := s.i
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
		if s.i == d {
			return nil, s.syntax("a malformed number")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		d := s.i
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
		if s.i == d {
			return nil, s.syntax("a malformed number")
		}
	}
	if !s.delimited() {
		return nil, s.syntax("a malformed number")
	}
	return s.b[start:s.i], nil
}

// delimited reports whether a number or literal ends where it should.
func (s *jscan) delimited() bool {
	if s.i == len(s.b) {
		return true
	}
	switch s.b[s.i] {
	case ' ', '\t', '\r', '\n', ',', ']', '}':
		return true
	}
	return false
}

func (n *jnode) checkString(v []byte) *jerr {
	if n == nil {
		return nil
	}
	if n.kinds != 0 && n.kinds&kStr == 0 {
		return wrong(n, "string")
	}
	if n.enum != nil && !n.enum[string(v)] {
		return &jerr{rule: fmt.Sprintf("%s is not one of the enum values %s", quote(v), enumList(n.enumSrc))}
	}
	if n.minLen >= 0 || n.maxLen >= 0 {
		l := utf8.RuneCount(v)
		if n.minLen >= 0 && l < n.minLen {
			return &jerr{rule: fmt.Sprintf("%s is %d characters long, shorter than minLength %d", quote(v), l, n.minLen)}
		}
		if n.maxLen >= 0 && l > n.maxLen {
			return &jerr{rule: fmt.Sprintf("%s is %d characters long, longer than maxLength %d", quote(v), l, n.maxLen)}
		}
	}
	if n.re != nil && !n.re.Match(v) {
		return &jerr{rule: fmt.Sprintf("%s does not match pattern %q", quote(v), n.re.String())}
	}
	return nil
}

func (n *jnode) checkNumber(num []byte) *jerr {
	if n == nil {
		return nil
	}
	if n.enum != nil {
		return notEnum(n)
	}
	var rat *big.Rat
	asRat := func() *big.Rat {
		if rat == nil {
			rat, _ = new(big.Rat).SetString(string(num))
		}
		return rat
	}
	if n.kinds != 0 && n.kinds&kNum == 0 {
		integral := !bytes.ContainsAny(num, ".eE") || asRat().IsInt()
		if n.kinds&kInt == 0 || !integral {
			got := "number"
			if integral {
				got = "integer"
			}
			return wrong(n, got)
		}
	}
	if len(n.bounds) == 0 {
		return nil
	}
	simple := simpleNumber(num)
	var f float64
	if simple {
		f, _ = strconv.ParseFloat(string(num), 64)
	}
	for _, b := range n.bounds {
		var c int
		if simple && b.simple {
			switch {
			case f < b.f:
				c = -1
			case f > b.f:
				c = 1
			}
		} else {
			c = asRat().Cmp(b.rat)
		}
		var broken bool
		var word string
		switch {
		case b.max && b.excl:
			broken, word = c >= 0, "exclusiveMaximum"
		case b.max:
			broken, word = c > 0, "maximum"
		case b.excl:
			broken, word = c <= 0, "exclusiveMinimum"
		default:
			broken, word = c < 0, "minimum"
		}
		if broken {
			return &jerr{rule: fmt.Sprintf("%s breaks %s %s", num, word, b.text)}
		}
	}
	return nil
}
