package storage

import (
	"context"
	"io"
	"net/url"
)

// Driver serves the objects of one URL scheme ("file", "s3", "gs") for a
// URLMux. A driver package implements it and registers it on DefaultURLMux
// from init; programs use it through URLs or a URLMux, never directly.
//
// The URLMux calls a driver only with a URL it has parsed, whose scheme is
// the one the driver was registered for and which carries no fragment.
// Drivers must not modify it. A Driver must be safe for concurrent use.
//
// Errors need not name the URL or the operation: the URLMux wraps each one
// with both.
type Driver interface {
	// Open returns a stream of the object at u, read as the caller reads.
	//
	// If the object does not exist, Open must return an error matching
	// ErrNotFound. If the bucket (or other container the driver's URLs name)
	// does not exist, Open must return an error that names it and does not
	// match ErrNotFound: that is a deployment fault, not a dataset without a
	// version. If u does not name an object the driver can serve, Open must
	// return an error that says what is wrong with it.
	Open(ctx context.Context, u *url.URL) (io.ReadCloser, error)

	// Stage starts writing the object at u. Nothing of the bytes written to
	// the returned Staged may become visible to any reader, whole or in
	// part, before its Commit returns nil; after its Discard or a failed
	// Commit, nothing of them may stay visible and the object's previous
	// version, if any, must be intact. Memory held by a Staged must stay
	// bounded whatever the output's size.
	//
	// The URLMux guarantees that Write is called only before Commit or
	// Discard, that at most one of them is called, once, and that Commit
	// is called only while both the context given to Stage and the one
	// given to Commit are live. A driver may work in the background
	// until Commit returns, bounded by the context given to Stage. If
	// Commit fails, the driver has dropped what it staged by the time it
	// returns; nothing more is called.
	//
	// If the bucket does not exist, Stage, Write or Commit must return an
	// error that names it and does not match ErrNotFound. If u does not name an
	// object the driver can write, Stage must say what is wrong with it.
	Stage(ctx context.Context, u *url.URL) (Staged, error)
}
