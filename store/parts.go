package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/glacier-pipeline/glacier/internal/fnspec"
	"github.com/glacier-pipeline/glacier/storage"
)

// Partitioned datasets.
//
// A partitioned version is an object like any other: its part list
// (fnspec.WritePartList), naming each part's version, which is an object
// of the same dataset. Refs, memo entries and source records name the
// list's version, so a task's commit covers all of its parts at once, and
// an unchanged part costs nothing to keep. The stable name holds the
// current parts as an outside reader (and Step Functions' Distributed Map)
// reads them: a JSON array of fnspec.PartEntry, each naming its object.

// maxPartList bounds a part list the store reads: 100,000 parts of the
// longest keys fit.
const maxPartList = 64 << 20

// PartStagingURL returns where run runID's task stages part key of
// partitioned output dataset, to be adopted with Adopt once written.
func (s *Store) PartStagingURL(runID, task, dataset, key string) string {
	return join(s.root(dataset), PartStagingName(runID, task, dataset, key))
}

// PartStagingPrefixURL returns the folder under which run runID's task
// stages the parts of partitioned output dataset.
func (s *Store) PartStagingPrefixURL(runID, task, dataset string) string {
	return join(s.root(dataset), PartStagingPrefix(runID, task, dataset))
}

// PutParts makes parts, each a version of dataset already, a partitioned
// version of dataset, and returns it; runID's task stages it. parts may
// be in any order; a key given twice is refused.
func (s *Store) PutParts(ctx context.Context, runID, task, dataset string, parts []fnspec.Part) (Version, error) {
	parts = slices.Clone(parts)
	fnspec.SortParts(parts)
	if err := fnspec.CheckParts(parts); err != nil {
		return Version{}, fmt.Errorf("dataset %q: %w", dataset, err)
	}
	var buf bytes.Buffer
	if err := fnspec.WritePartList(&buf, parts); err != nil {
		return Version{}, err
	}
	sum := sha256.Sum256(buf.Bytes())
	v := Version{Digest: hex.EncodeToString(sum[:]), Size: int64(buf.Len())}
	return v, s.PutObject(ctx, runID, task, dataset, v, &buf)
}

// Parts returns the parts of partitioned version v of dataset, checked
// against its digest.
func (s *Store) Parts(ctx context.Context, dataset string, v Version) ([]fnspec.Part, error) {
	if !hexDigest.MatchString(v.Digest) {
		return nil, fmt.Errorf("version %q of dataset %q is not a hex SHA-256", v.Digest, dataset)
	}
	return s.readParts(ctx, dataset, v, s.objectURL(dataset, v))
}

// RetiredParts returns the parts of retired partitioned version v of
// dataset, checked against its digest; ok is false if v is not retired.
func (s *Store) RetiredParts(ctx context.Context, dataset string, v Version) (parts []fnspec.Part, ok bool, err error) {
	if !hexDigest.MatchString(v.Digest) {
		return nil, false, fmt.Errorf("version %q of dataset %q is not a hex SHA-256", v.Digest, dataset)
	}
	// A read checked by digest reports a missing object as corrupt, so
	// absence is asked first.
	u := s.RetiredURL(dataset, v)
	if _, err := s.mux.Stat(ctx, u); errors.Is(err, storage.ErrNotFound) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	parts, err = s.readParts(ctx, dataset, v, u)
	return parts, err == nil, err
}

// readParts reads the part list at u, version v of dataset.
func (s *Store) readParts(ctx context.Context, dataset string, v Version, u string) ([]fnspec.Part, error) {
	if v.Size > maxPartList {
		return nil, fmt.Errorf("dataset %q: its part list %s is over %d MiB", dataset, v.Digest, maxPartList>>20)
	}
	rc, err := s.mux.Open(ctx, storage.WithDigest(u, v.Digest, v.Size))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	parts, err := fnspec.ReadPartList(data)
	if err != nil {
		return nil, fmt.Errorf("dataset %q, version %s: %w: %w", dataset, v.Digest, err, storage.ErrCorrupt)
	}
	return parts, nil
}

// PublishParts writes parts, the current version of partitioned dataset,
// at its stable name, as a list of fnspec.PartEntry naming each part's
// object relative to the stable name's folder.
func (s *Store) PublishParts(ctx context.Context, dataset string, parts []fnspec.Part) error {
	if err := checkName("dataset", dataset); err != nil {
		return err
	}
	entries := make([]fnspec.PartEntry, len(parts))
	for i, p := range parts {
		entries[i] = fnspec.PartEntry{Key: p.Key, Object: ObjectName(p.Digest), Size: p.Size, SHA256: p.Digest}
	}
	data, err := fnspec.EncodeParts(entries)
	if err != nil {
		return fmt.Errorf("dataset %q: %w", dataset, err)
	}
	return s.writeBytes(ctx, s.StableURL(dataset), data)
}
