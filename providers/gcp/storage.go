package gcp

import (
	"slices"
	"strings"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/plan"
)

// Cloud Storage classes that gcp_storage_class accepts.
const (
	classStandard = "STANDARD"
	classNearline = "NEARLINE"
	classColdline = "COLDLINE"
	classArchive  = "ARCHIVE"
)

// StorageClasses are the values the gcp_storage_class hint accepts. Every
// class is read at once, without a restore, so any dataset may use any.
var StorageClasses = []string{classStandard, classNearline, classColdline, classArchive}

// minDays is how long Cloud Storage bills an object of each class at
// least: deleting or replacing it sooner costs the remaining days.
var minDays = map[string]int{classNearline: 30, classColdline: 90, classArchive: 365}

// accessClass is the class an access pattern asks for when no
// gcp_storage_class hint is given.
var accessClass = map[glacier.AccessPattern]string{
	"":                       classStandard,
	glacier.AccessFrequent:   classStandard,
	glacier.AccessInfrequent: classNearline,
	glacier.AccessArchive:    classArchive,
}

// bucketPlan is how one dataset's bucket is configured.
type bucketPlan struct {
	// Class is the bucket's default storage class, which every object
	// written to it takes.
	Class string
	// Versioning keeps replaced objects as noncurrent versions.
	Versioning bool
	// RetentionDays deletes the object this many days after it is written,
	// or, with versioning, noncurrent versions this many days after they
	// were replaced; zero keeps them.
	RetentionDays int
}

// planBucket decides d's bucket and reports what stops or weakens it.
func planBucket(d plan.Dataset, errorf, warnf func(format string, args ...any)) bucketPlan {
	s, _ := d.Object()
	bp := bucketPlan{Versioning: s.Versioning, RetentionDays: s.RetentionDays}
	class := d.Class(hintStorageClass, accessClass)
	if !slices.Contains(StorageClasses, class) {
		errorf("gcp_storage_class %q is not a Cloud Storage class; use one of %s", class, strings.Join(StorageClasses, ", "))
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
