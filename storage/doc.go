// Package storage is how the sandbox reaches datasets, apart from any
// backend: the interface the host functions read and write through
// (Datasets, Staged), the driver interface each backend implements
// (Driver), and the URL mux that hands a dataset's URL to the driver of its
// scheme (URLMux, DefaultURLMux, URLs). It follows gocloud.dev/blob: a
// portable layer that does once what every backend needs, drivers beneath
// it that rely on what it guarantees, one package per driver.
//
// # URLs
//
// A dataset's object is named by a URL whose scheme picks its driver:
//
//	file:///data/orders          storage/filestore
//	s3://bucket/runs/42/orders   providers/aws/s3store
//	gs://bucket/runs/42/orders   providers/gcp/gcsstore
//
// Importing a driver package registers its scheme on DefaultURLMux, so a
// program serves the schemes of the drivers it imports:
//
//	import _ "github.com/glacier-pipeline/glacier/providers/aws/s3store"
//
//	ds := storage.URLs{"orders": "s3://bucket/runs/42/orders"}
//
// The sandbox's worker imports storage/filestore, so "file" is always
// served. An input's URL may carry the digest its bytes must have
// (WithDigest), whatever its scheme.
//
// # What the portable layer guarantees
//
// URLMux parses each URL once, checks any digest fragment and hands the
// driver the URL without it; it verifies the bytes of an input read with a
// digest; it enforces an output's life (writes only before the end, at
// most one Commit or Discard, nothing committed once the context given to
// Stage or to Commit is done); and it wraps every driver error once with what was
// done and to which URL. Drivers rely on all of that and do none of it.
//
// # Errors
//
// An input with no version gives an error matching ErrNotFound; bytes that
// differ from the URL's digest, ErrCorrupt. A bucket that does not exist is
// a deployment fault, not a missing version: its error names the bucket and
// never matches ErrNotFound. It, and a request the caller may not make,
// match ErrPermanent, as no retry fixes them.
//
// # Conditional writes
//
// A store that several executions write at once commits with conditional
// writes (Conditional, URLMux.StageIf): an output committed only if the
// object is still at the generation its writer read (Stat), or does not
// exist yet. Of writers racing from one generation exactly one commits;
// the others get ErrPrecondition and leave nothing. docs/storage.md says
// how each driver does it.
package storage
