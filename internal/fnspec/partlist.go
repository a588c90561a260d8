package fnspec

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Part is one part of a partitioned dataset's version: its key and the
// version of its bytes.
type Part struct {
	Key string `json:"key"`
	Version
}

// A partitioned version is an object like any other, holding its parts
// sorted by key, so it is named by its digest, two versions differ exactly
// in the parts that changed, and an unchanged part costs nothing to keep.
// Every target writes the same bytes for the same parts, so a version
// made by one is the version every other makes.

// WritePartList writes the partitioned version of parts, which must be
// sorted by key, part by part rather than whole in memory: the bytes
// json.Marshal makes of {"parts": parts}.
func WritePartList(w io.Writer, parts []Part) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(`{"parts":[`)
	for i, p := range parts {
		if i > 0 {
			bw.WriteByte(',')
		}
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		bw.Write(b)
	}
	bw.WriteString("]}")
	return bw.Flush()
}

// isHexDigest reports whether s is a hex SHA-256, as the store names
// versions: 64 lower-case hex digits.
func isHexDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// SortParts sorts parts by key.
func SortParts(parts []Part) {
	slices.SortFunc(parts, func(a, b Part) int { return strings.Compare(a.Key, b.Key) })
}

// ReadPartList parses a partitioned version's bytes, checking every key,
// that they are sorted and unique, and that every digest is hex.
func ReadPartList(data []byte) ([]Part, error) {
	var l struct {
		Parts []Part `json:"parts"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("not a list of parts: %w", err)
	}
	if err := CheckParts(l.Parts); err != nil {
		return nil, err
	}
	return l.Parts, nil
}

// CheckParts checks what a partitioned version holds: every key valid,
// sorted and unique, every digest hex.
func CheckParts(parts []Part) error {
	for i, p := range parts {
		if !isHexDigest(p.Digest) {
			return fmt.Errorf("part %.200q: %q is not a hex SHA-256", p.Key, p.Digest)
		}
		prev := ""
		if i > 0 {
			prev = parts[i-1].Key
		}
		if err := checkKey(i, p.Key, prev); err != nil {
			return err
		}
	}
	return nil
}
