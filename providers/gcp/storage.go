package gcp

import (
	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/compile"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// hintStorageClass is the one hint the compiler reads, on datasets: tasks
// have none yet.
const hintStorageClass = "gcp_storage_class"

var datasetHints = []string{hintStorageClass}

// StorageClass is a Cloud Storage class: a value of the gcp_storage_class
// hint.
type StorageClass string

// Cloud Storage classes that gcp_storage_class accepts.
const (
	ClassStandard StorageClass = "STANDARD"
	ClassNearline StorageClass = "NEARLINE"
	ClassColdline StorageClass = "COLDLINE"
	ClassArchive  StorageClass = "ARCHIVE"
)

// StorageClasses returns the values the gcp_storage_class hint accepts.
// Every class is read at once, without a restore, so any dataset may use
// any.
func StorageClasses() []StorageClass {
	return []StorageClass{ClassStandard, ClassNearline, ClassColdline, ClassArchive}
}

// minDays is how long Cloud Storage bills an object of each class at
// least: deleting or replacing it sooner costs the remaining days.
var minDays = map[StorageClass]int{ClassNearline: 30, ClassColdline: 90, ClassArchive: 365}

// accessClass is the class an access pattern asks for when no
// gcp_storage_class hint is given.
var accessClass = map[glacier.AccessPattern]StorageClass{
	"":                       ClassStandard,
	glacier.AccessFrequent:   ClassStandard,
	glacier.AccessInfrequent: ClassNearline,
	glacier.AccessArchive:    ClassArchive,
}

// bucketPlan is how one dataset's bucket is configured.
type bucketPlan struct {
	// Class is the bucket's default storage class, which every object
	// written to it takes.
	Class StorageClass
	// Versioning keeps replaced objects as noncurrent versions.
	Versioning bool
	// RetentionDays deletes the object this many days after it is written,
	// or, with versioning, noncurrent versions this many days after they
	// were replaced; zero keeps them.
	RetentionDays int
}

// planBucket decides d's bucket, with retention the days its lifecycle
// rule deletes the bucket's objects after
// (compile.Deployment.BucketRetentionDays), and reports what stops or
// weakens it. The billing warning counts retention_days itself, which
// also deletes retired versions.
func planBucket(d plan.Dataset, retention int, errorf, warnf func(format string, args ...any)) bucketPlan {
	class, known := compile.Class(d, hintStorageClass, accessClass, StorageClasses(), "a Cloud Storage class", errorf)
	s, _ := d.Object()
	bp := bucketPlan{Versioning: s.Versioning, RetentionDays: retention}
	if !known {
		return bp
	}
	bp.Class = class
	days, billed := minDays[class]
	switch {
	case !billed:
	case s.RetentionDays > 0 && s.RetentionDays < days:
		warnf("objects are deleted after %d days (retention_days), but Cloud Storage bills %s objects for at least %d days; "+
			"use a longer retention or the STANDARD class", s.RetentionDays, class, days)
	case d.Producer != "" && !s.Versioning:
		warnf("task %q replaces the object on every run, and Cloud Storage bills a replaced %s object for at least %d days; "+
			"if the pipeline runs more often, STANDARD costs less", d.Producer, class, days)
	}
	return bp
}
