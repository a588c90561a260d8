package gcp

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/glacier-pipeline/glacier"
	"github.com/glacier-pipeline/glacier/providers/internal/compile/compiletest"
)

func TestStorage(t *testing.T) {
	hint := func(class string) glacier.Hints { return glacier.Hints{"gcp_storage_class": class} }
	tests := []struct {
		name  string
		out   glacier.ObjectStorage
		want  bucketPlan
		errs  []string
		warns []string
	}{
		{name: "standard", want: bucketPlan{Class: ClassStandard}},
		{name: "access patterns", out: glacier.ObjectStorage{AccessPattern: glacier.AccessInfrequent, Versioning: true},
			want: bucketPlan{Class: ClassNearline, Versioning: true}},
		{name: "archive", out: glacier.ObjectStorage{AccessPattern: glacier.AccessArchive, Versioning: true, RetentionDays: 400},
			want: bucketPlan{Class: ClassArchive, Versioning: true, RetentionDays: 400}},
		{name: "hint beats access pattern", out: glacier.ObjectStorage{AccessPattern: glacier.AccessArchive, Hints: hint("STANDARD")},
			want: bucketPlan{Class: ClassStandard}},
		{name: "not a class", out: glacier.ObjectStorage{Hints: hint("nearline")},
			errs: []string{`dataset "out": gcp_storage_class "nearline" is not a Cloud Storage class; use one of STANDARD, NEARLINE, COLDLINE, ARCHIVE`}},
		{name: "deleted before the minimum", out: glacier.ObjectStorage{Hints: hint("COLDLINE"), RetentionDays: 7, Versioning: true},
			want:  bucketPlan{Class: ClassColdline, RetentionDays: 7, Versioning: true},
			warns: []string{`dataset "out": objects are deleted after 7 days (retention_days), but Cloud Storage bills COLDLINE objects for at least 90 days`}},
		{name: "replaced on every run", out: glacier.ObjectStorage{Hints: hint("NEARLINE")},
			want:  bucketPlan{Class: ClassNearline},
			warns: []string{`dataset "out": task "clean" replaces the object on every run, and Cloud Storage bills a replaced NEARLINE object for at least 30 days`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			dep, probs := designFor(t, pipeline(t, dir, glacier.Serverless{}, tt.out), Options{Dir: dir})
			errs, warns := compiletest.Problems(probs)
			compiletest.AssertProblems(t, errs, tt.errs)
			compiletest.AssertProblems(t, warns, tt.warns)
			if len(tt.errs) == 0 {
				assert.Equal(t, tt.want, dep.Datasets[1].Bucket)
			}
		})
	}
}
